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
(b/a) * expm1((a/2) * log1p(z/b)) with z = (x/c)^2 and b = |alpha - 2|, so
that it loses no digits for small z; b and alpha are kept at least one
float32 ulp away from 0, so alpha values within float32 resolution of 0 or
2 (which the formula cannot resolve) land continuously on the limit. The
exact limits 0, 2, -inf and +inf are selected by `where`, and every branch
sees only inputs that are safe for it, so gradients (in x *and* alpha) are
finite everywhere, including at the limits.
"""

from __future__ import annotations

import math

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    align_ranks,
    check_positive,
    check_scalar_range,
    constant,
    floats,
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
    b = ops.maximum(ops.abs(a - 2.0), _EPS)
    a_safe = ops.where(a >= 0, ops.maximum(a, _EPS), ops.minimum(a, -_EPS))
    z_general = only(~is_limit)
    general = (b / a_safe) * ops.expm1(0.5 * a_safe * ops.log1p(z_general / b))

    loss = general
    loss = ops.where(is_two, 0.5 * only(is_two), loss)
    loss = ops.where(is_zero, ops.log1p(0.5 * only(is_zero)), loss)
    loss = ops.where(is_neg_inf, -ops.expm1(-0.5 * only(is_neg_inf)), loss)
    loss = ops.where(is_pos_inf, ops.expm1(0.5 * only(is_pos_inf)), loss)
    return loss


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
    return ops.mean(_rho(x, alpha, scale), axis=-1)


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
