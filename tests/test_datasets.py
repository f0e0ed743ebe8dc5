"""Tests for app.datasets: generators, tables, CSV uploads and the build_dataset pipeline."""

import numpy as np
import pytest

from app.datasets import DATASETS, FEATURES, Dataset, Limits, build_dataset, inline_dataset
from app.datasets import generators, tables
from app.datasets.csv_upload import parse_csv
from app.engine.errors import FieldError

GENERATED = ["circle", "xor", "gauss", "spiral", "plane", "multi-gauss", "moons", "sine"]
CLASSIFIERS = ["circle", "xor", "gauss", "spiral", "moons"]


def field_error(field, fn, *args, **kwargs):
    """Call fn, expect a FieldError for `field`, and return it."""
    with pytest.raises(FieldError) as info:
        fn(*args, **kwargs)
    assert info.value.field == field, info.value.message
    assert info.value.message and str(info.value) == info.value.message
    return info.value


def all_arrays(d):
    return [d.train_x, d.train_y, d.test_x, d.test_y, d.raw_train_x, d.raw_test_x]


def all_raw(d):
    return np.concatenate([d.raw_train_x, d.raw_test_x])


def all_labels(d):
    return np.concatenate([d.train_labels, d.test_labels])


def upload(text, targets=("y",), task="regression", **limits):
    caps = dict(max_bytes=1_000_000, max_columns=64, max_rows=5000) | limits
    return parse_csv(text, list(targets), task, **caps)


# ---------------------------------------------------------------------------------------------
# registry


def test_registry_names_and_metadata():
    assert list(DATASETS) == ["circle", "xor", "gauss", "spiral", "plane", "multi-gauss", "moons", "sine",
                              "xor-table", "mazur", "chain-rule", "test-score", "house-price", "iris", "csv"]
    assert DATASETS["moons"].title == "Two moons"
    assert {n for n, i in DATASETS.items() if i.symmetric_targets} == {"plane", "multi-gauss", "sine"}
    assert {n for n, i in DATASETS.items() if i.takes_features} == {
        "circle", "xor", "gauss", "spiral", "plane", "multi-gauss", "moons"}
    assert DATASETS["iris"].classes == ("setosa", "versicolor", "virginica")
    assert DATASETS["iris"].dims == 4 and DATASETS["sine"].dims == 1
    assert all(not DATASETS[n].fixed and DATASETS[n].default_samples == 500 for n in GENERATED)
    assert DATASETS["iris"].default_train_fraction == 0.7 and DATASETS["csv"].default_train_fraction == 0.8
    assert set(FEATURES) == {"x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"}


def test_unknown_dataset_name():
    e = field_error("dataset.name", build_dataset, "nope")
    assert "Unknown dataset 'nope'" in e.message and "circle" in e.message and "iris" in e.message
    e = field_error("dataset.name", build_dataset, "<img src=x onerror=alert(1)>")
    assert "<" not in e.message and ">" not in e.message
    field_error("dataset.name", build_dataset, None)


# ---------------------------------------------------------------------------------------------
# determinism, sizes and splits


@pytest.mark.parametrize("name", GENERATED)
def test_same_seed_is_bit_identical_and_other_seed_differs(name):
    a = build_dataset(name, seed=7, noise=0.2)
    b = build_dataset(name, seed=7, noise=0.2)
    c = build_dataset(name, seed=8, noise=0.2)
    for x, y in zip(all_arrays(a), all_arrays(b)):
        assert x.dtype == np.float64 and x.tobytes() == y.tobytes()
    assert not np.array_equal(a.raw_train_x, c.raw_train_x)


@pytest.mark.parametrize("name", ["iris", "csv"])
def test_tables_shuffle_by_seed(name):
    text = "a,b,y\n" + "".join(f"{i},{i * i},{i % 3}\n" for i in range(40))
    kwargs = dict(csv=text, target_columns=["y"]) if name == "csv" else dict(output_size=3)
    a, b, c = (build_dataset(name, seed=s, **kwargs) for s in (3, 3, 4))
    assert a.raw_train_x.tobytes() == b.raw_train_x.tobytes()
    assert not np.array_equal(a.raw_train_x, c.raw_train_x)
    # a shuffle, not a resample: every row appears exactly once
    raw = all_raw(a)
    assert sorted(map(tuple, raw)) == sorted(map(tuple, all_raw(c)))


