"""Hand-derived values and the special points of each loss family."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import keraslosses as kl
from tests import backend as B


def value(x):
    return keras.ops.convert_to_numpy(x).astype(np.float64)


def grad(fn, *args):
    """Gradient of sum(fn(*args)) with respect to every argument."""
    return B.value_and_grads(fn, args)[1]


# regression --------------------------------------------------------------------------
def test_rmse_is_the_dataset_rmse():
    residuals = np.array([[-10.0], [-5.0], [0.0], [5.0], [10.0]])
    got = kl.RootMeanSquaredError()(np.zeros_like(residuals), residuals)
    assert float(got) == pytest.approx(math.sqrt(50.0), abs=1e-6)  # 7.0711
    assert round(float(got), 4) == 7.0711


def test_rmse_weighted_mean_and_finite_gradient_at_zero_error():
    loss = kl.RootMeanSquaredError(reduction="mean_with_sample_weight", dtype="float64")
    y = np.array([[1.0], [2.0], [3.0]])
    pred = y + np.array([[1.0], [2.0], [3.0]])
    w = np.array([1.0, 2.0, 3.0])
    assert float(loss(y, pred, sample_weight=w)) == pytest.approx(math.sqrt((1 + 8 + 27) / 6), rel=1e-12)
    (g,) = grad(lambda p: kl.RootMeanSquaredError()(y, p), y)
    np.testing.assert_array_equal(g, np.zeros_like(y))


def test_huber_pieces():
    got = value(kl.huber([[0.0], [0.0], [0.0]], [[0.5], [-3.0], [1.0]], delta=1.0))
    np.testing.assert_allclose(got, [0.125, 2.5, 0.5])


def test_squared_log_error_offsets():
    assert float(kl.squared_log_error([[1.0]], [[math.e]], offset=0.0)[0]) == pytest.approx(1.0, rel=1e-6)
    assert float(kl.squared_log_error([[0.0]], [[math.e - 1]])[0]) == pytest.approx(1.0, rel=1e-6)
    # log1p keeps tiny values exact: (log1p(1e-8))^2 = 1e-16 (1 - 1e-8)^2
    assert float(kl.squared_log_error(np.zeros((1, 1)), np.full((1, 1), 1e-8))[0]) == pytest.approx(1e-16, rel=1e-6)


def test_pinball_asymmetry():
    got = value(kl.pinball([[1.0], [1.0]], [[0.0], [2.0]], tau=0.9))
    np.testing.assert_allclose(got, [0.9, 0.1], rtol=1e-6)


# robust --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alpha, expected",
    [
        (2.0, 2.0),  # x^2 / 2
        (1.0, math.sqrt(5.0) - 1.0),  # pseudo-Huber
        (0.0, math.log(3.0)),  # Cauchy
        (-2.0, 1.0),  # Geman-McClure: 2 x^2 / (x^2 + 4)
        (-math.inf, 1.0 - math.exp(-2.0)),  # Welsch
        (math.inf, math.exp(2.0) - 1.0),
    ],
)
def test_general_robust_named_cases(alpha, expected):
    assert float(kl.general_robust([[0.0]], [[2.0]], alpha=alpha)[0]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("limit, nearby", [(2.0, [2 - 1e-6, 2 + 1e-6, 2 - 1e-3]), (0.0, [-1e-6, 1e-6, 1e-3]),
                                           (-math.inf, [-1e7, -1e9])])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_general_robust_is_continuous_at_the_limits(limit, nearby, dtype):
    x = np.linspace(-5, 5, 41, dtype=dtype)[:, None]
    at_limit = value(kl.general_robust(np.zeros_like(x), x, alpha=limit))
    for alpha in nearby:
        near = value(kl.general_robust(np.zeros_like(x), x, alpha=alpha))
        step = abs(alpha - limit) if math.isfinite(limit) else 10 / abs(alpha)
        np.testing.assert_allclose(near, at_limit, rtol=10 * step + 3e-6, atol=1e-6, err_msg=f"alpha={alpha}")


def test_general_robust_gradients_in_x_and_alpha_are_finite_everywhere():
    x = np.array([[-3.0, -1e-4, 0.0, 1e-4, 2.0, 30.0]])
    for alpha in [-math.inf, -1e6, -2.0, -1e-7, 0.0, 1e-7, 0.5, 1.0, 2.0 - 1e-7, 2.0, 2.0 + 1e-7, 4.0, math.inf]:
        gx, ga = grad(lambda p, a: kl.general_robust(np.zeros_like(x), p, alpha=a), x, alpha)
        assert np.isfinite(gx).all() and np.isfinite(ga).all(), alpha


@pytest.mark.parametrize("alpha", [-3.0, -0.5, 0.7, 1.5, 3.0])
def test_general_robust_alpha_gradient_matches_finite_differences(alpha):
    x = np.array([[0.3, -1.7, 4.0]])
    (_, ga) = grad(lambda p, a: kl.general_robust(np.zeros_like(x), p, alpha=a), x, alpha)
    f = lambda a: float(np.sum(value(kl.general_robust(np.zeros_like(x), x, alpha=a))))  # noqa: E731
    h = 1e-6
    assert float(ga) == pytest.approx((f(alpha + h) - f(alpha - h)) / (2 * h), rel=1e-6)


def test_general_robust_scale_and_large_residuals():
    # rho(x, alpha, c) depends on x / c only.
    a = value(kl.general_robust([[0.0]], [[6.0]], alpha=0.5, scale=3.0))
    b = value(kl.general_robust([[0.0]], [[2.0]], alpha=0.5, scale=1.0))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert float(kl.general_robust([[0.0]], [[1e3]], alpha=-math.inf)[0]) == 1.0


# probabilistic ---------------------------------------------------------------------
def test_gaussian_nll_hand_values():
    got = value(kl.gaussian_nll([[0.0], [1.0]], [[0.0, 0.0], [0.0, math.log(4.0)]]))
    expected = [0.5 * math.log(2 * math.pi), 0.5 * (math.log(2 * math.pi) + math.log(4.0) + 0.25)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_laplace_nll_and_single_component_mixture_agree():
    assert float(kl.laplace_nll([[1.0]], [[0.0, 0.0]])[0]) == pytest.approx(math.log(2) + 1, rel=1e-6)
    assert float(kl.laplace_mixture_nll([[1.0]], [[5.0, 0.0, 0.0]])[0]) == pytest.approx(math.log(2) + 1, rel=1e-6)


def test_laplace_mixture_is_stable_for_far_components():
    # Two equal-weight components, one at the target and one 1e4 scales away:
    # p(y) = 0.5 * 1/2 * e^0, so NLL = log 4, with no underflow to log(0).
    got = kl.laplace_mixture_nll([[0.0]], [[0.0, 0.0, 0.0, 1e4, 0.0, 0.0]])
    assert float(got[0]) == pytest.approx(math.log(4.0), rel=1e-6)


def test_gaussian_kl_values_and_precision_near_the_prior():
    np.testing.assert_allclose(value(kl.gaussian_kl([[1.0], [0.0]], [[0.0], [math.log(2.0)]])),
                               [0.5, 0.5 * (1 - math.log(2.0))], rtol=1e-6)
    # exp(s) - 1 - s for s = 1e-4 is 5.0002e-9: float32 keeps it via expm1.
    got = float(kl.gaussian_kl(np.zeros((1, 1), np.float32), np.full((1, 1), 1e-4, np.float32))[0])
    assert got == pytest.approx(0.5 * (math.expm1(1e-4) - 1e-4), rel=1e-3)


def test_gaussian_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        kl.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 2)))


# classification ---------------------------------------------------------------------
def test_softmax_cross_entropy_lecture_example():
    logits = [[3.2, 1.3, 0.2, 0.8]]
    exact = -(3.2 - math.log(sum(math.exp(v) for v in logits[0])))  # 0.254699...
    # The lecture notes print 0.2549: -log(0.775), the softmax rounded to
    # three digits first. The exact value is 0.2547.
    assert exact == pytest.approx(0.2546993, abs=1e-7)
    for got in (
        kl.categorical_crossentropy([[1, 0, 0, 0]], logits, from_logits=True),
        kl.sparse_categorical_crossentropy([0], logits, from_logits=True),
    ):
        assert float(got[0]) == pytest.approx(exact, abs=1e-6)


def test_sparse_label_smoothing_equals_dense_label_smoothing(rng):
    logits = rng.normal(size=(8, 6))
    labels = rng.integers(0, 6, size=8)
    sparse = kl.sparse_categorical_crossentropy(labels, logits, from_logits=True, label_smoothing=0.3)
    dense = kl.categorical_crossentropy(np.eye(6)[labels], logits, from_logits=True, label_smoothing=0.3)
    np.testing.assert_allclose(value(sparse), value(dense), rtol=1e-12)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("loss_cls", [kl.SparseCategoricalCrossentropy, kl.WestonWatkinsHinge,
                                      kl.CrammerSingerHinge])
def test_integer_label_257_stays_257_under_mixed_precision(policy, loss_cls, rng):
    keras.config.set_dtype_policy(policy)
    logits = rng.normal(size=(2, 300)).astype("float32")
    half = B.constant(logits, keras.config.dtype_policy().compute_dtype)
    labels = np.array([257, 3])
    kwargs = {"from_logits": True} if loss_cls is kl.SparseCategoricalCrossentropy else {}
    got = loss_cls(**kwargs, reduction="none")(labels, half)
    exact = loss_cls(**kwargs, reduction="none", dtype="float64")(labels, B.as_float64(half))
    wrong = loss_cls(**kwargs, reduction="none", dtype="float64")(np.array([256, 3]), B.as_float64(half))
    assert B.dtype(got) == "float32"
    np.testing.assert_allclose(value(got), value(exact), rtol=1e-6)
    assert not np.allclose(value(got)[0], value(wrong)[0])


def test_integer_labels_reach_the_loss_exactly_through_fit_under_mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(300, dtype="float32")])
    loss = kl.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(loss=loss)
    x = np.ones((2, 4), np.float32)
    y = np.array([257, 257])
    logits = model.predict(x, verbose=0).astype(np.float64)
    exact = -(logits[:, 257] - np.log(np.exp(logits).sum(-1)))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(exact.mean(), rel=1e-5)


def test_bce_values_and_label_smoothing():
    assert float(kl.binary_crossentropy([[1.0]], [[0.0]], from_logits=True)[0]) == pytest.approx(math.log(2))
    # smoothing 0.2 turns target 1 into 0.9: 0.9 * softplus(-2) + 0.1 * softplus(2)
    got = float(kl.binary_crossentropy([[1.0]], [[2.0]], from_logits=True, label_smoothing=0.2)[0])
    assert got == pytest.approx(0.9 * math.log1p(math.exp(-2)) + 0.1 * math.log1p(math.exp(2)), rel=1e-6)


def test_keras_sigmoid_and_softmax_outputs_use_their_logits():
    # A saturated sigmoid output is exactly 1.0 in float32; clipping would
    # give -log(1e-7) = 16.1, the logits give the exact 30.
    logits = B.constant([[-30.0]], "float32")
    probs = keras.activations.sigmoid(logits)
    assert float(kl.binary_crossentropy([[1.0]], probs)[0]) == pytest.approx(30.0, rel=1e-6)
    probs = keras.activations.softmax(B.constant([[-30.0, 0.0]], "float32"))
    assert float(kl.categorical_crossentropy([[1.0, 0.0]], probs)[0]) == pytest.approx(30.0, rel=1e-6)


def test_focal_confident_mistake_keeps_a_gradient():
    alpha = 0.25
    loss = kl.binary_focal_crossentropy([[1.0]], [[-1e4]], alpha=alpha, from_logits=True)
    assert float(loss[0]) == pytest.approx(alpha * 1e4, rel=1e-6)
    (g,) = grad(lambda x: kl.binary_focal_crossentropy([[1.0]], x, alpha=alpha, from_logits=True), [[-1e4]])
    assert g[0, 0] == pytest.approx(-alpha, rel=1e-6)
    (g,) = grad(lambda x: kl.categorical_focal_crossentropy([[1.0, 0.0]], x, alpha=alpha, from_logits=True),
                [[-1e4, 1e4]])
    np.testing.assert_allclose(g, [[-alpha, alpha]], rtol=1e-6)


def test_focal_with_gamma_zero_is_weighted_cross_entropy(rng):
    logits = rng.normal(size=(5, 3))
    labels = np.eye(3)[rng.integers(0, 3, 5)]
    got = kl.categorical_focal_crossentropy(labels, logits, alpha=0.3, gamma=0.0, from_logits=True)
    np.testing.assert_allclose(value(got), 0.3 * value(kl.categorical_crossentropy(labels, logits, from_logits=True)))


# information ------------------------------------------------------------------------
def test_kl_is_exactly_zero_for_identical_distributions(rng):
    p = rng.dirichlet(np.ones(6), size=4).astype(np.float32)
    p[:, 0] = 0.0
    assert (value(kl.kl_divergence(p, p)) == 0.0).all()


def test_kl_has_no_clipping_bias():
    p, q = np.array([[0.5, 0.5]]), np.array([[1e-9, 1 - 1e-9]])
    exact = 0.5 * math.log(0.5 / 1e-9) + 0.5 * math.log(0.5 / (1 - 1e-9))
    assert float(kl.kl_divergence(p, q)[0]) == pytest.approx(exact, rel=1e-12)
    keras_value = float(keras.losses.KLDivergence()(p, q))
    assert abs(keras_value - exact) > 1.0  # Keras clips q to 1e-7


def test_entropy_and_cross_entropy_in_bits():
    assert float(kl.entropy([[0.5, 0.25, 0.25, 0.0]], base=2)[0]) == 1.5
    assert float(kl.cross_entropy([[1.0, 0.0]], [[0.25, 0.75]], base=2)[0]) == 2.0
    assert float(kl.entropy([[1.0, 0.0]])[0]) == 0.0


# margin -----------------------------------------------------------------------------
CS231N_SCORES = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]


def test_weston_watkins_cs231n_example():
    got = value(kl.weston_watkins_hinge([0, 1, 2], CS231N_SCORES))
    np.testing.assert_allclose(got, [2.9, 0.0, 12.9], rtol=1e-6)
    assert float(kl.WestonWatkinsHinge()([[0], [1], [2]], CS231N_SCORES)) == pytest.approx(15.8 / 3, rel=1e-6)


def test_crammer_singer_is_right_for_negative_scores():
    scores = [[-1.0, -3.0, -2.0]]
    # m = s_0 - max(s_1, s_2) = 1 -> loss 0; for label 1, m = -3 - (-1) = -2 -> 3.
    np.testing.assert_allclose(value(kl.crammer_singer_hinge([0], scores)), [0.0])
    np.testing.assert_allclose(value(kl.crammer_singer_hinge([1], scores)), [3.0])
    # Keras' CategoricalHinge takes max((1 - y) * s) = 0 over the excluded
    # class here, and so reports 3 for the correct, margin-satisfying label.
    assert float(keras.losses.CategoricalHinge()([[1.0, 0.0, 0.0]], scores)) == pytest.approx(2.0)


def test_crammer_singer_equals_keras_categorical_hinge_on_positive_scores(rng):
    scores = rng.uniform(0.1, 3.0, size=(7, 4))
    labels = rng.integers(0, 4, 7)
    ours = kl.crammer_singer_hinge(labels, scores)
    theirs = keras.losses.CategoricalHinge(reduction=None)(np.eye(4)[labels], scores)
    np.testing.assert_allclose(value(ours), value(theirs), rtol=1e-6)


def test_multilabel_margin_hand_value_and_degenerate_rows():
    got = value(kl.multilabel_margin([[1, 0, 1], [1, 1, 1], [0, 0, 0]], [[0.5, 0.2, -1.0], [1, 2, 3], [1, 2, 3]]))
    np.testing.assert_allclose(got, [0.7, 0.0, 0.0], rtol=1e-6)
    (g,) = grad(lambda s: kl.multilabel_margin([[1.0, 1.0], [0.0, 0.0]], s), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(g, np.zeros((2, 2)))


# games ------------------------------------------------------------------------------
def test_strict_cooperation_is_twice_the_max_of_batch_means():
    # Per-sample L_C = [0, 1], L_G = [1, 0]: batch means 0.5 and 0.5, so the
    # strict loss is 2 max(0.5, 0.5) = 1, not mean(2 max per sample) = 2.
    labels = np.array([0, 1])
    probs = np.array([[1.0, 0.0], [1.0, 0.0]])
    images = np.zeros((2, 1, 1, 1))
    recon = np.array([1.0, 0.0]).reshape(2, 1, 1, 1)
    y_true, y_pred = (labels, images), (probs, recon)
    lc, lg = kl.cooperative_terms(y_true, y_pred, classification="mse")
    np.testing.assert_allclose(value(lc), [0.0, 1.0])
    np.testing.assert_allclose(value(lg), [1.0, 0.0])
    assert float(kl.StrictCooperativeLoss(classification="mse")(y_true, y_pred)) == 1.0
    assert float(kl.StrictCooperativeLoss(classification="mse", reduction="none")(y_true, y_pred)[0]) == 2.0
    assert float(kl.strict_cooperative(0.3, 0.7)) == pytest.approx(2 * 0.7)
    assert float(kl.AdjustedCooperativeLoss(weight=3.0, classification="mse")(y_true, y_pred)) == 2.0


def test_cooperative_terms_accept_one_hot_labels():
    probs = np.array([[0.7, 0.3], [0.2, 0.8]])
    images = np.zeros((2, 2, 2, 1))
    sparse = kl.cooperative_terms((np.array([0, 1]), images), (probs, images))
    dense = kl.cooperative_terms((np.eye(2), images), (probs, images))
    np.testing.assert_allclose(value(sparse[0]), value(dense[0]))
    np.testing.assert_allclose(value(sparse[0]), -np.log([0.7, 0.8]), rtol=1e-6)


def test_gan_losses_hand_values():
    assert float(kl.discriminator_loss([[0.0]], [[0.0]])[0]) == pytest.approx(2 * math.log(2))
    assert float(kl.generator_loss([[0.0]])[0]) == pytest.approx(math.log(2))
    assert float(kl.generator_loss([[0.0]], non_saturating=False)[0]) == pytest.approx(-math.log(2))
    # probabilities: D(x) = 0.8, D(G(z)) = 0.4
    got = float(kl.discriminator_loss([[0.8]], [[0.4]], from_logits=False)[0])
    assert got == pytest.approx(-math.log(0.8) - math.log(0.6), rel=1e-6)
