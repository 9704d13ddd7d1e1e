"""Metric-learning losses: triplet (with online mining), contrastive, cosine,
NT-Xent.

Distances (`distance=`):

* "euclidean": ||a - b||^2 with `squared=True` (the default), or ||a - b||
  with `squared=False`, through a safe square root whose gradient at 0 is 0
  (identical embeddings give a finite gradient, not NaN);
* "cosine": 1 - cos(a, b) (`squared` is ignored).

Online triplet mining (`TripletLoss`) works from the B x B distance matrix
only: O(B^2) memory for every mining strategy, never the B x B x B tensor of
all triplets. Each anchor's negative distances are sorted once; batch-all
sums and semi-hard negatives are then read off with a row-wise binary search
(O(B^2 log B) time), and maxima/minima over positives/negatives are masked
(-inf/+inf), not shifted by large constants.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    align_ranks,
    batched_searchsorted,
    check_choice,
    check_in_range,
    check_scalar_range,
    constant,
    cumsum,
    empty_result,
    floats,
    gram,
    l2_normalize,
    masked_max,
    masked_min,
    maximum,
    mean,
    minimum,
    propagate_nonfinite,
    safe_sqrt,
    sparse_labels,
)

_DISTANCES = ("euclidean", "cosine")
_MINING = ("batch_all", "batch_hard", "semi_hard")


# --------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------
def _finish(squared_or_cosine, distance, squared):
    if distance == "cosine" or squared:
        return squared_or_cosine
    return safe_sqrt(squared_or_cosine)


def row_distances(a, b, squared=True, distance="euclidean"):
    """Distances between matching rows of a and b, shape (B, ...)."""
    check_choice(distance, "distance", _DISTANCES)
    if distance == "cosine":
        return 1.0 - ops.sum(l2_normalize(a) * l2_normalize(b), axis=-1)
    return _finish(ops.sum(ops.square(a - b), axis=-1), distance, squared)


def pairwise_distances(embeddings, squared=True, distance="euclidean"):
    """The B x B distance matrix of (B, D) embeddings, exactly 0 on the
    diagonal and never negative (float rounding of the Gram form is
    clipped)."""
    check_choice(distance, "distance", _DISTANCES)
    (e,) = floats(embeddings)
    if distance == "cosine":
        z = l2_normalize(e)
        d = 1.0 - gram(z, z)
    else:
        sq = ops.sum(ops.square(e), axis=-1)
        d = sq[:, None] - 2.0 * gram(e, e) + sq[None, :]
    d = maximum(d, 0.0)
    eye = ops.eye(ops.shape(e)[0], dtype="bool")
    return _finish(ops.where(eye, ops.zeros_like(d), d), distance, squared)


# --------------------------------------------------------------------------
# triplets
# --------------------------------------------------------------------------
@propagate_nonfinite()
def triplet_margin(anchor, positive, negative, margin=1.0, squared=True, distance="euclidean"):
    """Triplet margin loss for explicit triplets.

    .. math:: \\ell = \\max(d(a, p) - d(a, n) + m, 0)

    Args:
        anchor, positive, negative: embeddings, shape (B, D) each.
        margin: the margin m >= 0.
        squared: squared Euclidean distance (default) or Euclidean.
        distance: "euclidean" or "cosine".

    Returns:
        Per-triplet losses, shape (B,).

    Example:
        >>> float(triplet_margin([[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.5]])[0])  # 1 - 2.25 + 1
        0.0
        >>> float(triplet_margin([[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]])[0])
        1.0

    Reference: F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet", CVPR 2015.
    """
    check_scalar_range(margin, "margin", low=0.0)
    a, p, n = floats(anchor, positive, negative)
    align_ranks(a, p)
    align_ranks(a, n)
    d_ap = row_distances(a, p, squared, distance)
    d_an = row_distances(a, n, squared, distance)
    return ops.relu(d_ap - d_an + constant(margin, d_ap.dtype))


def _triplet_loss_from_stacked(y_true, y_pred, **kwargs):
    (y_pred,) = floats(y_pred)
    if len(y_pred.shape) != 3 or y_pred.shape[1] != 3:
        raise ValueError(
            "`y_pred` must stack (anchor, positive, negative) as shape (B, 3, D); "
            f"received y_pred.shape={tuple(y_pred.shape)}."
        )
    return triplet_margin(y_pred[:, 0], y_pred[:, 1], y_pred[:, 2], **kwargs)


class _Triplets:
    """Masks and per-anchor sorted negative distances of a labelled batch."""

    def __init__(self, labels, embeddings, squared, distance):
        check_choice(distance, "distance", _DISTANCES)
        (embeddings,) = floats(embeddings)
        if len(embeddings.shape) != 2:
            raise ValueError(
                "`y_pred` must hold embeddings of shape (B, D); received "
                f"y_pred.shape={tuple(embeddings.shape)}."
            )
        # Labels index nothing, so any integer is a valid class id; the
        # range check of `sparse_labels` is against a dummy width of 1.
        labels = sparse_labels(labels, ops.zeros_like(embeddings[:, :1]), check_range=False)
        self.size = ops.shape(embeddings)[0]
        self.d = pairwise_distances(embeddings, squared, distance)
        same = ops.equal(labels[:, None], labels[None, :])
        self.positive = same & ~ops.eye(self.size, dtype="bool")
        self.negative = ~same
        self.num_negatives = ops.sum(ops.cast(self.negative, "int32"), axis=-1)
        # Non-negatives sort last as +inf; they are never read as a value.
        inf = ops.full_like(self.d, math.inf)
        self.sorted_negatives = ops.sort(ops.where(self.negative, self.d, inf), axis=-1)

    def zeros(self):
        return ops.zeros_like(self.d)

    def per_anchor(self, pair_losses, count):
        """Sum each anchor's losses and scale by B / count, so that the
        default mean over the batch is sum(losses) / count (0 if count = 0)."""
        count = ops.cast(count, self.d.dtype)
        scale = ops.cast(self.size, self.d.dtype) / maximum(count, 1.0)
        return ops.sum(pair_losses, axis=-1) * scale

    def batch_all(self, margin):
        threshold = self.d + margin  # negatives with d_an < d_ap + m are active
        active = batched_searchsorted(self.sorted_negatives, threshold, side="left")
        active = ops.where(self.positive, active, ops.zeros_like(active))
        finite = ops.where(ops.isfinite(self.sorted_negatives), self.sorted_negatives, self.zeros())
        prefix = ops.concatenate([ops.zeros_like(finite[:, :1]), cumsum(finite, axis=-1)], axis=-1)
        active_sum = ops.take_along_axis(prefix, active, axis=-1)
        # sum over active n of (d_ap + m - d_an) = count * (d_ap + m) - sum d_an
        losses = ops.cast(active, self.d.dtype) * threshold - active_sum
        losses = ops.where(self.positive, losses, self.zeros())
        return losses, ops.sum(active)

    def num_valid_triplets(self):
        num_pos = ops.sum(ops.cast(self.positive, "int32"), axis=-1)
        return ops.sum(num_pos * self.num_negatives)

    def batch_hard(self, margin):
        valid = ops.any(self.positive, axis=-1) & (self.num_negatives > 0)
        hardest_pos = ops.where(valid, masked_max(self.d, self.positive), 0.0)
        hardest_neg = ops.where(valid, masked_min(self.d, self.negative), 0.0)
        losses = ops.where(valid, ops.relu(hardest_pos - hardest_neg + margin), 0.0)
        return losses[:, None], ops.sum(ops.cast(valid, "int32"))

    def semi_hard(self, margin):
        # First negative strictly farther than the positive, if any; else the
        # hardest (closest) negative.
        index = batched_searchsorted(self.sorted_negatives, self.d, side="right")
        farther = index < self.num_negatives[:, None]
        index = minimum(index, ops.shape(self.d)[1] - 1)
        semi_hard = ops.take_along_axis(self.sorted_negatives, index, axis=-1)
        hardest = ops.broadcast_to(self.sorted_negatives[:, :1], ops.shape(self.d))
        valid = self.positive & (self.num_negatives > 0)[:, None]
        chosen = ops.where(valid, ops.where(farther, semi_hard, hardest), self.zeros())
        losses = ops.where(valid, ops.relu(self.d - chosen + margin), self.zeros())
        return losses, ops.sum(ops.cast(valid, "int32"))


@propagate_nonfinite(coupled=True)
def triplet_loss(y_true, y_pred, margin=1.0, mining="batch_all", squared=True, distance="euclidean"):
    """Triplet loss with online mining over a labelled batch.

    With d the pairwise distances, P(a) the positives of anchor a (same
    label, not a) and N(a) its negatives, l(a, p, n) = max(d_ap - d_an + m, 0):

    * "batch_all": the mean of l over the *active* triplets (l > 0) of all
      valid (a, p, n);
    * "batch_hard" (Hermans et al. 2017): per anchor, the hardest positive
      and negative, max(max_p d_ap - min_n d_an + m, 0), averaged over
      anchors that have both a positive and a negative;
    * "semi_hard" (Schroff et al. 2015): per positive pair (a, p), the
      negative n with the smallest d_an among those with d_an > d_ap (the
      hardest negative still farther than the positive); when none is
      farther, the hardest negative min_n d_an. Averaged over the positive
      pairs of anchors that have a negative.

    tensorflow-addons' `TripletSemiHardLoss` differs: when no negative is
    farther than the positive it falls back to the *easiest* negative
    (max_n d_an), it averages over all positive pairs (including anchors
    without negatives), it uses Euclidean (not squared) distances by
    default, and it builds a B^2 x B tensor.

    Anchors without a positive or a negative are excluded; a batch with no
    valid triplet gives 0 with a zero gradient.

    Per-sample values: `call` returns one value per anchor, the sum of that
    anchor's terms times B / (number of averaged terms), so that the default
    `sum_over_batch_size` reduction is exactly the definition above (and
    sample weights weigh anchors).

    Args:
        y_true: integer labels, shape (B,) or (B, 1).
        y_pred: embeddings, shape (B, D).
        margin: m >= 0.
        mining: "batch_all", "batch_hard" or "semi_hard".
        squared: squared Euclidean distances (default) or Euclidean.
        distance: "euclidean" or "cosine".

    Returns:
        Per-anchor values, shape (B,).

    Example:
        >>> labels = [0, 0, 1]
        >>> emb = [[0.0], [1.0], [1.5]]
        >>> round(float(ops.mean(triplet_loss(labels, emb, margin=1.0, mining="batch_hard"))), 4)
        0.875
    """
    empty = empty_result(y_pred)
    if empty is not None:
        return empty
    check_scalar_range(margin, "margin", low=0.0)
    check_choice(mining, "mining", _MINING)
    triplets = _Triplets(y_true, y_pred, squared, distance)
    losses, count = getattr(triplets, mining)(constant(margin, triplets.d.dtype))
    return triplets.per_anchor(losses, count)


@propagate_nonfinite(coupled=True)
def active_triplet_fraction(y_true, y_pred, margin=1.0, squared=True, distance="euclidean"):
    """The fraction of valid triplets with a positive loss (the batch-all
    "active" fraction), 0 when the batch has no valid triplet. A scalar.

    Example:
        >>> float(active_triplet_fraction([0, 0, 1], [[0.0], [1.0], [1.5]]))
        0.5
    """
    empty = empty_result(y_pred)
    if empty is not None:
        return empty
    active, valid = _active_and_valid(y_true, y_pred, margin, squared, distance)
    return ops.cast(active, "float32") / maximum(ops.cast(valid, "float32"), 1.0)


def _active_and_valid(y_true, y_pred, margin, squared, distance):
    triplets = _Triplets(y_true, y_pred, squared, distance)
    _, active = triplets.batch_all(constant(margin, triplets.d.dtype))
    return active, triplets.num_valid_triplets()


# --------------------------------------------------------------------------
# pairs
# --------------------------------------------------------------------------
@propagate_nonfinite()
def contrastive(y_true, y_pred, margin=1.0):
    """Contrastive loss on pair distances (Hadsell, Chopra & LeCun 2006).

    .. math:: \\ell = y\\, d^2 + (1 - y) \\max(m - d, 0)^2

    with y = 1 for similar pairs and 0 for dissimilar ones (the convention
    of tensorflow-addons; the paper writes Y = 0 for similar pairs and
    halves both terms).

    Args:
        y_true: 1 (similar) or 0 (dissimilar), shape (B,) or (B, 1).
        y_pred: pair distances d >= 0, same shape.
        margin: m >= 0.

    Returns:
        Per-pair losses, shape (B,) (mean over a trailing axis).

    Example:
        >>> [float(v) for v in contrastive([[1.0], [0.0]], [[0.5], [0.5]])]
        [0.25, 0.25]
    """
    check_scalar_range(margin, "margin", low=0.0)
    y, d = floats(y_true, y_pred)
    y, d = align_ranks(y, d)
    if len(d.shape) == 1:  # (B,) distances: one pair per row
        y, d = y[:, None], d[:, None]
    check_in_range(y, "y_true", what="pair labels")
    return mean(y * ops.square(d) + (1.0 - y) * ops.square(ops.relu(margin - d)), axis=-1)


def _pairs(y_pred):
    (pairs,) = floats(y_pred)
    if len(pairs.shape) != 3 or pairs.shape[1] != 2:
        raise ValueError(
            "`y_pred` must stack embedding pairs as shape (B, 2, D); received "
            f"y_pred.shape={tuple(pairs.shape)}."
        )
    return pairs[:, 0], pairs[:, 1]


@propagate_nonfinite()
def contrastive_embedding(y_true, y_pred, margin=1.0, distance="euclidean"):
    """`contrastive` on embedding pairs: y_pred (B, 2, D) holds both sides;
    d is the Euclidean (safe sqrt) or cosine distance between them.

    Example:
        >>> [float(v) for v in contrastive_embedding([1, 0], [[[0.0, 0.0], [0.3, 0.4]], [[0.0, 0.0], [0.3, 0.4]]])]
        [0.25, 0.25]
    """
    a, b = _pairs(y_pred)
    return contrastive(y_true, row_distances(a, b, squared=False, distance=distance), margin=margin)


@propagate_nonfinite()
def cosine_similarity_loss(y_true, y_pred, axis=-1):
    """1 - cos(y_true, y_pred) per sample, in [0, 2] and 0 for parallel
    vectors. (Keras' `CosineSimilarity` loss returns -cos, in [-1, 1]: the
    same gradients, shifted by one.) Zero vectors have cos = 0.

    Example:
        >>> float(cosine_similarity_loss([[1.0, 0.0]], [[0.0, 2.0]])[0])
        1.0
    """
    t, p = floats(y_true, y_pred)
    t, p = align_ranks(t, p)
    return 1.0 - ops.sum(l2_normalize(t, axis) * l2_normalize(p, axis), axis=axis)


@propagate_nonfinite()
def cosine_embedding(y_true, y_pred, margin=0.0):
    """Cosine embedding loss for labelled pairs (as PyTorch's).

    .. math:: \\ell = 1 - \\cos(a, b) \\text{ if } y = 1, \\quad
              \\max(0, \\cos(a, b) - m) \\text{ otherwise}

    Args:
        y_true: 1 for similar pairs; 0 or -1 for dissimilar; shape (B,) or (B, 1).
        y_pred: pairs, shape (B, 2, D).
        margin: m in [-1, 1].

    Example:
        >>> [float(v) for v in cosine_embedding([1, -1], [[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]]])]
        [0.0, 1.0]
    """
    check_scalar_range(margin, "margin", low=-1.0, high=1.0)
    a, b = _pairs(y_pred)
    cos = ops.sum(l2_normalize(a) * l2_normalize(b), axis=-1)
    (y,) = floats(y_true)
    y, cos = align_ranks(y, cos)  # one label per pair: a batch mismatch names both shapes
    return ops.where(y > 0, 1.0 - cos, ops.relu(cos - margin))


@propagate_nonfinite(coupled=True)
def nt_xent(y_true, y_pred, temperature=0.5):
    """NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR.

    y_pred holds 2N embeddings; rows i and i + N are two views of one
    example. With z the L2-normalised rows and s_ij = z_i . z_j / tau:

    .. math:: \\ell_i = -\\log \\frac{\\exp(s_{i, j(i)})}{\\sum_{k \\ne i} \\exp(s_{ik})}

    computed as a masked `log_softmax` (the self-similarity is excluded by a
    -inf mask), in float32 even for float16 inputs, so large 1/tau cannot
    overflow.

    Args:
        y_true: ignored (None or zeros).
        y_pred: embeddings, shape (2N, D).
        temperature: tau > 0.

    Returns:
        Per-view losses, shape (2N,).

    Example:
        >>> v = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
        >>> round(float(nt_xent(None, v, temperature=1.0)[0]), 4)  # -log(e / (e + 2))
        0.5514

    Reference: T. Chen et al., "A Simple Framework for Contrastive Learning
    of Visual Representations" (SimCLR), ICML 2020.
    """
    empty = empty_result(y_pred)
    if empty is not None:
        return empty
    check_scalar_range(temperature, "temperature", low=0.0, low_open=True)
    (z,) = floats(y_pred)
    if len(z.shape) != 2 or (z.shape[0] is not None and z.shape[0] % 2):
        raise ValueError(
            "`y_pred` must hold 2N embeddings (views i and i + N), shape (2N, D); "
            f"received y_pred.shape={tuple(z.shape)}."
        )
    z = l2_normalize(z)
    n2 = ops.shape(z)[0]
    logits = gram(z, z) / constant(temperature, z.dtype)
    eye = ops.eye(n2, dtype="bool")
    logits = ops.where(eye, ops.full_like(logits, -math.inf), logits)
    log_p = ops.log_softmax(logits, axis=-1)
    partner = (ops.arange(n2) + n2 // 2) % n2
    return -ops.squeeze(ops.take_along_axis(log_p, partner[:, None], axis=-1), axis=-1)


# --------------------------------------------------------------------------
# Loss classes
# --------------------------------------------------------------------------
_REDUCTION = "sum_over_batch_size"


@register
class TripletMarginLoss(LossFunctionWrapper):
    """`triplet_margin` on stacked triplets: y_pred = (B, 3, D) holding
    (anchor, positive, negative); y_true is ignored.

    Example:
        >>> loss = TripletMarginLoss(margin=1.0)
        >>> float(loss(None, [[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]]))
        1.0
    """

    ignores_y_true = True

    def __init__(self, margin=1.0, squared=True, distance="euclidean", reduction=_REDUCTION,
                 name="triplet_margin", dtype=None):
        check_scalar_range(margin, "margin", low=0.0)
        check_choice(distance, "distance", _DISTANCES)
        super().__init__(_triplet_loss_from_stacked, reduction=reduction, name=name, dtype=dtype,
                         margin=margin, squared=squared, distance=distance)


@register
class TripletLoss(LossFunctionWrapper):
    """Triplet loss with online mining; see `triplet_loss` for the exact
    definitions of "batch_all", "batch_hard" and "semi_hard".

    y_true: integer labels (B,); y_pred: embeddings (B, D).

    Example:
        >>> loss = TripletLoss(margin=1.0, mining="semi_hard")
        >>> round(float(loss([0, 0, 1], [[0.0], [1.0], [1.5]])), 4)
        0.875
    """

    def __init__(self, margin=1.0, mining="batch_all", squared=True, distance="euclidean", reduction=_REDUCTION,
                 name="triplet_loss", dtype=None):
        check_scalar_range(margin, "margin", low=0.0)
        check_choice(mining, "mining", _MINING)
        check_choice(distance, "distance", _DISTANCES)
        super().__init__(triplet_loss, reduction=reduction, name=name, dtype=dtype,
                         margin=margin, mining=mining, squared=squared, distance=distance)


@register
class ActiveTripletFraction(keras.metrics.Metric):
    """Running fraction of active triplets (batch-all loss > 0) among valid
    ones, to watch next to a `TripletLoss`: `metrics=[ActiveTripletFraction()]`.
    """

    def __init__(self, margin=1.0, squared=True, distance="euclidean", name="active_triplet_fraction", dtype=None):
        super().__init__(name=name, dtype=dtype)
        check_choice(distance, "distance", _DISTANCES)
        self.margin, self.squared, self.distance = margin, squared, distance
        self.active = self.add_variable(shape=(), initializer="zeros", name="active")
        self.valid = self.add_variable(shape=(), initializer="zeros", name="valid")

    def update_state(self, y_true, y_pred, sample_weight=None):
        active, valid = _active_and_valid(y_true, y_pred, self.margin, self.squared, self.distance)
        self.active.assign_add(ops.cast(active, self.active.dtype))
        self.valid.assign_add(ops.cast(valid, self.valid.dtype))

    def result(self):
        return ops.divide_no_nan(self.active, self.valid)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "squared": self.squared, "distance": self.distance}


@register
class ContrastiveLoss(LossFunctionWrapper):
    """Contrastive loss on pair distances; see `contrastive`.

    Example:
        >>> float(ContrastiveLoss(margin=1.0)([[0.0]], [[0.5]]))
        0.25
    """

    def __init__(self, margin=1.0, reduction=_REDUCTION, name="contrastive", dtype=None):
        check_scalar_range(margin, "margin", low=0.0)
        super().__init__(contrastive, reduction=reduction, name=name, dtype=dtype, margin=margin)


@register
class ContrastiveEmbeddingLoss(LossFunctionWrapper):
    """Contrastive loss on embedding pairs (B, 2, D); see `contrastive_embedding`.

    Example:
        >>> float(ContrastiveEmbeddingLoss()([[1.0]], [[[0.0, 0.0], [0.3, 0.4]]]))
        0.25
    """

    def __init__(self, margin=1.0, distance="euclidean", reduction=_REDUCTION, name="contrastive_embedding",
                 dtype=None):
        check_scalar_range(margin, "margin", low=0.0)
        check_choice(distance, "distance", _DISTANCES)
        super().__init__(contrastive_embedding, reduction=reduction, name=name, dtype=dtype, margin=margin,
                         distance=distance)


@register
class CosineSimilarity(LossFunctionWrapper):
    """1 - cos(y_true, y_pred); see `cosine_similarity_loss`. (Keras'
    `keras.losses.CosineSimilarity` is -cos: ours = 1 + Keras'.)

    Example:
        >>> float(CosineSimilarity()([[1.0, 0.0]], [[1.0, 0.0]]))
        0.0
    """

    def __init__(self, axis=-1, reduction=_REDUCTION, name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity_loss, reduction=reduction, name=name, dtype=dtype, axis=axis)


@register
class CosineEmbedding(LossFunctionWrapper):
    """Cosine embedding loss for labelled pairs; see `cosine_embedding`.

    Example:
        >>> float(CosineEmbedding(margin=0.5)([[-1.0]], [[[1.0, 0.0], [1.0, 0.0]]]))
        0.5
    """

    def __init__(self, margin=0.0, reduction=_REDUCTION, name="cosine_embedding", dtype=None):
        check_scalar_range(margin, "margin", low=-1.0, high=1.0)
        super().__init__(cosine_embedding, reduction=reduction, name=name, dtype=dtype, margin=margin)


@register
class NTXent(LossFunctionWrapper):
    """NT-Xent (SimCLR); see `nt_xent`. y_true is ignored (None or zeros).

    Example:
        >>> v = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
        >>> round(float(NTXent(temperature=1.0)(None, v)), 4)
        0.5514
    """

    ignores_y_true = True

    def __init__(self, temperature=0.5, reduction=_REDUCTION, name="nt_xent", dtype=None):
        check_scalar_range(temperature, "temperature", low=0.0, low_open=True)
        super().__init__(nt_xent, reduction=reduction, name=name, dtype=dtype, temperature=temperature)