def test_default_split_sizes_and_shapes():
    d = build_dataset("circle")
    assert d.train_x.shape == (250, 2) and d.test_x.shape == (250, 2)
    assert d.train_y.shape == (250, 1) and d.test_y.shape == (250, 1)
    assert d.train_labels.dtype == np.int64 and d.train_labels.shape == (250,)
    assert repr(d) == "Dataset('circle', 250 train + 250 test, 2 -> 1)"
    assert d.input_size == 2 and d.target_size == 1

    d = build_dataset("spiral", samples=101, train_fraction=0.5)
    assert len(d.train_x) == 50 and len(d.test_x) == 51
    d = build_dataset("spiral", samples=100, train_fraction=0.29)
    assert len(d.train_x) == 29  # not 28 from 0.29 * 100 == 28.999...

    d = build_dataset("sine", samples=10, train_fraction=1.0)
    assert d.train_x.shape == (10, 1) and d.test_x.shape == (0, 1) and d.test_y.shape == (0, 1)

    iris = build_dataset("iris", output_size=3)
    assert len(iris.train_x) == 105 and len(iris.test_x) == 45 and iris.train_x.shape[1] == 4


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("n", [2, 3, 7, 500])
def test_generators_give_exactly_n_points(name, n):
    gen = {"multi-gauss": generators.multi_gauss}.get(name) or getattr(generators, name)
    x, y = gen(n, 0.1, np.random.default_rng(0))
    assert x.dtype == np.float64 and x.shape == (n, 1 if name == "sine" else 2)
    assert len(y) == n and np.all(np.isfinite(x))
    if name in CLASSIFIERS:
        assert y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    else:
        assert y.dtype == np.float64 and y.shape == (n, 1)


def test_shuffle_mixes_classes_into_both_halves():
    d = build_dataset("gauss")
    assert 0 < d.train_labels.mean() < 1 and 0 < d.test_labels.mean() < 1


