"""TensorFlow Playground's data generators (src/dataset.ts), plus two moons and a sine wave.

Every generator takes (n, noise, rng) and returns raw inputs x (n, 2) float64 ((n, 1) for sine)
and either int class ids y (n,) or float targets y (n, 1). TF's label +1 is class 1 and -1 is class 0.
`noise` is TF's fraction: its 0-50 slider divided by 100.

TF draws n/2 points per class, which gives n + 1 points for odd n; here the first class
gets the extra point so there are always exactly n.
"""

import numpy as np


def normal_random(rng, mean, variance, n):
    """TF's normalRandom (Marsaglia polar method): (n,) samples from N(mean, variance)."""
    out = np.empty(n)
    filled = 0
    while filled < n:
        v1 = 2 * rng.random(n - filled) - 1
        v2 = 2 * rng.random(n - filled) - 1
        s = v1 * v1 + v2 * v2
        ok = (s <= 1) & (s > 0)  # TF only rejects s > 1; s == 0 would give NaN
        k = int(ok.sum())
        out[filled:filled + k] = np.sqrt(-2 * np.log(s[ok]) / s[ok]) * v1[ok]
        filled += k
    return mean + np.sqrt(variance) * out


def halves(n):
    """Points for the first (TF label +1) and second class: ceil(n/2), floor(n/2)."""
    return n - n // 2, n // 2


def circle(n, noise, rng):
    """A disc of class 1 (radius < 2.5) inside a ring of class 0 (radius 3.5..5)."""
    radius = 5.0

    def ring(m, r_lo, r_hi):
        r = rng.uniform(r_lo, r_hi, m)
        angle = rng.uniform(0, 2 * np.pi, m)
        x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        noisy = x + rng.uniform(-radius, radius, (m, 2)) * noise
        # the label comes from the noisy position, so noise flips points near the boundary
        label = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int64)
        return x, label

    n_in, n_out = halves(n)
    x_in, y_in = ring(n_in, 0, radius * 0.5)
    x_out, y_out = ring(n_out, radius * 0.7, radius)
    return np.concatenate([x_in, x_out]), np.concatenate([y_in, y_out])


def xor(n, noise, rng):
    """Four quadrants: class 1 where x*y >= 0; points kept 0.3 away from the axes."""
    padding = 0.3
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, padding, -padding)
    noisy = x + rng.uniform(-5, 5, (n, 2)) * noise
    y = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return x, y


def gauss(n, noise, rng):
    """Two Gaussian blobs: class 1 around (2, 2), class 0 around (-2, -2)."""
    variance = 0.5 + noise * (4 - 0.5) / 0.5  # TF's d3 scale: noise 0..0.5 -> variance 0.5..4

    def blob(m, c):
        return np.stack([normal_random(rng, c, variance, m), normal_random(rng, c, variance, m)], axis=1)

    n_pos, n_neg = halves(n)
    x = np.concatenate([blob(n_pos, 2.0), blob(n_neg, -2.0)])
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return x, y


def spiral(n, noise, rng):
    """Two interleaved spirals of 1.75 turns out to radius 5: class 1 and class 0 (rotated by pi)."""

    def arm(m, delta_t):
        i = np.arange(m) / m
        r = i * 5
        t = 1.75 * i * 2 * np.pi + delta_t
        return np.stack([r * np.sin(t) + rng.uniform(-1, 1, m) * noise,
                         r * np.cos(t) + rng.uniform(-1, 1, m) * noise], axis=1)

    n_pos, n_neg = halves(n)
    x = np.concatenate([arm(n_pos, 0.0), arm(n_neg, np.pi)])
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return x, y


def plane(n, noise, rng):
    """TF's regressPlane: target (x + y) / 10 on [-6, 6]^2, clamped to [-1, 1]; y (n, 1)."""
    radius = 6.0
    x = rng.uniform(-radius, radius, (n, 2))
    noisy = x + rng.uniform(-radius, radius, (n, 2)) * noise
    # TF's scale is not clamped, so its corners reach +-1.2; clamping keeps targets in tanh's range
    y = np.clip((noisy[:, 0] + noisy[:, 1]) / 10, -1, 1)
    return x, y[:, None]


GAUSSIANS = np.array([
    [-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
    [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1],
], dtype=np.float64)


def multi_gauss(n, noise, rng):
    """TF's regressGaussian: six signed bumps of radius 2, target in [-1, 1]; y (n, 1)."""
    radius = 6.0
    x = rng.uniform(-radius, radius, (n, 2))
    noisy = x + rng.uniform(-radius, radius, (n, 2)) * noise
    d = np.hypot(noisy[:, None, 0] - GAUSSIANS[:, 0], noisy[:, None, 1] - GAUSSIANS[:, 1])  # (n, 6)
    values = GAUSSIANS[:, 2] * np.clip(1 - d / 2, 0, 1)
    # the bump largest in absolute value wins; argmax keeps the first on ties, as TF's strict > does
    pick = np.argmax(np.abs(values), axis=1)
    y = values[np.arange(n), pick]
    return x, y[:, None]


def moons(n, noise, rng):
    """sklearn's make_moons (outer moon class 0, inner class 1), mapped onto the [-6, 6] plane."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
    ])
    x = x + noise * rng.standard_normal((n, 2))
    x = 3 * (x - np.array([0.5, 0.25]))
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return x, y


def sine(n, noise, rng):
    """1-D regression: x (n, 1) uniform on [-pi, pi], y = sin(x) + noise * N(0, 1), (n, 1)."""
    x = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(x) + noise * rng.standard_normal((n, 1))
    return x, y
