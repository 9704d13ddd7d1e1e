"""Barron's general and adaptive robust loss (CVPR 2019), the general half.

.. math::
    \\rho(x, \\alpha, c) = \\frac{|\\alpha - 2|}{\\alpha}
        \\left[\\left(\\frac{(x/c)^2}{|\\alpha - 2|} + 1\\right)^{\\alpha/2} - 1\\right]

with its limits, which the formula reaches only as limits:

============  =====================================  ==========================
alpha         rho(x, alpha, c)                        name
============  =====================================  ==========================
2             (x/c)^2 / 2                             L2
1             sqrt((x/c)^2 + 1) - 1                   pseudo-Huber/Charbonnier
0             log((x/c)^2 / 2 + 1)                    Cauchy/Lorentzian
-2            2 (x/c)^2 / ((x/c)^2 + 4)               Geman-McClure
-inf          1 - exp(-(x/c)^2 / 2)                   Welsch/Leclerc
+inf          exp((x/c)^2 / 2) - 1                    (diverges)
============  =====================================  ==========================

Numerics: the general case is written as
(b/a) * expm1((a/2) * log1p(z/b)) with z = (x/c)^2 and b = abs(alpha - 2), so
that it loses no digits for small z; b and alpha are kept at least one
float32 ulp away from 0, so alpha values within float32 resolution of 0 or
2 (which the formula cannot resolve) land continuously on the limit. The
exact limits 0, 2, -inf and +inf are selected by `where`, and every branch
sees only inputs that are safe for it, so gradients (in x *and* alpha) are
finite everywhere, including at the limits.
"""

from __future__ import annotations

import functools
import math

import keras
from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    align_ranks,
    check_positive,
    check_scalar_range,
    constant,
    floats,
    maximum,
    mean,
    minimum,
    propagate_nonfinite,
)

# Half of float32's machine epsilon: the smallest gap to a limit that the
# general formula resolves in float32.
_EPS = 2.0**-24


def _rho(x, alpha, scale):
    """Elementwise rho(x, alpha, c) for tensor alpha (broadcastable to x)."""
    z = ops.square(x / scale)
    is_neg_inf = ops.equal(alpha, -math.inf)
    is_pos_inf = ops.equal(alpha, math.inf)
    is_zero = ops.equal(alpha, 0.0)
    is_two = ops.equal(alpha, 2.0)
    is_limit = is_neg_inf | is_pos_inf | is_zero | is_two

    zeros = ops.zeros_like(z)

    def only(mask):  # z where `mask`, 0 elsewhere: keeps unused branches finite
        return ops.where(mask, z, zeros)

    # General case on a safe alpha (limits replaced by 1, never selected).
    a = ops.where(is_limit, ops.ones_like(alpha), alpha)
    b = maximum(ops.abs(a - 2.0), _EPS)
    a_safe = ops.where(a >= 0, maximum(a, _EPS), minimum(a, -_EPS))
    z_general = only(~is_limit)
    general = (b / a_safe) * ops.expm1(0.5 * a_safe * ops.log1p(z_general / b))

    loss = general
    loss = ops.where(is_two, 0.5 * only(is_two), loss)
    loss = ops.where(is_zero, ops.log1p(0.5 * only(is_zero)), loss)
    loss = ops.where(is_neg_inf, -ops.expm1(-0.5 * only(is_neg_inf)), loss)
    loss = ops.where(is_pos_inf, ops.expm1(0.5 * only(is_pos_inf)), loss)
    return loss


@propagate_nonfinite()
def general_robust(y_true, y_pred, alpha=1.0, scale=1.0):
    """Barron's general robust loss per sample, averaged over the last axis.

    .. math::
        \\rho(x, \\alpha, c) = \\frac{|\\alpha - 2|}{\\alpha}
        \\left[\\left(\\frac{(x/c)^2}{|\\alpha - 2|} + 1\\right)^{\\alpha/2} - 1\\right],
        \\quad x = \\hat y - y

    alpha = 2 is L2/2, 1 pseudo-Huber, 0 Cauchy, -2 Geman-McClure, -inf
    Welsch; every real alpha and +/-inf is accepted. See the module
    docstring for the numerics.

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: predictions, same shape.
        alpha: shape parameter, a float (or a tensor broadcastable to the
            inputs, e.g. a trainable per-dimension shape).
        scale: the positive scale c (float or broadcastable tensor).

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(general_robust([[0.0]], [[2.0]], alpha=1.0)[0]), 6)  # sqrt(5) - 1
        1.236068

    Reference: J. T. Barron, "A General and Adaptive Robust Loss Function",
    CVPR 2019.
    """
    check_scalar_range(scale, "scale", low=0.0, low_open=True)
    y_true, y_pred = floats(y_true, y_pred)
    y_true, y_pred = align_ranks(y_true, y_pred)
    x = y_pred - y_true
    alpha = constant(alpha, x.dtype)
    scale = constant(scale, x.dtype)
    check_positive(scale, "scale")
    return mean(_rho(x, alpha, scale), axis=-1)