def test_fixed_tables_keep_order_and_train_on_everything():
    d = build_dataset("xor-table", seed=99)
    assert np.array_equal(d.raw_train_x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert np.array_equal(d.train_labels, [0, 1, 1, 0])
    assert d.test_x.shape == (0, 2) and d.test_labels.shape == (0,)
    d = build_dataset("xor-table", train_fraction=0.5)
    assert np.array_equal(d.raw_train_x, [[0, 0], [0, 1]]) and np.array_equal(d.raw_test_x, [[1, 0], [1, 1]])
    # a fixed table has no use for samples or noise: refused rather than ignored (issue 22)
    assert "fixed row" in field_error("dataset.samples", build_dataset, "xor-table", samples=4000).message
    assert "generated sets" in field_error("dataset.noise", build_dataset, "xor-table", noise=0.3).message


# ---------------------------------------------------------------------------------------------
# generator geometry


def test_circle_labels_match_radius_without_noise():
    d = build_dataset("circle", samples=1000, noise=0)
    r = np.hypot(*all_raw(d).T)
    labels = all_labels(d)
    assert np.array_equal(labels, (r < 2.5).astype(int))
    assert np.all(r[labels == 0] >= 3.5) and np.all(r[labels == 0] <= 5)
    assert np.sum(labels == 1) == 500


def test_circle_noise_flips_some_labels():
    d = build_dataset("circle", samples=1000, noise=0.5)
    r = np.hypot(*all_raw(d).T)
    assert np.any(all_labels(d) != (r < 2.5))


def test_xor_labels_match_sign_of_product_without_noise():
    d = build_dataset("xor", samples=1000, noise=0)
    x = all_raw(d)
    assert np.array_equal(all_labels(d), (x[:, 0] * x[:, 1] >= 0).astype(int))
    assert np.all(np.abs(x) >= 0.3) and np.all(np.abs(x) <= 5.3)


def test_spiral_and_gauss_are_balanced():
    for name in ["spiral", "gauss"]:
        labels = all_labels(build_dataset(name, samples=600, noise=0.3))
        assert np.sum(labels == 1) == 300 and np.sum(labels == 0) == 300


def test_spiral_without_noise_lies_on_two_arms():
    x, y = generators.spiral(200, 0.0, np.random.default_rng(0))
    i = np.arange(100) / 100
    t = 1.75 * i * 2 * np.pi
    assert np.allclose(x[y == 1], np.stack([5 * i * np.sin(t), 5 * i * np.cos(t)], axis=1))
    assert np.allclose(x[y == 0], np.stack([5 * i * np.sin(t + np.pi), 5 * i * np.cos(t + np.pi)], axis=1))


def test_gauss_centres_and_tf_variance_scale():
    x, y = generators.gauss(20000, 0.5, np.random.default_rng(1))  # noise 0.5 -> variance 4
    assert np.allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    assert np.allclose(x[y == 1].var(axis=0), 4, rtol=0.05)
    x, y = generators.gauss(20000, 0.0, np.random.default_rng(1))  # noise 0 -> variance 0.5
    assert np.allclose(x[y == 1].var(axis=0), 0.5, rtol=0.05)


def test_marsaglia_normal_random():
    z = generators.normal_random(np.random.default_rng(0), 3.0, 9.0, 50000)
    assert z.shape == (50000,) and np.all(np.isfinite(z))
    assert abs(z.mean() - 3) < 0.05 and abs(z.std() - 3) < 0.05


def test_plane_target_is_clamped_sum_over_ten():
    d = build_dataset("plane", samples=1000, noise=0)
    x = all_raw(d)
    y = np.concatenate([d.train_y, d.test_y])[:, 0]
    assert np.allclose(y, np.clip((x[:, 0] + x[:, 1]) / 10, -1, 1))
    assert np.all(np.abs(x) <= 6) and y.min() == -1 and y.max() == 1


def test_multi_gauss_matches_tf_loop():
    x, y = generators.multi_gauss(300, 0.0, np.random.default_rng(2))
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (px, py), target in zip(x, y[:, 0]):
        label = 0.0
        for cx, cy, sign in centres:
            value = sign * min(max(1 - np.hypot(px - cx, py - cy) / 2, 0), 1)
            if abs(value) > abs(label):
                label = value
        assert target == pytest.approx(label)
    assert np.all(np.abs(y) <= 1) and y.min() < -0.5 and y.max() > 0.5


def test_moons_lie_on_sklearn_half_circles_without_noise():
    x, y = generators.moons(101, 0.0, np.random.default_rng(0))
    assert np.sum(y == 0) == 50 and np.sum(y == 1) == 51
    u, v = x[:, 0] / 3 + 0.5, x[:, 1] / 3 + 0.25  # undo the map onto the playground plane
    assert np.allclose(np.hypot(u[y == 0], v[y == 0]), 1) and np.all(v[y == 0] >= -1e-12)
    assert np.allclose(np.hypot(u[y == 1] - 1, v[y == 1] - 0.5), 1) and np.all(v[y == 1] <= 0.5 + 1e-12)
    assert np.allclose(x[0], [3 * 0.5, 3 * -0.25])  # t = 0 on the outer moon: (1, 0)


def test_moons_noise_is_gaussian_with_std_noise():
    clean, _ = generators.moons(4000, 0.0, np.random.default_rng(0))
    noisy, _ = generators.moons(4000, 0.2, np.random.default_rng(0))
    assert abs((noisy - clean).std() / 3 - 0.2) < 0.01


def test_sine_targets():
    d = build_dataset("sine", samples=400, noise=0)
    assert np.all(np.abs(d.raw_train_x) <= np.pi)
    assert np.allclose(d.train_y, np.sin(d.raw_train_x))
    noisy = build_dataset("sine", samples=400, noise=0.1)
    assert 0.07 < (noisy.train_y - np.sin(noisy.raw_train_x)).std() < 0.13


# ---------------------------------------------------------------------------------------------
# target encodings


@pytest.mark.parametrize("activation, on, off", [("tanh", 1, -1), ("linear", 1, -1), ("sigmoid", 1, 0),
                                                 ("relu", 1, 0)])
def test_binary_one_node_encoding(activation, on, off):
    d = build_dataset("circle", output_activation=activation)
    assert np.array_equal(d.train_y[:, 0], np.where(d.train_labels == 1, on, off))
    assert np.array_equal(d.test_y[:, 0], np.where(d.test_labels == 1, on, off))
    assert d.target_names == ["class"]


@pytest.mark.parametrize("activation, off", [("softmax", 0), ("sigmoid", 0), ("relu", 0), ("tanh", -1),
                                             ("linear", -1)])
def test_one_hot_encoding(activation, off):
    d = build_dataset("moons", output_size=2, output_activation=activation)
    expected = np.full((len(d.train_labels), 2), float(off))
    expected[np.arange(len(d.train_labels)), d.train_labels] = 1
    assert np.array_equal(d.train_y, expected)
    assert d.target_names == ["upper moon", "lower moon"]
    iris = build_dataset("iris", output_size=3, output_activation=activation)
    assert np.array_equal(iris.train_y.argmax(axis=1), iris.train_labels)
    assert set(np.unique(iris.train_y)) == {off, 1}
    assert iris.target_names == ["setosa", "versicolor", "virginica"]


def test_output_size_none_fits_the_data():
    assert build_dataset("circle", output_size=None).target_size == 1
    assert build_dataset("circle", output_size=None, output_activation="softmax").target_size == 2
    assert build_dataset("iris", output_size=None).target_size == 3
    assert build_dataset("mazur", output_size=None).target_size == 2
    assert inline_dataset([[1]], [[1, 2, 3]], output_size=None).target_size == 3


def test_classification_output_size_errors():
    e = field_error("layers", build_dataset, "circle", output_size=1, output_activation="softmax")
    assert "softmax needs one output node per class" in e.message
    e = field_error("layers", build_dataset, "circle", output_size=3)
    assert e.message == "The output layer has 3 nodes but dataset 'circle' has 2 classes: use 1 output node or 2."
    e = field_error("layers", build_dataset, "iris", output_size=1)
    assert e.message == "The output layer has 1 node but dataset 'iris' has 3 classes: use 3 output nodes."
    field_error("layers", build_dataset, "circle", output_size=0)


def test_regression_encoding():
    tanh = build_dataset("plane")
    for activation in ["sigmoid", "relu"]:
        d = build_dataset("plane", output_activation=activation)
        assert np.allclose(d.train_y, (tanh.train_y + 1) / 2)
        assert d.train_y.min() >= 0 and d.train_y.max() <= 1
    assert np.array_equal(build_dataset("plane", output_activation="linear").train_y, tanh.train_y)
    # not symmetric: used as given
    mazur = build_dataset("mazur", output_size=2, output_activation="sigmoid")
    assert np.array_equal(mazur.train_y, [[0.01, 0.99]]) and mazur.train_labels is None
    assert mazur.task == "regression" and mazur.classes is None


def test_regression_errors():
    e = field_error("output_activation", build_dataset, "plane", output_activation="softmax")
    assert "classification" in e.message
    e = field_error("layers", build_dataset, "plane", output_size=2)
    assert "1 target column" in e.message
    field_error("layers", build_dataset, "mazur", output_size=1)
    field_error("output_activation", build_dataset, "plane", output_activation="swish")


# ---------------------------------------------------------------------------------------------
# features, standardisation and transform


def test_feature_expansion_values():
    d = build_dataset("xor", features=list(FEATURES))
    x1, x2 = d.raw_train_x.T
    expected = np.stack([x1, x2, x1 * x1, x2 * x2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    assert np.array_equal(d.train_x, expected)
    assert d.feature_names == list(FEATURES) and d.input_names == ["x1", "x2"]
    d = build_dataset("circle", features=["x1_x2", "x1"])
    assert np.array_equal(d.train_x[:, 0], d.raw_train_x[:, 0] * d.raw_train_x[:, 1])
    assert np.array_equal(d.train_x[:, 1], d.raw_train_x[:, 0])
    assert d.input_size == 2


@pytest.mark.parametrize("features", [[], ["x3"], ["x1", "x1"], "x1", ["<b>"], [1]])
def test_bad_features(features):
    e = field_error("dataset.features", build_dataset, "circle", features=features)
    assert "<" not in e.message


@pytest.mark.parametrize("name", ["iris", "sine", "csv"])
def test_features_need_two_d_inputs(name):
    csv = dict(csv="a,y\n1,2\n3,4\n", target_columns=["y"]) if name == "csv" else {}
    e = field_error("dataset.features", build_dataset, name, features=["x1", "x2"], output_size=3, **csv)
    assert f"'{name}'" in e.message


def test_standardisation_uses_training_statistics():
    d = build_dataset("circle", noise=0.1, standardize=True, features=["x1", "x2", "x1_sq"])
    assert np.allclose(d.train_x.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(d.train_x.std(axis=0), 1)
    # features first, then standardise with the training rows' statistics
    sq = d.raw_train_x[:, 0] ** 2
    assert np.allclose(d.train_x[:, 2], (sq - sq.mean()) / sq.std())
    sq_test = d.raw_test_x[:, 0] ** 2
    assert np.allclose(d.test_x[:, 2], (sq_test - sq.mean()) / sq.std())
    assert not np.allclose(d.test_x.mean(axis=0), 0, atol=1e-12)


def test_constant_column_is_only_centred():
    d = build_dataset("csv", csv="a,b,y\n1,5,0.1\n2,5,0.2\n3,5,0.3\n4,5,0.4\n5,5,0.5\n",
                      target_columns=["y"], train_fraction=1.0, standardize=True)
    assert np.all(np.isfinite(d.train_x))
    assert np.array_equal(d.train_x[:, 1], np.zeros(5))
    assert np.allclose(d.train_x[:, 0].std(), 1)


@pytest.mark.parametrize("name, kwargs", [
    ("circle", dict(standardize=True, features=["x1", "x2_sq", "sin_x1"])),
    ("test-score", dict(standardize=True)),
    ("test-score", dict()),
    ("iris", dict(standardize=True, output_size=3)),
    ("sine", dict(standardize=True)),
])
def test_transform_reproduces_network_inputs(name, kwargs):
    d = build_dataset(name, **kwargs)
    assert np.array_equal(d.transform(d.raw_train_x), d.train_x)
    assert np.array_equal(d.transform(d.raw_test_x), d.test_x)
    assert np.array_equal(d.transform(d.raw_train_x[0]), d.train_x[0])


def test_transform_checks_width():
    d = build_dataset("circle")
    e = field_error("inputs", d.transform, np.zeros((3, 3)))
    assert "2 raw input values" in e.message


def test_test_score_takes_raw_hours():
    """The tutorial's forward pass runs on the hours themselves (2 studied, 9 slept), not on scaled ones."""
    d = build_dataset("test-score")
    assert np.array_equal(d.train_x, [[2, 9], [1, 5], [3, 6]]) and np.array_equal(d.raw_train_x, d.train_x)
    assert np.array_equal(d.train_y, np.array([[92], [86], [89]]) / 100)
    assert np.array_equal(d.transform([4, 8]), [4, 8])
    assert np.array_equal(d.transform(np.array([[4, 8]])), [[4, 8]])
    assert d.input_names == d.feature_names == ["hours_studied", "hours_slept"] and d.target_names == ["test_score"]
    assert d.hidden_names == (("h1", "h2", "h3"),) and d.features is None


def test_domains():
    assert build_dataset("moons").domain == ((-6.0, 6.0), (-6.0, 6.0))
    assert build_dataset("plane").domain == ((-6.0, 6.0), (-6.0, 6.0))
    (x0, x1), (y0, y1) = build_dataset("xor-table").domain
    assert np.allclose([x0, x1, y0, y1], [-0.1, 1.1, -0.1, 1.1])
    (x0, x1), (y0, y1) = build_dataset("test-score").domain
    assert np.allclose([x0, x1, y0, y1], [0.8, 3.2, 4.6, 9.4])
    assert build_dataset("iris", output_size=3).domain is None
    assert build_dataset("sine").domain is None


# ---------------------------------------------------------------------------------------------
# fixed tables


def test_tables_contents():
    iris = tables.iris_table()
    assert iris.x.shape == (150, 4) and iris.x.dtype == np.float64
    assert np.array_equal(np.bincount(iris.y), [50, 50, 50])
    assert iris.classes == ("setosa", "versicolor", "virginica")
    assert np.allclose(iris.x[0], [5.1, 3.5, 1.4, 0.2]) and iris.y[0] == 0 and iris.y[-1] == 2
    assert tables.xor_table().classes == ("0", "1")
    assert np.array_equal(tables.score_table().y, np.array([[92], [86], [89]]) / 100)


def test_iris_dataset():
    d = build_dataset("iris", output_size=3, output_activation="softmax")
    assert d.task == "classification" and d.classes == ["setosa", "versicolor", "virginica"]
    assert d.input_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert d.feature_names == d.input_names
    assert np.array_equal(d.train_x, d.raw_train_x)


# ---------------------------------------------------------------------------------------------
# parameter errors


@pytest.mark.parametrize("samples", [1, 0, 5001, 2.5, True, "10"])
def test_bad_samples(samples):
    field_error("dataset.samples", build_dataset, "circle", samples=samples)


def test_samples_limit_comes_from_limits():
    field_error("dataset.samples", build_dataset, "circle", samples=101, limits=Limits(max_samples=100))
    assert len(build_dataset("circle", samples=5000, train_fraction=1.0).train_x) == 5000


@pytest.mark.parametrize("noise", [-0.1, 1.5, float("nan"), "0.1", None])
def test_bad_noise(noise):
    field_error("dataset.noise", build_dataset, "xor", noise=noise)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, float("nan"), "0.5"])
def test_bad_train_fraction(fraction):
    field_error("dataset.train_fraction", build_dataset, "gauss", train_fraction=fraction)


def test_train_fraction_leaving_no_training_rows():
    e = field_error("dataset.train_fraction", build_dataset, "gauss", samples=10, train_fraction=0.05)
    assert "no training rows" in e.message
    field_error("dataset.train_fraction", build_dataset, "xor-table", train_fraction=0.2)


@pytest.mark.parametrize("seed", [-1, 1.5, "1"])
def test_bad_seed(seed):
    field_error("dataset.seed", build_dataset, "circle", seed=seed)


# ---------------------------------------------------------------------------------------------
# CSV uploads


def test_csv_regression_parse():
    t = upload("\ufeffx1, x2 ,y,z\r\n1,2,3,4\r\n\r\n-1.5e1,.5,+6,7\r\n", targets=["y", "z"])
    assert t.input_names == ("x1", "x2") and t.target_names == ("y", "z")
    assert np.array_equal(t.x, [[1, 2], [-15, 0.5]]) and np.array_equal(t.y, [[3, 4], [6, 7]])
    assert t.x.dtype == np.float64 and t.classes is None


def test_csv_bytes_and_quoted_cells():
    t = upload(b'\xef\xbb\xbf"a",b\n"1",2\n3,4\n', targets=["b"])
    assert t.input_names == ("a",) and np.array_equal(t.y, [[2], [4]])


def test_csv_classification():
    t = upload("a,label\n0.5,3\n1,-1\n2,3\n3,10\n", targets=["label"], task="classification")
    assert t.classes == ("-1", "3", "10")
    assert np.array_equal(t.y, [1, 0, 1, 2]) and t.y.dtype == np.int64
    d = build_dataset("csv", csv="a,label\n0.5,3\n1,-1\n2,3\n3,10\n", target_columns=["label"],
                      task="classification", output_size=3, train_fraction=1.0, seed=5)
    assert d.classes == ["-1", "3", "10"] and d.task == "classification"
    assert np.array_equal(d.train_y.argmax(axis=1), d.train_labels)
    assert np.array_equal(d.raw_train_x[:, 0], [[0.5, 1, 2, 3][i] for i in np.random.default_rng(5).permutation(4)])


def test_csv_dataset_split_and_names():
    text = "a,b,y\n" + "".join(f"{i},{-i},{i / 10}\n" for i in range(10))
    d = build_dataset("csv", csv=text, target_columns=["y"], output_activation="sigmoid", standardize=False)
    assert len(d.train_x) == 8 and len(d.test_x) == 2
    assert d.input_names == ["a", "b"] and d.target_names == ["y"] and d.name == "csv"
    assert np.allclose(d.train_y[:, 0], d.raw_train_x[:, 0] / 10)  # raw: used as given, even for sigmoid
    (x0, x1), _ = d.domain
    assert np.allclose([x0, x1], [-0.9, 9.9])


def test_csv_text_cell():
    e = field_error("dataset.csv", upload, "x1,x2,y\n1,2,3\nabc,abc,abc\n4,abc,5\n")
    assert e.message == "Row 3, column 'x1': 'abc' is not a number."
    e = field_error("dataset.csv", upload, "x1,x2,y\n1,2,3\n4,abc,5\n")
    assert e.message == "Row 3, column 'x2': 'abc' is not a number."


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "1e999", "1_000", "0x10", "1,5"])
def test_csv_cells_must_be_finite_plain_numbers(cell):
    e = field_error("dataset.csv", upload, f'x,y\n1,2\n"{cell}",3\n')
    assert "Row 3, column 'x'" in e.message


