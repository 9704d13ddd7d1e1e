"""Negative log-likelihoods of predicted distributions, and the VAE's KL term.

The network predicts the parameters of a distribution over the target; the
loss is the negative log density of the target, constants included (so the
values are true NLLs in nats and can be compared across models).

`y_pred` layouts (D = number of target dimensions, K = mixture components):

========================  =====================  ==================================
loss                      y_true                 y_pred (last axis)
========================  =====================  ==================================
gaussian_nll              (..., D)               [mean (D) | log-variance (D)]
laplace_nll               (..., D)               [mean (D) | log-scale (D)]
laplace_mixture_nll       (..., 1) or (...)      [logits (K) | means (K) | log-scales (K)]
gaussian_kl               mean (..., D)          log_var (..., D)
========================  =====================  ==================================

Log-parameters (not variances or scales) are predicted so that any real
output is valid and the densities need no clipping.
"""

from __future__ import annotations

import math

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import align_ranks, floats, magnitude, propagate_nonfinite

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def _leading_axes_differ(y_true, y_pred):
    """Whether two tensors of equal rank disagree on a known non-last axis."""
    return any(a is not None and b is not None and a != b for a, b in zip(y_true.shape[:-1], y_pred.shape[:-1]))


def _split_params(y_true, y_pred, parts, what):
    """Split y_pred's last axis into `parts` blocks of y_true's width."""
    y_true, y_pred = floats(y_true, y_pred)
    if len(y_true.shape) == len(y_pred.shape) - 1:
        y_true = ops.expand_dims(y_true, -1)
    width = y_true.shape[-1]
    if len(y_true.shape) != len(y_pred.shape) or y_pred.shape[-1] != parts * width or _leading_axes_differ(
            y_true, y_pred):
        raise ValueError(
            f"`y_pred` must have the shape of `y_true` with a last axis of "
            f"{parts} x {width} ({what}); received y_true.shape="
            f"{tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
        )
    return y_true, ops.split(y_pred, parts, axis=-1)


@propagate_nonfinite()
def gaussian_nll(y_true, y_pred):
    """Negative log-likelihood of a diagonal Gaussian with predicted mean and
    log-variance.

    .. math::
        -\\log p(y) = \\sum_d \\tfrac12 \\left[\\log 2\\pi + s_d
                      + (y_d - \\mu_d)^2 e^{-s_d}\\right], \\quad s = \\log\\sigma^2

    Args:
        y_true: targets, shape (B, ..., D) (a missing trailing axis of 1 is added).
        y_pred: `concat([mean, log_var], axis=-1)`, shape (B, ..., 2D).

    Returns:
        Per-sample NLL in nats (summed over the D dimensions), shape (B, ...).

    Example:
        >>> round(float(gaussian_nll([[0.0]], [[0.0, 0.0]])[0]), 6)  # log(2 pi) / 2
        0.918939

    Reference: D. A. Nix and A. S. Weigend, "Estimating the mean and variance
    of the target probability distribution", ICNN 1994.
    """
    y_true, (mean, log_var) = _split_params(y_true, y_pred, 2, "mean, log-variance")
    nll = 0.5 * (_LOG_2PI + log_var + ops.square(y_true - mean) * ops.exp(-log_var))
    return ops.sum(nll, axis=-1)


@propagate_nonfinite()
def laplace_nll(y_true, y_pred):
    """Negative log-likelihood of a diagonal Laplace distribution with
    predicted location and log-scale.

    .. math::
        -\\log p(y) = \\sum_d \\left[\\log 2 + t_d + |y_d - \\mu_d| e^{-t_d}\\right],
        \\quad t = \\log b

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: `concat([mean, log_scale], axis=-1)`, shape (B, ..., 2D).

    Returns:
        Per-sample NLL in nats, shape (B, ...).

    Example:
        >>> round(float(laplace_nll([[1.0]], [[0.0, 0.0]])[0]), 6)  # log 2 + 1
        1.693147
    """
    y_true, (mean, log_scale) = _split_params(y_true, y_pred, 2, "mean, log-scale")
    nll = _LOG_2 + log_scale + magnitude(y_true - mean) * ops.exp(-log_scale)
    return ops.sum(nll, axis=-1)


@propagate_nonfinite()
def laplace_mixture_nll(y_true, y_pred):
    """Negative log-likelihood of a K-component Laplace mixture (scalar target).

    .. math::
        -\\log p(y) = -\\operatorname{logsumexp}_k\\left[\\log\\pi_k
            - \\log 2 - t_k - |y - \\mu_k| e^{-t_k}\\right],
        \\quad \\log\\pi = \\operatorname{log\\_softmax}(\\text{logits})

    computed with `log_softmax` and `logsumexp`, so a component far from the
    target never underflows the sum to log(0).

    Args:
        y_true: scalar targets, shape (B, ..., 1) or (B, ...). For a D-dim
            target with independent mixtures, pass y_true (B, D, 1) and
            y_pred (B, D, 3K): the result is (B, D).
        y_pred: `concat([logits, means, log_scales], axis=-1)`, shape (B, ..., 3K).

    Returns:
        Per-sample NLL in nats, shape (B, ...).

    Example:
        >>> # one component: same as laplace_nll
        >>> round(float(laplace_mixture_nll([[1.0]], [[5.0, 0.0, 0.0]])[0]), 6)
        1.693147
    """
    y_true, y_pred = floats(y_true, y_pred)
    if len(y_true.shape) == len(y_pred.shape) - 1:
        y_true = ops.expand_dims(y_true, -1)
    if (
        len(y_true.shape) != len(y_pred.shape)
        or y_true.shape[-1] != 1
        or (y_pred.shape[-1] is not None and y_pred.shape[-1] % 3)
        or _leading_axes_differ(y_true, y_pred)
    ):
        raise ValueError(
            "`y_true` must hold one scalar target per row, shape (..., 1), and "
            "`y_pred` the (..., 3K) mixture parameters [logits | means | "
            f"log-scales]; received y_true.shape={tuple(y_true.shape)} and "
            f"y_pred.shape={tuple(y_pred.shape)}."
        )
    logits, means, log_scales = ops.split(y_pred, 3, axis=-1)
    log_weights = ops.log_softmax(logits, axis=-1)
    log_density = -_LOG_2 - log_scales - magnitude(y_true - means) * ops.exp(-log_scales)
    return -ops.logsumexp(log_weights + log_density, axis=-1)


