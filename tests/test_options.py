"""The settings table (app/core/options.py) and what is derived from it."""
from pathlib import Path

import pytest
from starlette.datastructures import FormData

from app.core.options import ALWAYS_IN_LINKS, BY_FIELD, OPTIONS, PAGE_DATASETS, markdown
from app.core.recipe import CreateSession, DatasetSpec
from app.core.session import build_session
from app.engine import HYPERPARAMETERS, TrainConfig
from app.web.controls import fieldsets
from app.web.forms import CONTROL_OF_FIELD, config_changes
from app.web.setup_links import PARAMS, request_from_query, setup_query

SETTINGS_DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_a_field_of_the_request_with_the_tables_default_bounds_and_help():
    for option in OPTIONS:
        if option.is_page:  # the page's own settings (Play's speed) are not part of what builds a session
            assert option.name not in CreateSession.model_fields
            continue
        model = DatasetSpec if option.is_data else CreateSession
        info = model.model_fields[option.name]
        assert info.default == option.default and info.description == option.help, option.field
        for bound, value in option.bounds.items():
            assert any(getattr(m, bound, None) == value for m in info.metadata), (option.field, bound)


def test_what_the_engine_trains_with_takes_the_engines_default_and_rebuilds_unless_it_can_change_midway():
    engine = {name: getattr(TrainConfig(), name) for name in TrainConfig.__dataclass_fields__}
    for option in OPTIONS:
        if option.name in engine and not option.is_data and option.field != "layers":
            # The output activation and the loss default by the data: None, resolved when the session is built.
            by_data = option.field in ("output_activation", "loss")
            assert option.default == (None if by_data else engine[option.name]), option.field
            assert option.rebuilds == (option.name not in HYPERPARAMETERS), option.field


def test_the_request_models_fields_follow_what_they_build():
    assert list(CreateSession.model_fields)[:17] == [f for f in TrainConfig.__dataclass_fields__]
    assert list(DatasetSpec.model_fields)[:11] == ["name", "samples", "noise", "train_fraction", "seed",
                                                   "standardize", "scale_targets", "features", "csv", "target_columns", "task"]


def test_link_names_and_form_names_are_unique_and_links_follow_the_table():
    links = [o.link for o in OPTIONS if o.link]
    forms = [o.form_name for o in OPTIONS if o.control]
    assert len(set(links)) == len(links) and len(set(forms)) == len(forms)
    assert list(PARAMS) == links and set(ALWAYS_IN_LINKS) <= set(links)
    assert CONTROL_OF_FIELD["dataset.train_fraction"] == "train_percent"


def test_a_new_setting_reaches_the_request_the_form_and_links(monkeypatch):
    """Adding a row is all it takes for the form and a link to carry a setting (here an existing field, given a
    control and a link name it did not have)."""
    from dataclasses import replace

    import app.core.options as options
    import app.web.controls as controls
    import app.web.forms as forms
    import app.web.setup_links as links
    from app.core.options import Control

    row = replace(BY_FIELD["dataset.standardize"], link="std",
                  control=Control("checkbox", "Standardise inputs", "Data", 5))
    table = tuple(row if o.field == "dataset.standardize" else o for o in OPTIONS)
    for module in (options, controls, forms, links):
        monkeypatch.setattr(module, "OPTIONS", table, raising=False)
    monkeypatch.setattr(links, "_SPEC", {o.link: (o.field, links._reader(o.type)) for o in table if o.link})
    monkeypatch.setattr(links, "PARAMS", {n: f for n, (f, _) in links._SPEC.items()})
    assert request_from_query({"std": "1"}).dataset.standardize is True
    config = {**CreateSession().model_dump(), "dataset": {"name": "circle", "noise": 0.0, "standardize": True}}
    names = [c.name for fs in controls.fieldsets(config, "Circle", {}) for row in fs.rows for c in row]
    assert "standardize" in names
    unticked = forms.config_changes(FormData([("standardize__present", "1")]), config)
    ticked = forms.config_changes(FormData([("standardize__present", "1"), ("standardize", "on")]), config)
    assert unticked["dataset"]["standardize"] is False and ticked["dataset"]["standardize"] is True


def test_every_setting_the_engine_trains_with_reaches_the_trainer():
    unusual = {"hidden_activation": "relu", "output_activation": "sigmoid", "loss": "bce", "optimizer": "adam",
               "learning_rate": 0.07, "momentum": 0.5, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
               "regularization": "l1", "regularization_rate": 0.2, "batch_size": 7, "shuffle": False,
               "train_biases": False, "init": "he", "seed": 11}
    trained = [o.name for o in OPTIONS if not o.is_data and not o.is_page and o.field != "layers"]
    assert sorted(unusual) == sorted(trained)
    config = build_session(CreateSession(**unusual)).trainer.config
    assert {name: getattr(config, name) for name in unusual} == unusual