def test_csv_markup_in_a_cell_is_escaped():
    e = field_error("dataset.csv", upload, "x,y\n1,2\n<script>,3\n")
    assert "<" not in e.message and ">" not in e.message and "Row 3" in e.message


def test_csv_missing_value():
    e = field_error("dataset.csv", upload, "x1,x2,y\n1,2,3\n4,,6\n")
    assert "Row 3" in e.message and "'x2'" in e.message and "empty" in e.message


def test_csv_ragged_row():
    e = field_error("dataset.csv", upload, "x1,x2,y\n1,2,3\n4,5\n")
    assert e.message == "Row 3 has 2 cells but the header has 3 columns."
    field_error("dataset.csv", upload, "x1,x2,y\n1,2,3\n4,5,6,7\n")


def test_csv_needs_two_data_rows():
    e = field_error("dataset.csv", upload, "x,y\n1,2\n")
    assert "1 data row" in e.message and "at least 2" in e.message
    field_error("dataset.csv", upload, "x,y\n")
    field_error("dataset.csv", upload, "")
    field_error("dataset.csv", upload, "\n\n")


def test_csv_size_cap():
    text = "x,y\n" + "1,2\n" * 100
    e = field_error("dataset.csv", upload, text, max_bytes=50)
    assert "50 bytes" in e.message
    e = field_error("dataset.csv", build_dataset, "csv", csv=text, target_columns=["y"],
                    limits=Limits(max_csv_bytes=100))
    assert "100 bytes" in e.message


