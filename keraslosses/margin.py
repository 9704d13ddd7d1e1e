"""Multiclass and multi-label margin (hinge) losses on raw scores.

Maxima over "the other classes" are masked maxima: the excluded entries are
set to -inf, never to a large constant or to 0, so the losses are right for
negative scores too. (Keras' `CategoricalHinge` takes max((1 - y) * s) and
so treats excluded classes as a score of 0: with all scores negative it is
wrong.)
"""

from __future__ import annotations

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    check_in_range,
    check_same_shape,
    class_labels,
    constant,
    empty_result,
    floats,
    masked_max,
    propagate_nonfinite,
)


def _scores_and_true_mask(y_true, y_pred):
    (scores,) = floats(y_pred)
    if len(scores.shape) < 2 or (scores.shape[-1] is not None and scores.shape[-1] < 2):
        raise ValueError(
            "`y_pred` must hold scores of shape (B, K) with K >= 2 classes; "
            f"received y_pred.shape={tuple(scores.shape)}."
        )
    labels, scores = class_labels(y_true, scores)
    # (B, K) boolean one-hot by one broadcast comparison.
    is_true = ops.equal(ops.arange(ops.shape(scores)[-1], dtype=labels.dtype)[None, :], labels[:, None])
    return scores, is_true


@propagate_nonfinite()
def weston_watkins_hinge(y_true, y_pred, margin=1.0):
    """The multiclass SVM loss of Weston & Watkins (the CS231n SVM loss).

    .. math:: \\ell = \\sum_{j \\ne y} \\max(0, s_j - s_y + \\Delta)

    Args:
        y_true: integer labels in [0, K), shape (B,) or (B, 1).
        y_pred: scores, shape (B, K).
        margin: the margin Delta.

    Returns:
        Per-sample losses, shape (B,).

    Example:
        >>> [round(float(v), 4) for v in weston_watkins_hinge(
        ...     [0, 1, 2], [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])]
        [2.9, 0.0, 12.9]

    Reference: J. Weston and C. Watkins, "Support Vector Machines for
    Multi-Class Pattern Recognition", ESANN 1999.
    """
    scores, is_true = _scores_and_true_mask(y_true, y_pred)
    true_score = ops.sum(ops.where(is_true, scores, ops.zeros_like(scores)), axis=-1, keepdims=True)
    hinge = ops.relu(scores - true_score + constant(margin, scores.dtype))
    # The j = y term is dropped by masking, not by subtracting max(0, margin).
    return ops.sum(ops.where(is_true, ops.zeros_like(hinge), hinge), axis=-1)


@propagate_nonfinite()
def crammer_singer_hinge(y_true, y_pred, margin=1.0):
    """The multiclass SVM loss of Crammer & Singer.

    .. math:: \\ell = \\max(0, \\Delta - m), \\quad m = s_y - \\max_{j \\ne y} s_j

    Args:
        y_true: integer labels in [0, K), shape (B,) or (B, 1).
        y_pred: scores, shape (B, K), K >= 2; any sign.
        margin: the margin Delta.

    Returns:
        Per-sample losses, shape (B,).

    Example:
        >>> [round(float(v), 4) for v in crammer_singer_hinge([0, 1], [[-1.0, -3.0], [-1.0, -3.0]])]
        [0.0, 3.0]

    Reference: K. Crammer and Y. Singer, "On the Algorithmic Implementation of
    Multiclass Kernel-based Vector Machines", JMLR 2001.
    """
    empty = empty_result(y_pred)
    if empty is not None:
        return empty
    scores, is_true = _scores_and_true_mask(y_true, y_pred)
    true_score = ops.sum(ops.where(is_true, scores, ops.zeros_like(scores)), axis=-1)
    best_other = masked_max(scores, ~is_true)
    return ops.relu(constant(margin, scores.dtype) - (true_score - best_other))


@propagate_nonfinite()
def multilabel_margin(y_true, y_pred, margin=1.0):
    """Multi-label margin loss on multi-hot labels.

    .. math:: \\ell = \\max(0, \\Delta - m), \\quad
              m = \\max_{j \\in K^+} s_j - \\max_{j \\in K^-} s_j

    K+ are the labels present (y_j = 1), K- the absent ones. A row with no
    positive or no negative label sets no constraint: its loss is 0 with a
    zero gradient.

    Args:
        y_true: multi-hot labels in {0, 1}, shape (B, K).
        y_pred: scores, shape (B, K).
        margin: the margin Delta.

    Returns:
        Per-sample losses, shape (B,).

    Example:
        >>> [round(float(v), 4) for v in multilabel_margin([[1, 0, 1]], [[0.5, 0.2, -1.0]])]
        [0.7]
    """
    empty = empty_result(y_pred)
    if empty is not None:
        return empty
    y_true, scores = floats(y_true, y_pred)
    check_same_shape(y_true, scores)
    check_in_range(y_true, "y_true", what="multi-hot labels")
    positive = ops.greater(y_true, 0.5)
    negative = ~positive
    valid = ops.any(positive, axis=-1) & ops.any(negative, axis=-1)
    m = masked_max(scores, positive) - masked_max(scores, negative)
    # Invalid rows have m = +/-inf or nan; replace before the hinge so the
    # gradient stays finite (double-where).
    m = ops.where(valid, m, ops.zeros_like(m))
    loss = ops.relu(constant(margin, scores.dtype) - m)
    return ops.where(valid, loss, ops.zeros_like(loss))


_REDUCTION = "sum_over_batch_size"


@register
class WestonWatkinsHinge(LossFunctionWrapper):
    """Weston-Watkins multiclass hinge; see `weston_watkins_hinge`.

    Example:
        >>> round(float(WestonWatkinsHinge()([0], [[3.2, 5.1, -1.7]])), 4)  # 2.9
        2.9
    """

    def __init__(self, margin=1.0, reduction=_REDUCTION, name="weston_watkins_hinge", dtype=None):
        super().__init__(weston_watkins_hinge, reduction=reduction, name=name, dtype=dtype, margin=margin)


@register
class CrammerSingerHinge(LossFunctionWrapper):
    """Crammer-Singer multiclass hinge; see `crammer_singer_hinge`.

    Example:
        >>> round(float(CrammerSingerHinge()([1], [[-1.0, -3.0]])), 4)  # 3.0
        3.0
    """

    def __init__(self, margin=1.0, reduction=_REDUCTION, name="crammer_singer_hinge", dtype=None):
        super().__init__(crammer_singer_hinge, reduction=reduction, name=name, dtype=dtype, margin=margin)


@register
class MultiLabelMargin(LossFunctionWrapper):
    """Multi-label margin loss; see `multilabel_margin`.

    Example:
        >>> round(float(MultiLabelMargin()([[1, 0, 1]], [[0.5, 0.2, -1.0]])), 4)  # 0.7
        0.7
    """

    def __init__(self, margin=1.0, reduction=_REDUCTION, name="multilabel_margin", dtype=None):
        super().__init__(multilabel_margin, reduction=reduction, name=name, dtype=dtype, margin=margin)
