"""Barron's adaptive robust loss: the density, its partition function and
learning alpha."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from scipy.integrate import quad, simpson
from scipy.special import k1

import keraslosses as kl
from tests import backend as B
from tests import reference as ref


def nll(x, alpha, scale):
    return float(kl.adaptive_nll(np.float64(x), np.float64(alpha), np.float64(scale)))


@pytest.mark.parametrize("alpha", [0.001, 0.3, 1.0, 1.5, 1.999])
@pytest.mark.parametrize("scale", [0.7, 2.0])
def test_density_integrates_to_one(alpha, scale):
    # x = tan(theta) maps the real line onto (-pi/2, pi/2); the heaviest tail
    # (alpha -> 0, density ~ 1/x^2) becomes bounded, and Simpson's rule on one
    # vectorised evaluation is accurate to 5e-7 (alpha = 0.001, slowest).
    # (np.tan(+-np.pi / 2) is a finite 1.6e16, so the end points, where the
    # mapped integrand tends to lim x^2 p(x), are kept.)
    theta = np.linspace(-np.pi / 2, np.pi / 2, 2_000_001)
    x = np.tan(theta)
    density = np.exp(-keras.ops.convert_to_numpy(kl.adaptive_nll(x, np.float64(alpha), np.float64(scale))))
    total = simpson(density / np.cos(theta) ** 2, x=theta)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_partition_function_closed_forms():
    assert float(kl.log_partition(np.float64(0.0))) == pytest.approx(math.log(math.pi * math.sqrt(2)), abs=1e-10)
    assert float(kl.log_partition(np.float64(1.0))) == pytest.approx(math.log(2 * math.e * k1(1.0)), abs=1e-10)
    assert float(kl.log_partition(np.float64(2.0))) == pytest.approx(0.5 * math.log(2 * math.pi), abs=1e-8)


@pytest.mark.parametrize("alpha", [pytest.param(0.0005, marks=B.xfail_on_jax(B.JAX_TRIG_FLOAT64)), 0.01, 0.37,
                                   pytest.param(1.234, marks=B.xfail_on_jax(B.JAX_TRIG_FLOAT64)), 1.9, 1.99])
def test_spline_matches_direct_integration(alpha):
    direct = math.log(quad(lambda x: math.exp(-ref.rho(x, alpha)), -np.inf, np.inf, epsrel=1e-12, limit=200)[0])
    assert float(kl.log_partition(np.float64(alpha))) == pytest.approx(direct, abs=1e-8)


def test_alpha_two_is_the_gaussian_nll():
    x = np.linspace(-4, 4, 9)[:, None]
    scale = 0.6
    got = np.array([nll(v, 2.0, scale) for v in x[:, 0]])
    gaussian = kl.gaussian_nll(np.zeros_like(x), np.concatenate([x, np.full_like(x, 2 * math.log(scale))], -1))
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(gaussian), rtol=1e-7)


@B.xfail_on_jax(B.JAX_TRIG_FLOAT64)
def test_log_partition_is_differentiable_in_alpha():
    for alpha in (0.01, 0.5, 1.0, 1.7, 1.999):
        _, (g,) = B.value_and_grads(kl.log_partition, [np.float64(alpha)])
        g = float(g)
        h = 1e-6
        fd = (float(kl.log_partition(np.float64(alpha + h))) - float(kl.log_partition(np.float64(alpha - h)))) / (2 * h)
        assert np.isfinite(g) and g == pytest.approx(fd, rel=1e-4, abs=1e-6), alpha


def test_layer_parameters_stay_in_range_and_round_trip(tmp_path):
    layer = kl.AdaptiveRobustLoss(alpha_lo=0.5, alpha_hi=1.5, alpha_init=0.75, scale_init=2.0)
    out = layer(np.zeros((4, 3), np.float32))
    assert out.shape == (4,) and B.dtype(out) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.alpha()), [0.75] * 3, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.scale()), [2.0] * 3, rtol=1e-6)
    assert len(layer.losses) == 1
    inputs = keras.Input((3,))
    model = keras.Model(inputs, kl.AdaptiveRobustLoss(shared=True, alpha_init=0.3)(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()


def test_layer_rejects_bad_ranges():
    with pytest.raises(ValueError, match="alpha_hi"):
        kl.AdaptiveRobustLoss(alpha_lo=0.0, alpha_hi=3.0)
    with pytest.raises(ValueError, match="alpha_init"):
        kl.AdaptiveRobustLoss(alpha_init=1.999)
    with pytest.raises(ValueError, match="scale_init"):
        kl.AdaptiveRobustLoss(scale_init=0.0)
    # A NumPy scalar (a sweep's value) is checked too, not passed through as a tensor.
    with pytest.raises(ValueError, match=r"alpha_init.*received alpha_init=np.float32\(5.0\)"):
        kl.AdaptiveRobustLoss(alpha_init=np.float32(5.0))


def test_layer_computes_in_float32_under_mixed_precision():
    keras.config.set_dtype_policy("mixed_bfloat16")
    layer = kl.AdaptiveRobustLoss()
    out = layer(B.constant(np.ones((2, 2)), "bfloat16"))
    assert B.dtype(out) == "float32"


def fit_alpha(noise, steps=400):
    """Fit y = w x + b jointly with a shared adaptive loss (full-batch Adam,
    through `fit`, so it runs on every backend); return (alpha, w, b)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(2000, 1)).astype(np.float32)
    y = (2.0 * x + 1.0 + noise(rng, x.shape)).astype(np.float32)
    keras.utils.set_random_seed(0)
    inputs, targets = keras.Input((1,)), keras.Input((1,))
    line = keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer="zeros")
    layer = kl.AdaptiveRobustLoss(shared=True, add_loss=False)
    model = keras.Model([inputs, targets], layer(keras.layers.Subtract()([line(inputs), targets])))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=lambda _, nll: nll)
    # `steps` full-batch steps in one epoch (an epoch per step would cost fit's per-epoch overhead each time).
    xs, ys = np.tile(x, (steps, 1)), np.tile(y, (steps, 1))
    model.fit([xs, ys], np.zeros(len(xs)), batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    kernel, bias = line.get_weights()
    return float(keras.ops.convert_to_numpy(layer.alpha())), float(kernel[0, 0]), float(bias[0])


def test_learns_alpha_near_two_on_gaussian_noise():
    alpha, w, b = fit_alpha(lambda rng, shape: 0.1 * rng.normal(size=shape))
    assert alpha > 1.7
    assert w == pytest.approx(2.0, abs=0.05) and b == pytest.approx(1.0, abs=0.05)


def test_learns_a_small_alpha_with_outliers_and_ignores_them():
    def noise(rng, shape):
        outliers = rng.uniform(size=shape) < 0.2
        return np.where(outliers, rng.uniform(-20, 20, size=shape), 0.05 * rng.normal(size=shape))

    alpha, w, b = fit_alpha(noise)
    assert alpha < 1.0
    assert w == pytest.approx(2.0, abs=0.05) and b == pytest.approx(1.0, abs=0.05)