def test_csv_row_and_column_caps():
    e = field_error("dataset.csv", upload, "x,y\n" + "1,2\n" * 11, max_rows=10)
    assert "10" in e.message
    header = ",".join(f"c{i}" for i in range(5))
    e = field_error("dataset.csv", upload, header + "\n" + "1,2,3,4,5\n" * 3, targets=["c0"], max_columns=4)
    assert "5 columns" in e.message and "4" in e.message


def test_csv_not_utf8():
    e = field_error("dataset.csv", upload, b"x,y\n1,2\n\xff\xfe,3\n")
    assert "UTF-8" in e.message
    field_error("dataset.csv", upload, "x,y\n1,2\n\ud800,3\n")  # a lone surrogate cannot be UTF-8


def test_csv_formula_header():
    e = field_error("dataset.csv", upload, "x,=cmd|' /C calc'!A0,y\n1,2,3\n4,5,6\n")
    assert "Column 2" in e.message and "formula" in e.message and "cmd" not in e.message
    for name in ["+x", "-x", "@x"]:
        field_error("dataset.csv", upload, f"{name},y\n1,2\n3,4\n")


def test_csv_markup_header():
    e = field_error("dataset.csv", upload, "x,y,<script>alert(1)</script>\n1,2,3\n4,5,6\n")
    assert "Column 3" in e.message and "<" not in e.message and "script" not in e.message
    for name in ['"a""b"', "a`b", '"a\tb"', "a>b", '"a\x07b"']:
        field_error("dataset.csv", upload, f"x,y,{name}\n1,2,3\n4,5,6\n")