def test_the_form_reads_each_kind_of_control():
    current = {"dataset": {"name": "spiral", "noise": 0.0, "samples": 500, "train_fraction": 0.5}}
    form = FormData([("learning_rate", "0.1"), ("shuffle__present", "1"), ("train_biases__present", "1"),
                     ("train_biases", "on"), ("noise", "20"), ("train_percent", "x"), ("samples", ""),
                     ("features__present", "1"), ("features", "x1"), ("features", "sin_x2")])
    changes = config_changes(form, current)
    assert changes["learning_rate"] == "0.1" and changes["shuffle"] is False and changes["train_biases"] is True
    assert changes["dataset"] == {"name": "spiral", "noise": 0.2, "samples": 500, "train_fraction": "x",
                                  "features": ["x1", "sin_x2"]}
    assert config_changes(FormData([("dataset", "xor")]), current)["dataset"] == {"name": "xor"}


@pytest.mark.parametrize("optimizer, shown, hidden", [("sgd", set(), {"momentum", "beta1"}),
                                                      ("momentum", {"momentum"}, {"beta1"}),
                                                      ("adam", {"beta1", "beta2", "eps"}, {"momentum"})])
def test_the_page_offers_an_optimizers_settings_only_with_it(optimizer, shown, hidden):
    config = {**CreateSession(optimizer=optimizer).model_dump(), "dataset": {"name": "circle", "noise": 0.0}}
    names = {c.name for fs in fieldsets(config, "Circle", {}) for row in fs.rows for c in row}
    assert shown <= names and not hidden & names
    rows = [[c.name for c in row] for fs in fieldsets(config, "Circle", {}) for row in fs.rows]
    assert (["beta1", "beta2", "eps"] in rows) == (optimizer == "adam")


def test_controls_show_the_configs_values_and_choices():
    config = {**CreateSession(output_activation="sigmoid", loss="bce").model_dump(),
              "dataset": {"name": "gauss", "noise": 0.25, "samples": 300, "train_fraction": 0.7}}
    by_name = {c.name: c for fs in fieldsets(config, "Two Gaussians", {"loss": "bad"}) for row in fs.rows for c in row}
    assert by_name["noise"].value == 25 and by_name["train_percent"].value == 70 and by_name["samples"].value == 300
    assert [c.value for c in by_name["dataset"].choices] == list(PAGE_DATASETS)
    losses = {c.value: c for c in by_name["loss"].choices}
    assert losses["bce"].reason is None and "softmax" in losses["cross_entropy"].reason
    assert by_name["loss"].error == "bad" and by_name["features"].value == ["x1", "x2"]
    mazur = {**config, "dataset": {"name": "mazur"}}
    names = {c.name for fs in fieldsets(mazur, "Mazur", {}) for row in fs.rows for c in row}
    assert not {"noise", "samples", "train_percent"} & names


def test_links_leave_out_usual_values_and_what_does_not_apply():
    config = {**CreateSession(layers=[2, 4, 2, 1], optimizer="adam", beta1=0.8, momentum=0.5,
                              output_activation="tanh", loss="half_sse").model_dump(),
              "dataset": {"name": "circle", "samples": 500, "noise": 0.0, "train_fraction": 0.5, "seed": 1,
                          "standardize": False, "features": ["x1", "x2"]}}
    assert setup_query(config) == ("dataset=circle&layers=2,4,2,1&activation=tanh&output=tanh&loss=half_sse"
                                   "&optimizer=adam&lr=0.03&beta1=0.8&batch=10&seed=1")
    unusual = {**config, "regularization": "l2", "dataset": {**config["dataset"], "samples": 200, "seed": 4,
                                                             "standardize": True, "features": ["x1"]}}
    assert setup_query(unusual) == ("dataset=circle&samples=200&data_seed=4&features=x1&standardize=1"
                                    "&layers=2,4,2,1&activation=tanh&output=tanh&loss=half_sse&optimizer=adam"
                                    "&lr=0.03&beta1=0.8&batch=10&regularization=l2&seed=1")


def test_the_settings_doc_lists_every_setting_as_the_table_does():
    assert markdown() in SETTINGS_DOC.read_text(), "paste `python -m app.core.options`'s table into docs/settings.md"