def _expm1_minus_identity(s):
    """e^s - 1 - s without cancellation: the Taylor series s^2/2 + s^3/6 +
    s^4/24 (+ s^5/120, relative error below 2e-13 for |s| < 0.01) near 0,
    where the difference of `expm1(s)` and s loses every digit the backend's
    `expm1` rounds off; `expm1(s) - s` elsewhere."""
    small = ops.abs(s) < 0.01
    near = ops.where(small, s, ops.zeros_like(s))  # keeps the unused branch finite
    series = ops.square(near) * (0.5 + near * (1.0 / 6.0 + near * (1.0 / 24.0 + near / 120.0)))
    return ops.where(small, series, ops.expm1(s) - s)


@propagate_nonfinite()
def gaussian_kl(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) per sample, the VAE term.

    .. math::
        \\mathrm{KL} = \\tfrac12 \\sum_d \\left[\\mu_d^2 + \\left(e^{s_d} - 1 - s_d\\right)\\right]

    with e^s - 1 computed by `expm1`, so the term is exact (not a difference
    of nearly equal numbers) when the posterior is close to the prior.

    Args:
        mean: posterior means, shape (B, ..., D).
        log_var: posterior log-variances, same shape.

    Returns:
        Per-sample KL in nats, shape (B, ...).

    Example:
        >>> float(gaussian_kl([[0.0, 0.0]], [[0.0, 0.0]])[0])
        0.0

    Reference: D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes",
    ICLR 2014, Appendix B.
    """
    mean, log_var = floats(mean, log_var)
    mean, log_var = align_ranks(mean, log_var)
    return 0.5 * ops.sum(ops.square(mean) + _expm1_minus_identity(log_var), axis=-1)


def _gaussian_kl_loss(y_true, y_pred):
    """`gaussian_kl` on y_pred = [mean | log_var]; y_true is ignored."""
    (y_pred,) = floats(y_pred)
    if y_pred.shape[-1] is not None and y_pred.shape[-1] % 2:
        raise ValueError(
            "`y_pred` must be concat([mean, log_var], axis=-1), an even last "
            f"axis; received y_pred.shape={tuple(y_pred.shape)}."
        )
    mean, log_var = ops.split(y_pred, 2, axis=-1)
    return gaussian_kl(mean, log_var)


_REDUCTION = "sum_over_batch_size"


@register
class GaussianNLL(LossFunctionWrapper):
    """Gaussian negative log-likelihood; see `gaussian_nll` for the layout.

    Example:
        >>> round(float(GaussianNLL()([[0.0]], [[0.0, 0.0]])), 4)  # 0.9189
        0.9189
    """

    def __init__(self, reduction=_REDUCTION, name="gaussian_nll", dtype=None):
        super().__init__(gaussian_nll, reduction=reduction, name=name, dtype=dtype)


@register
class LaplaceNLL(LossFunctionWrapper):
    """Laplace negative log-likelihood; see `laplace_nll` for the layout.

    Example:
        >>> round(float(LaplaceNLL()([[1.0]], [[0.0, 0.0]])), 4)  # 1.6931
        1.6931
    """

    def __init__(self, reduction=_REDUCTION, name="laplace_nll", dtype=None):
        super().__init__(laplace_nll, reduction=reduction, name=name, dtype=dtype)


@register
class LaplaceMixtureNLL(LossFunctionWrapper):
    """Laplace-mixture negative log-likelihood; see `laplace_mixture_nll`.

    Example:
        >>> round(float(LaplaceMixtureNLL()([[1.0]], [[5.0, 0.0, 0.0]])), 4)  # 1.6931
        1.6931
    """

    def __init__(self, reduction=_REDUCTION, name="laplace_mixture_nll", dtype=None):
        super().__init__(laplace_mixture_nll, reduction=reduction, name=name, dtype=dtype)


@register
class GaussianKL(LossFunctionWrapper):
    """`gaussian_kl` as a Loss: y_pred = concat([mean, log_var], -1), shape
    (B, 2D); y_true is ignored (pass zeros), as for an encoder output whose
    KL to the prior is the target.

    Example:
        >>> round(float(GaussianKL()([[0.0]], [[1.0, 0.0]])), 4)  # 0.5
        0.5
    """

    ignores_y_true = True

    def __init__(self, reduction=_REDUCTION, name="gaussian_kl", dtype=None):
        super().__init__(_gaussian_kl_loss, reduction=reduction, name=name, dtype=dtype)
