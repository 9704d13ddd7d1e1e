"""Regression losses: MAE, MSE, RMSE, Huber, squared log error, pinball.

Every function takes `y_true` and `y_pred` of the same shape (a trailing
axis of size 1 may be missing on either side, as in Keras), computes in
float32 (float64 for float64 inputs) and returns one value per sample: the
mean over the last axis, the Keras convention.
"""

from __future__ import annotations

from keras import ops

from keraslosses._base import LossFunctionWrapper, register, rescaled, unscaled
from keraslosses._utils import (
    align_ranks,
    check_positive,
    check_scalar_range,
    constant,
    floats,
    magnitude,
    maximum,
    mean,
    minimum,
    propagate_nonfinite,
    safe_sqrt,
)


def _residual(y_true, y_pred):
    y_true, y_pred = floats(y_true, y_pred)
    y_true, y_pred = align_ranks(y_true, y_pred)
    return y_pred - y_true


@propagate_nonfinite()
def mean_absolute_error(y_true, y_pred):
    """Mean absolute error per sample.

    .. math:: \\ell(y, \\hat y) = \\frac{1}{D} \\sum_d |\\hat y_d - y_d|

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: predictions, same shape.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> float(mean_absolute_error([[0.0, 1.0]], [[1.0, 1.0]])[0])
        0.5
    """
    return mean(magnitude(_residual(y_true, y_pred)), axis=-1)


@propagate_nonfinite()
def mean_squared_error(y_true, y_pred):
    """Mean squared error per sample.

    .. math:: \\ell(y, \\hat y) = \\frac{1}{D} \\sum_d (\\hat y_d - y_d)^2

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: predictions, same shape.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> float(mean_squared_error([[0.0, 1.0]], [[1.0, 3.0]])[0])
        2.5
    """
    return mean(ops.square(_residual(y_true, y_pred)), axis=-1)


@propagate_nonfinite()
def root_mean_squared_error(y_true, y_pred):
    """Per-sample RMSE over the last axis, sqrt(mean_d (y_pred - y_true)^2).

    The gradient at zero error is 0 (safe sqrt), not inf. For the RMSE of a
    whole batch (the dataset RMSE) use the `RootMeanSquaredError` class,
    which takes the square root after the weighted mean over samples.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(root_mean_squared_error([[0.0, 0.0]], [[3.0, 4.0]])[0]) ** 2, 4)
        12.5
    """
    return safe_sqrt(mean_squared_error(y_true, y_pred))


@propagate_nonfinite()
def huber(y_true, y_pred, delta=1.0):
    """Huber loss per sample (Huber 1964).

    .. math::
        h(r) = \\tfrac12 r^2 \\text{ if } |r| \\le \\delta, \\quad
        \\delta (|r| - \\tfrac12 \\delta) \\text{ otherwise}

    averaged over the last axis, with r = y_pred - y_true.

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: predictions, same shape.
        delta: the positive threshold between the quadratic and linear parts.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> float(huber([[0.0, 0.0]], [[0.5, 3.0]], delta=1.0)[0])
        1.3125

    Reference: P. J. Huber, "Robust Estimation of a Location Parameter", 1964.
    """
    check_scalar_range(delta, "delta", low=0.0, low_open=True)
    abs_r = magnitude(_residual(y_true, y_pred))
    delta = constant(delta, abs_r.dtype)
    # min(|r|, delta) is the quadratic part; the rest grows linearly. This
    # form has no branch, so both pieces are finite everywhere.
    quadratic = minimum(abs_r, delta)
    linear = abs_r - quadratic
    return mean(0.5 * ops.square(quadratic) + delta * linear, axis=-1)


@propagate_nonfinite()
def squared_log_error(y_true, y_pred, offset=1.0):
    """Squared logarithmic error per sample.

    .. math:: \\ell = \\frac{1}{D} \\sum_d (\\log(\\hat y_d + c) - \\log(y_d + c))^2

    with offset c. `offset=1` is the usual MSLE (computed with `log1p`);
    `offset=0` is the squared log ratio and needs positive inputs. Unlike
    Keras' MSLE nothing is clipped: eager mode raises a `ValueError` when
    y + offset <= 0; in graph mode such entries give NaN.

    Args:
        y_true: targets, shape (B, ..., D), with y_true + offset > 0.
        y_pred: predictions, same shape, with y_pred + offset > 0.
        offset: the constant c >= 0 added before the logarithm.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(squared_log_error([[1.0]], [[6.389056]])[0]), 4)  # (2 - log 2)^2
        1.7079
    """
    check_scalar_range(offset, "offset", low=0.0)
    y_true, y_pred = floats(y_true, y_pred)
    y_true, y_pred = align_ranks(y_true, y_pred)
    check_positive(y_true + offset, "y_true + offset")
    check_positive(y_pred + offset, "y_pred + offset")
    if offset == 1.0:
        log_true, log_pred = ops.log1p(y_true), ops.log1p(y_pred)
    else:
        log_true, log_pred = ops.log(y_true + offset), ops.log(y_pred + offset)
    return mean(ops.square(log_pred - log_true), axis=-1)


