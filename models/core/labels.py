"""Label handling shared by the games: one-hot labels with the unlabelled
mask, wrong labels for matching-aware discriminators, the semi-supervised
masking of a label array, and the masked accuracy and per-sample errors the
games report.

The zoo's label contract: integer labels (B,) or (B, 1) in [0, K); -1 marks
an unlabelled sample.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
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
    (B,)). Label -1 marks an unlabelled sample (all-zero row, mask False).

    Any other label outside [0, K) is an error when the step runs (a graph
    assertion; `GameModel.fit` rejects such array labels before any step)."""
    y = ops.reshape(ops.cast(y, "int32"), (-1,))
    y = assert_labels_in_range(y, num_classes, UNLABELLED)
    return ops.one_hot(y, num_classes, dtype="float32"), ops.greater_equal(y, 0)


def assert_labels_in_range(labels, num_classes, unlabelled):
    """`labels` (int32), with a graph assertion that each lies in [0, K) or
    equals `unlabelled`: the step fails with `InvalidArgumentError` instead of
    training on an all-zero one-hot row. Eager tensors are checked at once."""
    valid = tf.logical_or(tf.equal(labels, unlabelled),
                          tf.logical_and(labels >= 0, labels < num_classes))
    message = f"labels must lie in [0, {num_classes}) or be {unlabelled} (unlabelled)"
    with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(valid), [message, labels], summarize=8)]):
        return tf.identity(labels)


def check_arrays(x, y, input_shape, num_classes):
    """Validate NumPy training data before any step: images of `input_shape`
    with values in [0, 1], at least one sample, and (when `num_classes`)
    integer labels in [0, K) or -1, one per image. Raises a `ValueError`
    naming the argument and the value received."""
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"`x` must hold at least one image; received an empty array of shape {x.shape}.")
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"`x` must hold images of shape {tuple(input_shape)} (the model's input shape); received "
                         f"x.shape={x.shape}.")
    low, high = np.min(x), np.max(x)
    if not (np.isfinite(low) and np.isfinite(high)) or low < 0.0 or high > 1.0:
        raise ValueError(f"`x` must hold finite pixel values in [0, 1]; received values in [{low}, {high}] "
                         "(scale images by 1/255).")
    if y is None or not num_classes:
        return
    y = np.asarray(y)
    if y.shape not in ((len(x),), (len(x), 1)):
        raise ValueError(f"`y` must hold one integer label per image, shape ({len(x)},) or ({len(x)}, 1); received "
                         f"y.shape={y.shape}.")
    bad = (y != np.round(y)) | (y < UNLABELLED) | (y >= num_classes)
    if bad.any():
        raise ValueError(f"`y` must hold integer labels in [0, {num_classes}) or {UNLABELLED} (unlabelled); received "
                         f"a label of {y[bad].ravel()[0]!r}.")


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
