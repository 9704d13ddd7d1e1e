"""Information-theoretic quantities: KL divergence, entropy, cross-entropy.

All use `xlogy`, so 0 log 0 = 0 exactly, with no clipping: identical
distributions have a KL divergence of exactly 0, and a zero-probability
event contributes exactly nothing to an entropy. (Keras' KLDivergence clips
both inputs to [1e-7, 1], which biases small probabilities.) Where the
true value is infinite (p > 0 where q = 0) the result is +inf.
"""

from __future__ import annotations

import math

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import check_in_range, check_same_shape, floats, propagate_nonfinite, xlogy


def _check_base(base):
    if isinstance(base, (int, float)) and (not base > 0 or base == 1):
        raise ValueError(f"`base` must be positive and not 1; received base={base!r}.")


def _distributions(p, q, p_name, q_name):
    p, q = floats(p, q)
    check_same_shape(p, q, p_name, q_name)
    check_in_range(p, p_name)
    check_in_range(q, q_name)
    return p, q


@propagate_nonfinite()
def kl_divergence(y_true, y_pred, from_logits=False, axis=-1):
    """Kullback-Leibler divergence KL(y_true || y_pred) per sample.

    .. math:: \\mathrm{KL}(p \\| q) = \\sum_k p_k \\log p_k - p_k \\log q_k

    Args:
        y_true: the reference distribution p, shape (B, ..., K).
        y_pred: the distribution q (probabilities), or its logits with
            `from_logits=True` (then log q = log_softmax(y_pred)).
        from_logits: whether y_pred holds logits.
        axis: the distribution axis.

    Returns:
        Per-sample divergences in nats, shape (B, ...).

    Example:
        >>> float(kl_divergence([[0.5, 0.5, 0.0]], [[0.5, 0.5, 0.0]])[0])
        0.0
        >>> round(float(kl_divergence([[1.0, 0.0]], [[0.5, 0.5]])[0]), 6)  # log 2
        0.693147
    """
    if from_logits:
        p, logits = floats(y_true, y_pred)
        check_same_shape(p, logits)
        check_in_range(p, "y_true")
        return ops.sum(xlogy(p, p) - p * ops.log_softmax(logits, axis=axis), axis=axis)
    p, q = _distributions(y_true, y_pred, "y_true", "y_pred")
    # Off the support of p both logarithms see 1, so those terms are
    # 0 * (0 - 0) = 0 exactly with finite gradients; identical p and q give
    # p * (log p - log p) = 0 exactly. (log p - log q, not log(p / q): the
    # quotient overflows float32 for subnormal q.)
    support = ops.greater(p, 0)
    ones = ops.ones_like(p)
    return ops.sum(p * (ops.log(ops.where(support, p, ones)) - ops.log(ops.where(support, q, ones))), axis=axis)


@propagate_nonfinite()
def entropy(p, base=math.e, axis=-1):
    """Shannon entropy H(p) = -sum_k p_k log_base p_k per sample.

    Args:
        p: probabilities, shape (B, ..., K).
        base: logarithm base (e: nats, 2: bits).
        axis: the distribution axis.

    Returns:
        Entropies, shape (B, ...).

    Example:
        >>> float(entropy([[0.5, 0.25, 0.25, 0.0]], base=2)[0])
        1.5
    """
    _check_base(base)
    (p,) = floats(p)
    check_in_range(p, "p")
    return -ops.sum(xlogy(p, p), axis=axis) / math.log(base)


@propagate_nonfinite()
def cross_entropy(p_true, p_pred, base=math.e, axis=-1):
    """Cross-entropy H(p, q) = -sum_k p_k log_base q_k per sample.

    Args:
        p_true: the reference distribution p, shape (B, ..., K).
        p_pred: the model distribution q, same shape.
        base: logarithm base (e: nats, 2: bits).
        axis: the distribution axis.

    Returns:
        Cross-entropies, shape (B, ...).

    Example:
        >>> float(cross_entropy([[1.0, 0.0]], [[0.25, 0.75]], base=2)[0])
        2.0
    """
    _check_base(base)
    p, q = _distributions(p_true, p_pred, "p_true", "p_pred")
    return -ops.sum(xlogy(p, q), axis=axis) / math.log(base)


def _entropy_loss(y_true, y_pred, base=math.e, axis=-1):
    """`entropy` of y_pred as a Loss; y_true is ignored."""
    return entropy(y_pred, base=base, axis=axis)


_REDUCTION = "sum_over_batch_size"


@register
class KLDivergence(LossFunctionWrapper):
    """KL divergence KL(y_true || y_pred); see `kl_divergence`.

    Example:
        >>> round(float(KLDivergence()([[1.0, 0.0]], [[0.5, 0.5]])), 4)  # log 2
        0.6931
    """

    def __init__(self, from_logits=False, axis=-1, reduction=_REDUCTION, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


@register
class Entropy(LossFunctionWrapper):
    """Entropy of the predicted distribution (y_true is ignored), e.g. as a
    confidence penalty; see `entropy`.

    Example:
        >>> round(float(Entropy(base=2)([[0.0, 0.0]], [[0.5, 0.5]])), 4)  # 1 bit
        1.0
    """

    ignores_y_true = True

    def __init__(self, base=math.e, axis=-1, reduction=_REDUCTION, name="entropy", dtype=None):
        _check_base(base)
        super().__init__(_entropy_loss, reduction=reduction, name=name, dtype=dtype, base=base, axis=axis)


@register
class CrossEntropy(LossFunctionWrapper):
    """Cross-entropy between probability vectors in any base; see
    `cross_entropy`.

    Example:
        >>> round(float(CrossEntropy(base=2)([[1.0, 0.0]], [[0.25, 0.75]])), 4)  # 2 bits
        2.0
    """

    def __init__(self, base=math.e, axis=-1, reduction=_REDUCTION, name="cross_entropy", dtype=None):
        _check_base(base)
        super().__init__(cross_entropy, reduction=reduction, name=name, dtype=dtype, base=base, axis=axis)
