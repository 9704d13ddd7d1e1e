"""Label handling shared by the games: one-hot labels with the unlabelled
mask, wrong labels for matching-aware discriminators, the semi-supervised
masking of a label array, and the masked accuracy and per-sample errors the
games report.

The zoo's label contract: integer labels (B,) or (B, 1) in [0, K); -1 marks
an unlabelled sample.
"""

from __future__ import annotations

import numpy as np
from keras import ops

import keraslosses as kl

UNLABELLED = -1

_PER_SAMPLE = {"mae": kl.mean_absolute_error, "mse": kl.mean_squared_error}
ERRORS = tuple(_PER_SAMPLE)


def per_sample_error(target, output, kind):
    """Mean absolute ("mae") or squared ("mse") error over every non-batch
    axis, per sample: shape (B,)."""
    flat = (ops.reshape(t, (ops.shape(t)[0], -1)) for t in (target, output))
    return _PER_SAMPLE[kind](*flat)


def one_hot_labels(y, num_classes):
    """(B,) or (B, 1) integer labels -> (one-hot float32 (B, K), labelled mask
    (B,)). Label -1 marks an unlabelled sample (all-zero row, mask False)."""
    y = ops.reshape(ops.cast(y, "int32"), (-1,))
    return ops.one_hot(y, num_classes, dtype="float32"), ops.greater_equal(y, 0)


def mismatched_one_hot(y, num_classes):
    """One-hot vectors of a *wrong* class for each sample: sample i of the batch
    gets class (y_i + 1 + i mod (K - 1)) mod K, never y_i, and across a batch
    every wrong class appears. Deterministic, so no random state is needed:
    shuffling the data changes which wrong class a sample meets."""
    y = ops.reshape(ops.cast(y, "int32"), (-1,))
    shift = 1 + ops.mod(ops.arange(ops.shape(y)[0], dtype="int32"), max(num_classes - 1, 1))
    return ops.one_hot(ops.mod(y + shift, num_classes), num_classes, dtype="float32")


def mask_labels(y, fraction, seed=0):
    """A copy of integer labels where all but `fraction` of each class are
    replaced by -1 (unlabelled); the kept samples are a seeded random choice.

        >>> mask_labels([0, 0, 0, 0, 1, 1, 1, 1], 0.5, seed=0).tolist().count(-1)
        4
    """
    y = np.asarray(y).copy()
    flat = y.reshape(-1)
    rng = np.random.default_rng(seed)
    for label in np.unique(flat[flat >= 0]):
        index = np.flatnonzero(flat == label)
        keep = max(1, round(fraction * len(index)))
        flat[rng.permutation(index)[keep:]] = UNLABELLED
    return y


def masked_accuracy(probs, onehot, labelled):
    """Accuracy of argmax(probs) over the labelled samples (a plain mean: a
    metric, not a replica share)."""
    mask = ops.cast(labelled, "float32")
    correct = ops.cast(ops.equal(ops.argmax(probs, -1), ops.argmax(onehot, -1)), "float32")
    return ops.sum(correct * mask) / ops.maximum(ops.sum(mask), 1.0)