def test_csv_header_names():
    assert "Column 2" in field_error("dataset.csv", upload, "x,,y\n1,2,3\n4,5,6\n").message
    e = field_error("dataset.csv", upload, "x,y,x\n1,2,3\n4,5,6\n")
    assert "Columns 1 and 3" in e.message
    long = "a" * 65
    assert "64" in field_error("dataset.csv", upload, f"{long},y\n1,2\n3,4\n").message
    assert upload(f"{'a' * 64},y\n1,2\n3,4\n").input_names == ("a" * 64,)


def test_csv_target_columns():
    text = "x,y\n1,2\n3,4\n"
    e = field_error("dataset.target_columns", upload, text, targets=["z"])
    assert "'z'" in e.message and "'x'" in e.message
    e = field_error("dataset.target_columns", upload, text, targets=["<b>z</b>"])
    assert "<" not in e.message
    field_error("dataset.target_columns", upload, text, targets=[])
    field_error("dataset.target_columns", build_dataset, "csv", csv=text, target_columns="y")
    field_error("dataset.target_columns", upload, text, targets=["x", "y"])
    field_error("dataset.target_columns", upload, text, targets=["y", "y"])
    field_error("dataset.target_columns", build_dataset, "csv", csv=text)
    e = field_error("dataset.target_columns", upload, "a,b,c\n1,2,3\n4,5,6\n", targets=["b", "c"],
                    task="classification")
    assert "exactly one" in e.message