@register
class GeneralRobust(LossFunctionWrapper):
    """Barron's general robust loss with a fixed shape and scale; see
    `general_robust`. (A trainable alpha and scale live in
    `AdaptiveRobustLoss`, a layer, since `Loss` objects own no variables.)

    Example:
        >>> round(float(GeneralRobust(alpha=0.0, scale=1.0)([[0.0]], [[2.0]])), 4)  # log(3)
        1.0986
    """

    def __init__(self, alpha=1.0, scale=1.0, reduction="sum_over_batch_size", name="general_robust", dtype=None):
        check_scalar_range(scale, "scale", low=0.0, low_open=True)
        if isinstance(alpha, (int, float)):
            check_scalar_range(alpha, "alpha", low=-math.inf, high=math.inf)
        super().__init__(general_robust, reduction=reduction, name=name, dtype=dtype, alpha=alpha, scale=scale)


# --------------------------------------------------------------------------
# The adaptive half: a normalised density over residuals, trainable alpha
# and scale.
# --------------------------------------------------------------------------
# log Z(alpha) is smooth inside (0, 2) but its slope diverges (like
# log(2 - alpha)) at 2 and bends sharply near 0, which no polynomial spline in
# alpha follows. It is tabulated on a grid uniform in u, with
# alpha = 2 smoothstep(u) = 2 (3u^2 - 2u^3) (dense near both ends; inverse
# u = 1/2 - sin(asin(1 - alpha) / 3)), where the curve is smooth, and
# interpolated in u.
_ALPHA_MAX = 2.0
_SPLINE_KNOTS = 257


def _alpha_to_u(alpha):
    # Clipped inside [0, 2] so that asin's derivative stays finite.
    return 0.5 - ops.sin(ops.arcsin(ops.clip(1.0 - alpha, -1.0 + 1e-12, 1.0 - 1e-12)) / 3.0)


@functools.lru_cache(maxsize=1)
def _log_partition_spline():
    """Cubic-spline coefficients of log Z(alpha(u)) on a uniform u grid.

    Z(alpha) = integral of exp(-rho(x, alpha, 1)) over the real line, by
    adaptive quadrature (scipy's QUADPACK) at every knot, once per process
    (about 0.1 s). Returns (N, 4) float64 coefficients c so that on
    [u_k, u_k + h], log Z = c0 + c1 t + c2 t^2 + c3 t^3 with t = u - u_k.
    """
    import numpy as np
    from scipy.integrate import quad
    from scipy.interpolate import CubicSpline

    u = np.linspace(0.0, 1.0, _SPLINE_KNOTS)
    alphas = 2.0 * (3.0 * u**2 - 2.0 * u**3)
    alphas[0], alphas[-1] = 0.0, 2.0

    def rho(x, a):
        z = x * x
        if a == 0.0:
            return np.log1p(0.5 * z)
        if a == 2.0:
            return 0.5 * z
        b = abs(a - 2.0)
        return b / a * np.expm1(0.5 * a * np.log1p(z / b))

    log_z = [np.log(2.0 * quad(lambda x: np.exp(-rho(x, a)), 0.0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0])
             for a in alphas]
    spline = CubicSpline(u, log_z, bc_type="not-a-knot")
    # scipy stores c[k, i] for (u - u_i)^(3 - k); reorder to ascending powers.
    return np.ascontiguousarray(spline.c[::-1].T)


def log_partition(alpha):
    """log Z(alpha) of Barron's density, alpha in [0, 2]: a cubic spline
    through values integrated numerically, in a coordinate where the curve
    is smooth (see above); differentiable in alpha, within 1e-8 of direct
    integration for alpha in [0, 1.99] and 1e-7 up to 1.999.

    Z(0) = pi sqrt(2) (Cauchy), Z(1) = 2 e K_1(1), Z(2) = sqrt(2 pi) (normal).

    Example:
        >>> round(float(log_partition(2.0)), 6)  # log sqrt(2 pi)
        0.918939
    """
    coefficients = _log_partition_spline()
    (alpha,) = floats(alpha)
    table = ops.convert_to_tensor(coefficients, dtype=alpha.dtype)
    step = 1.0 / (_SPLINE_KNOTS - 1)
    u = _alpha_to_u(alpha)
    index = ops.clip(ops.cast(ops.floor(u / step), "int32"), 0, coefficients.shape[0] - 1)
    t = u - ops.cast(index, alpha.dtype) * step
    c = ops.take(table, index, axis=0)
    return ((c[..., 3] * t + c[..., 2]) * t + c[..., 1]) * t + c[..., 0]


@propagate_nonfinite()
def adaptive_nll(x, alpha, scale):
    """Elementwise -log p(x | alpha, c) = rho(x, alpha, c) + log c + log Z(alpha)
    of Barron's density (alpha in [0, 2], c > 0; broadcastable)."""
    (x,) = floats(x)
    alpha = constant(alpha, x.dtype)
    scale = constant(scale, x.dtype)
    return _rho(x, alpha, scale) + ops.log(scale) + log_partition(alpha)


