"""Classification losses: binary/categorical/sparse cross-entropy (with label
smoothing) and focal losses.

Numerics: everything is computed from log-probabilities. With
`from_logits=True` they come from `log_sigmoid` / `log_softmax`; a Keras
sigmoid/softmax output is recognised and its logits used (as Keras does);
other probabilities are clipped to [eps, 1 - eps] (eps = 1e-7), the Keras
convention, which is what keeps probability inputs finite. Integer labels
are gathered as integers and never pass through a 16-bit float.

Input checks in eager mode: labels in [0, num_classes), targets and
probabilities in [0, 1], matching shapes (`ValueError` naming the argument
and the bad value). In graph mode only the static shapes are checked.
"""

from __future__ import annotations

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    align_ranks,
    as_float,
    binary_log_probs,
    check_in_range,
    check_same_shape,
    check_scalar_range,
    class_labels,
    constant,
    log_probs,
    logits_of,
    mean,
    propagate_nonfinite,
)


def _check_probabilities(y_pred, from_logits):
    if not from_logits and getattr(y_pred, "_keras_logits", None) is None:
        check_in_range(y_pred, "y_pred")


def _bernoulli_targets(y_true, like):
    y_true, _ = align_ranks(as_float(y_true, like.dtype), like)
    check_in_range(y_true, "y_true", what="targets")
    return y_true


def _binary_terms(y_true, y_pred, from_logits):
    """Targets and (log p, log(1-p)) for the Bernoulli losses."""
    _check_probabilities(y_pred, from_logits)
    log_p, log_q = binary_log_probs(y_pred, from_logits)
    return _bernoulli_targets(y_true, log_p), log_p, log_q


def _dense_targets(y_true, like):
    y_true = as_float(y_true, like.dtype)
    check_same_shape(y_true, like)
    check_in_range(y_true, "y_true", what="targets")
    return y_true


def _categorical_terms(y_true, y_pred, from_logits, axis):
    """Targets and log-probabilities for the dense categorical losses."""
    _check_probabilities(y_pred, from_logits)
    log_p = log_probs(y_pred, from_logits, axis)
    return _dense_targets(y_true, log_p), log_p


@propagate_nonfinite()
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Binary cross-entropy per sample, averaged over the last axis.

    .. math:: \\ell = -\\tfrac1D \\sum_d [\\tilde y_d \\log p_d + (1 - \\tilde y_d)\\log(1 - p_d)],
              \\quad \\tilde y = y (1 - s) + s / 2

    Args:
        y_true: targets in [0, 1], shape (B, ..., D).
        y_pred: logits or probabilities, same shape.
        from_logits: whether y_pred holds logits.
        label_smoothing: s in [0, 1]; targets are pulled towards 1/2.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(binary_crossentropy([[1.0]], [[0.0]], from_logits=True)[0]), 6)
        0.693147
    """
    check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    _check_probabilities(y_pred, from_logits)
    logits = logits_of(y_pred, from_logits)
    if logits is None:
        y, log_p, log_q = _binary_terms(y_true, y_pred, from_logits)
    else:
        y = _bernoulli_targets(y_true, logits)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:
        # The fused kernel: max(x, 0) - x y + log1p(exp(-|x|)), exact for any logit.
        return mean(ops.binary_crossentropy(y, logits, from_logits=True), axis=-1)
    return -mean(y * log_p + (1.0 - y) * log_q, axis=-1)


@propagate_nonfinite()
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy per sample.

    .. math:: \\ell = -\\sum_k \\tilde y_k \\log p_k,
              \\quad \\tilde y = y (1 - s) + s / K

    Args:
        y_true: one-hot or soft targets in [0, 1], shape (B, ..., K).
        y_pred: logits or probabilities, same shape.
        from_logits: whether y_pred holds logits.
        label_smoothing: s in [0, 1].
        axis: the class axis.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(categorical_crossentropy([[1, 0, 0, 0]], [[3.2, 1.3, 0.2, 0.8]],
        ...                                      from_logits=True)[0]), 4)
        0.2547
    """
    check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    _check_probabilities(y_pred, from_logits)
    logits = logits_of(y_pred, from_logits)
    log_p = log_probs(y_pred, from_logits, axis) if logits is None else None
    y = _dense_targets(y_true, logits if log_p is None else log_p)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    if logits is not None:
        # The fused softmax cross-entropy kernel: the same -sum y log_softmax,
        # with loss and gradient from one pass over the logits.
        return ops.categorical_crossentropy(y, logits, from_logits=True, axis=axis)
    return -ops.sum(y * log_p, axis=axis)