def test_csv_classification_labels():
    e = field_error("dataset.csv", upload, "x,y\n1,0\n2,1.5\n", task="classification")
    assert "Row 3" in e.message and "whole number" in e.message
    e = field_error("dataset.csv", upload, "x,y\n1,4\n2,4\n", task="classification")
    assert "only one class" in e.message
    field_error("dataset.task", upload, "x,y\n1,4\n2,4\n", task="clustering")


def test_csv_is_required():
    field_error("dataset.csv", build_dataset, "csv", target_columns=["y"])


# ---------------------------------------------------------------------------------------------
# inline datasets


def test_inline_dataset():
    d = inline_dataset([[0, 1], [2, 3], [4, 5]], [[1], [0], [1]], [[6, 7]], [[0.5]])
    assert isinstance(d, Dataset) and d.name == "inline" and d.task == "regression"
    assert np.array_equal(d.train_x, [[0, 1], [2, 3], [4, 5]]) and np.array_equal(d.test_x, [[6, 7]])
    assert np.array_equal(d.train_y, [[1], [0], [1]]) and np.array_equal(d.test_y, [[0.5]])
    assert d.train_x.dtype == np.float64 and d.train_labels is None
    d = inline_dataset([[1], [2]], [[3, 4], [5, 6]], output_size=2, standardize=True, output_activation="sigmoid")
    assert d.test_x.shape == (0, 1) and d.test_y.shape == (0, 2)
    # standardize scales inline targets too: a sigmoid output takes them in [0.1, 0.9]
    assert np.allclose(d.train_x[:, 0], [-1, 1]) and np.allclose(d.train_y, [[0.1, 0.1], [0.9, 0.9]])
    assert np.array_equal(d.raw_train_y, [[3, 4], [5, 6]]) and np.allclose(d.to_data(d.train_y), [[3, 4], [5, 6]])
    assert np.array_equal(d.transform([[1.5]]), [[0.0]])
    d = inline_dataset([[1], [2]], [[3, 4], [5, 6]], output_size=2, standardize=True, scale_targets=False,
                       output_activation="sigmoid")
    assert np.array_equal(d.train_y, [[3, 4], [5, 6]]) and d.target_scaling is None


def test_inline_errors():
    field_error("dataset.inputs", inline_dataset, [[1, 2], [3]], [[1], [2]])
    field_error("dataset.inputs", inline_dataset, [], [])
    field_error("dataset.inputs", inline_dataset, [[float("nan")]], [[1]])
    field_error("dataset.targets", inline_dataset, [[1], [2]], [[1]])
    field_error("dataset.targets", inline_dataset, [[1], [2]], [[1, 2], [3]])
    field_error("dataset.test_targets", inline_dataset, [[1]], [[1]], [[2]])
    field_error("dataset.test_inputs", inline_dataset, [[1]], [[1]], None, [[2]])
    field_error("dataset.test_inputs", inline_dataset, [[1]], [[1]], [[2, 3]], [[2]])
    field_error("dataset.test_targets", inline_dataset, [[1]], [[1]], [[2], [3]], [[2]])
    field_error("layers", inline_dataset, [[1]], [[1, 2]])
    field_error("output_activation", inline_dataset, [[1]], [[1]], output_activation="softmax")