@register
class AdaptiveRobustLoss(keras.layers.Layer):
    """Barron's adaptive robust loss: a layer owning a trainable shape alpha
    and scale c, whose output is the negative log-likelihood of residuals.

    .. math:: -\\log p(x \\mid \\alpha, c) = \\rho(x, \\alpha, c) + \\log c + \\log Z(\\alpha)

    alpha = lo + (hi - lo) sigmoid(a) stays in (lo, hi); c = softplus(s) +
    scale_lo stays positive. Minimising the NLL over alpha and c fits the
    shape of the residual distribution (alpha near 2 for Gaussian noise,
    small alpha for heavy-tailed noise with outliers), which a fixed loss
    cannot: rho alone would always prefer the smallest alpha.

    It is a layer because `Loss` objects own no variables. Call it on the
    residuals y_pred - y_true of shape (B, D): it returns the per-sample NLL
    (summed over D), shape (B,), and (with `add_loss=True`) adds its mean to
    the layer's losses, so a model containing it trains with `loss=None`.
    Computation is in float32 (or float64 for float64 inputs) whatever the
    global dtype policy.

    Args:
        alpha_lo, alpha_hi: the open range of alpha, within [0, 2].
        alpha_init: the initial alpha (default: the middle of the range).
        scale_lo: the smallest scale.
        scale_init: the initial scale (> scale_lo).
        shared: one alpha and scale for all D dimensions (default: one each).
        add_loss: whether to add the mean NLL to the layer's losses.

    Example:
        >>> layer = AdaptiveRobustLoss(alpha_init=1.0, scale_init=1.0)
        >>> nll = ops.convert_to_numpy(layer(ops.zeros((1, 1))))  # detached on every backend
        >>> round(float(nll[0]), 4)  # log Z(1) = log(2 e K1(1))
        1.1855

    Reference: J. T. Barron, "A General and Adaptive Robust Loss Function",
    CVPR 2019, Section 2.
    """

    def __init__(self, alpha_lo=0.001, alpha_hi=1.999, alpha_init=None, scale_lo=1e-5, scale_init=1.0,
                 shared=False, add_loss=True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        check_scalar_range(alpha_lo, "alpha_lo", 0.0, _ALPHA_MAX)
        check_scalar_range(alpha_hi, "alpha_hi", alpha_lo, _ALPHA_MAX, low_open=True)
        alpha_init = 0.5 * (alpha_lo + alpha_hi) if alpha_init is None else alpha_init
        check_scalar_range(alpha_init, "alpha_init", alpha_lo, alpha_hi, low_open=True, high_open=True)
        check_scalar_range(scale_lo, "scale_lo", low=0.0, low_open=True)
        check_scalar_range(scale_init, "scale_init", low=scale_lo, low_open=True)
        self.alpha_lo, self.alpha_hi, self.alpha_init = alpha_lo, alpha_hi, alpha_init
        self.scale_lo, self.scale_init = scale_lo, scale_init
        self.shared, self.add_loss_to_layer = shared, add_loss

    def build(self, input_shape):
        """Creates the latent alpha and scale: one pair per dimension (the last
        axis of `input_shape`), or one shared pair."""
        shape = () if self.shared else (input_shape[-1],)
        u = (self.alpha_init - self.alpha_lo) / (self.alpha_hi - self.alpha_lo)
        self.latent_alpha = self.add_weight(
            name="latent_alpha", shape=shape, initializer=keras.initializers.Constant(math.log(u / (1 - u))))
        s = self.scale_init - self.scale_lo
        self.latent_scale = self.add_weight(
            name="latent_scale", shape=shape, initializer=keras.initializers.Constant(s + math.log(-math.expm1(-s))))

    def alpha(self):
        """The current shape parameter(s), in (alpha_lo, alpha_hi)."""
        return self.alpha_lo + (self.alpha_hi - self.alpha_lo) * ops.sigmoid(self.latent_alpha)

    def scale(self):
        """The current scale(s), above scale_lo."""
        return ops.softplus(self.latent_scale) + self.scale_lo

    def call(self, residuals):
        """Per-sample negative log-likelihood of `residuals` (B, ..., D),
        summed over the last axis."""
        (x,) = floats(residuals)
        alpha, scale = ops.cast(self.alpha(), x.dtype), ops.cast(self.scale(), x.dtype)
        nll = ops.sum(adaptive_nll(x, alpha, scale), axis=-1)
        if self.add_loss_to_layer:
            self.add_loss(mean(nll))
        return nll

    def compute_output_shape(self, input_shape):
        """The batch shape: the input shape without its last axis."""
        return tuple(input_shape[:-1])

    def get_config(self):
        """Every `__init__` argument (the learned alpha and scale are weights)."""
        return {
            **super().get_config(),
            "alpha_lo": self.alpha_lo,
            "alpha_hi": self.alpha_hi,
            "alpha_init": self.alpha_init,
            "scale_lo": self.scale_lo,
            "scale_init": self.scale_init,
            "shared": self.shared,
            "add_loss": self.add_loss_to_layer,
        }