@propagate_nonfinite()
def pinball(y_true, y_pred, tau=0.5):
    """Pinball (quantile) loss per sample (Koenker & Bassett 1978).

    .. math:: \\ell_\\tau(r) = \\max(\\tau r, (\\tau - 1) r), \\quad r = y - \\hat y

    averaged over the last axis. Minimising it makes y_pred the tau-quantile
    of y; tau = 0.5 is half the absolute error.

    Args:
        y_true: targets, shape (B, ..., D).
        y_pred: predicted quantiles, same shape.
        tau: the quantile level in [0, 1].

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> float(pinball([[1.0, 1.0]], [[0.0, 2.0]], tau=0.9)[0])  # (0.9 + 0.1) / 2
        0.5

    Reference: R. Koenker and G. Bassett, "Regression Quantiles", 1978.
    """
    check_scalar_range(tau, "tau", low=0.0, high=1.0)
    r = -_residual(y_true, y_pred)
    tau = constant(tau, r.dtype)
    return mean(maximum(tau * r, (tau - 1.0) * r), axis=-1)


# --------------------------------------------------------------------------
# Loss classes
# --------------------------------------------------------------------------
_REDUCTION = "sum_over_batch_size"


@register
class MeanAbsoluteError(LossFunctionWrapper):
    """Mean absolute error; see `mean_absolute_error`.

    Example:
        >>> round(float(MeanAbsoluteError()([[0.0], [1.0]], [[1.0], [1.0]])), 4)  # 0.5
        0.5
    """

    def __init__(self, reduction=_REDUCTION, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


@register
class MeanSquaredError(LossFunctionWrapper):
    """Mean squared error; see `mean_squared_error`.

    Example:
        >>> round(float(MeanSquaredError()([[0.0], [1.0]], [[2.0], [1.0]])), 4)  # 2.0
        2.0
    """

    def __init__(self, reduction=_REDUCTION, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


@register
class RootMeanSquaredError(LossFunctionWrapper):
    """Root of the (weighted) mean squared error over the batch.

    .. math:: \\mathrm{RMSE} = \\sqrt{\\operatorname{reduce}_i\\, w_i\\,
              \\tfrac1D \\textstyle\\sum_d (\\hat y_{id} - y_{id})^2}

    `call` returns the per-sample mean squared errors, the base class reduces
    them with the sample weights, the mask and `reduction`, and the square
    root is taken last: the dataset RMSE, not a mean of per-sample RMSEs.
    Residuals -10, -5, 0, 5, 10 give sqrt(50) = 7.0711. With
    `reduction="mean_with_sample_weight"` the weights are normalised by their
    sum (the weighted RMSE); with `"none"` each sample's RMSE is returned.
    The square root is safe: its gradient at zero error is 0, not inf.
    Under `tf.distribute`, the square root is taken of each replica's mean
    (it does not decompose over replicas), then scaled like any Keras loss.

    Example:
        >>> rmse = RootMeanSquaredError()
        >>> round(float(rmse([[0.0]] * 5, [[-10.0], [-5.0], [0.0], [5.0], [10.0]])), 4)
        7.0711
    """

    def __init__(self, reduction=_REDUCTION, name="root_mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mse = super().__call__(y_true, y_pred, sample_weight=sample_weight)
        return rescaled(safe_sqrt(unscaled(mse, self.reduction)), self.reduction)


@register
class Huber(LossFunctionWrapper):
    """Huber loss; see `huber`.

    Example:
        >>> round(float(Huber(delta=1.0)([[0.0]], [[3.0]])), 4)  # 2.5
        2.5
    """

    def __init__(self, delta=1.0, reduction=_REDUCTION, name="huber", dtype=None):
        check_scalar_range(delta, "delta", low=0.0, low_open=True)
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


@register
class SquaredLogError(LossFunctionWrapper):
    """Squared logarithmic error; see `squared_log_error`.

    Example:
        >>> round(float(SquaredLogError(offset=1.0)([[0.0]], [[1.718282]])), 4)  # 1.0
        1.0
    """

    def __init__(self, offset=1.0, reduction=_REDUCTION, name="squared_log_error", dtype=None):
        check_scalar_range(offset, "offset", low=0.0)
        super().__init__(squared_log_error, reduction=reduction, name=name, dtype=dtype, offset=offset)


@register
class Pinball(LossFunctionWrapper):
    """Pinball (quantile) loss; see `pinball`.

    Example:
        >>> round(float(Pinball(tau=0.9)([[1.0]], [[0.0]])), 4)  # 0.9
        0.9
    """

    def __init__(self, tau=0.5, reduction=_REDUCTION, name="pinball", dtype=None):
        check_scalar_range(tau, "tau", low=0.0, high=1.0)
        super().__init__(pinball, reduction=reduction, name=name, dtype=dtype, tau=tau)