@propagate_nonfinite()
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy with integer labels, label smoothing included.

    .. math:: \\ell = -(1 - s) \\log p_y - \\frac{s}{K} \\sum_k \\log p_k

    which equals `categorical_crossentropy` of the one-hot labels with the
    same smoothing (Keras' sparse loss has no label smoothing).

    Args:
        y_true: integer labels in [0, K), shape (B, ...) or (B, ..., 1).
            Floats holding whole numbers are accepted (Keras passes labels
            as float32, exact up to 2**24).
        y_pred: logits or probabilities, shape (B, ..., K).
        from_logits: whether y_pred holds logits.
        label_smoothing: s in [0, 1].
        axis: the class axis of y_pred.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(sparse_categorical_crossentropy([0], [[3.2, 1.3, 0.2, 0.8]],
        ...                                             from_logits=True)[0]), 4)
        0.2547
    """
    check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    _check_probabilities(y_pred, from_logits)
    logits = logits_of(y_pred, from_logits)
    scores = logits if logits is not None else log_probs(y_pred, from_logits, axis)
    axis = axis % len(scores.shape)
    labels, scores = class_labels(y_true, scores, axis)
    if logits is not None:
        logits = scores
    if logits is not None and axis == len(scores.shape) - 1:
        # The fused sparse softmax cross-entropy kernel (last axis only).
        # Cast back: Keras' JAX kernel returns float64 for float32 logits when x64 is on.
        nll = ops.cast(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True), logits.dtype)
        mean_log_p = mean(logits, axis=axis) - ops.logsumexp(logits, axis=axis) if label_smoothing else None
    else:
        log_p = scores if logits is None else ops.log_softmax(logits, axis=axis)
        nll = -ops.squeeze(ops.take_along_axis(log_p, ops.expand_dims(labels, axis), axis=axis), axis=axis)
        mean_log_p = mean(log_p, axis=axis)
    if label_smoothing:
        nll = (1.0 - label_smoothing) * nll - label_smoothing * mean_log_p
    return nll


@propagate_nonfinite()
def binary_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False):
    """Binary focal loss per sample, averaged over the last axis.

    .. math:: \\ell = -\\alpha_t (1 - p_t)^\\gamma \\log p_t, \\quad
              \\alpha_t = \\alpha y + (1 - \\alpha)(1 - y)

    (written for soft targets as the focal weight times the binary
    cross-entropy). 1 - p_t = y (1 - p) + (1 - y) p is formed from
    sigmoid(-x) and sigmoid(x) directly, and log p_t from `log_sigmoid`, so a
    confident mistake (logit -1e4 for a positive) has loss 1e4 * alpha and
    gradient alpha, not a clipped constant.

    Args:
        y_true: targets in [0, 1], shape (B, ..., D).
        y_pred: logits or probabilities, same shape.
        alpha: weight of the positive class in [0, 1] (0.5 weighs both equally
            by 1/2; Keras' `apply_class_balancing=False` is alpha = 0.5 times 2).
        gamma: focusing parameter >= 0 (0 gives alpha-weighted BCE).
        from_logits: whether y_pred holds logits.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(binary_focal_crossentropy([[1.0]], [[0.0]], from_logits=True)[0]), 6)
        0.043322

    Reference: T.-Y. Lin et al., "Focal Loss for Dense Object Detection",
    ICCV 2017.
    """
    check_scalar_range(alpha, "alpha", 0.0, 1.0)
    check_scalar_range(gamma, "gamma", low=0.0)
    y, log_p, log_q = _binary_terms(y_true, y_pred, from_logits)
    bce = -(y * log_p + (1.0 - y) * log_q)
    one_minus_pt = y * ops.exp(log_q) + (1.0 - y) * ops.exp(log_p)
    alpha_t = y * alpha + (1.0 - y) * (1.0 - alpha)
    return mean(alpha_t * ops.power(one_minus_pt, gamma) * bce, axis=-1)


@propagate_nonfinite()
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, axis=-1):
    """Categorical focal loss per sample.

    .. math:: \\ell = -\\sum_k \\alpha_k\\, y_k (1 - p_k)^\\gamma \\log p_k

    1 - p_k is computed as -expm1(log p_k), exact for confident predictions.

    Args:
        y_true: one-hot or soft targets in [0, 1], shape (B, ..., K).
        y_pred: logits or probabilities, same shape.
        alpha: a weight for every class, or a list of K per-class weights.
        gamma: focusing parameter >= 0.
        from_logits: whether y_pred holds logits.
        axis: the class axis.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(categorical_focal_crossentropy([[0, 1]], [[0.0, 0.0]],
        ...                                            from_logits=True)[0]), 6)
        0.043322
    """
    check_scalar_range(gamma, "gamma", low=0.0)
    y, log_p = _categorical_terms(y_true, y_pred, from_logits, axis)
    alpha = constant(alpha, log_p.dtype)
    modulating = ops.power(-ops.expm1(log_p), gamma)
    return -ops.sum(alpha * modulating * y * log_p, axis=axis)


# --------------------------------------------------------------------------
# Loss classes
# --------------------------------------------------------------------------
_REDUCTION = "sum_over_batch_size"


@register
class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy; see `binary_crossentropy`.

    Example:
        >>> round(float(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)  # log 2
        0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction=_REDUCTION, name="binary_crossentropy",
                 dtype=None):
        check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


@register
class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy; see `categorical_crossentropy`.

    Example:
        >>> loss = CategoricalCrossentropy(from_logits=True)
        >>> round(float(loss([[1, 0, 0, 0]], [[3.2, 1.3, 0.2, 0.8]])), 4)
        0.2547
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_REDUCTION,
                 name="categorical_crossentropy", dtype=None):
        check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@register
class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Sparse categorical cross-entropy with label smoothing; see
    `sparse_categorical_crossentropy`.

    Example:
        >>> round(float(SparseCategoricalCrossentropy(from_logits=True)([0], [[3.2, 1.3, 0.2, 0.8]])), 4)  # 0.2547
        0.2547
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_REDUCTION,
                 name="sparse_categorical_crossentropy", dtype=None):
        check_scalar_range(label_smoothing, "label_smoothing", 0.0, 1.0)
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@register
class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal loss; see `binary_focal_crossentropy`.

    Example:
        >>> round(float(BinaryFocalCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)  # 0.0433
        0.0433
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, reduction=_REDUCTION,
                 name="binary_focal_crossentropy", dtype=None):
        check_scalar_range(alpha, "alpha", 0.0, 1.0)
        check_scalar_range(gamma, "gamma", low=0.0)
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits)


@register
class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal loss; see `categorical_focal_crossentropy`.

    Example:
        >>> round(float(CategoricalFocalCrossentropy(from_logits=True)([[0, 1]], [[0.0, 0.0]])), 4)  # 0.0433
        0.0433
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, axis=-1, reduction=_REDUCTION,
                 name="categorical_focal_crossentropy", dtype=None):
        check_scalar_range(gamma, "gamma", low=0.0)
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits, axis=axis)
