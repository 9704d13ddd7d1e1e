"""Shared numerics and input checks for every loss module.

Everything here is backend-agnostic (`keras.ops`), except `concrete`, which
asks the active backend whether a tensor has a value yet (eager) or is
symbolic (inside `tf.function` / `jax.jit`), so value checks run exactly
where they can.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from keras import backend, config, ops

_WIDE_FLOATS = ("float32", "float64")


# --------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------
def compute_dtype(*tensors) -> str:
    """The float dtype a loss computes in: float64 if any input is float64,
    else float32. 16-bit inputs are promoted so that loss math under mixed
    precision is float32."""
    for t in tensors:
        dtype = getattr(t, "dtype", None)  # Python lists/numbers: floatx
        if dtype is not None and backend.standardize_dtype(dtype) == "float64":
            return "float64"
    return "float32"


def as_float(x, dtype: str):
    """Cast to the compute dtype (integer labels go straight to it, never
    through a 16-bit float)."""
    x = ops.convert_to_tensor(x)
    if backend.standardize_dtype(x.dtype) != dtype:
        x = ops.cast(x, dtype)
    return x


def constant(value, dtype: str):
    """A hyperparameter (Python number, list or tensor) as a `dtype` tensor.

    Python numbers are converted straight to `dtype`: `ops.cast(0.7,
    "float64")` would go through float32 and give 0.699999988.
    """
    if hasattr(value, "dtype"):
        return ops.cast(value, dtype)
    return ops.convert_to_tensor(value, dtype=dtype)


def floats(*tensors):
    """Convert every argument to a tensor in one common compute dtype."""
    # A NumPy scalar goes through `np.asarray`: Keras' PyTorch backend turns
    # np.float64(x) into a float32 tensor, a 0-d array into a float64 one.
    tensors = [ops.convert_to_tensor(np.asarray(t) if isinstance(t, np.generic) else t) for t in tensors]
    dtype = compute_dtype(*tensors)
    return [as_float(t, dtype) for t in tensors]


def at_least_float32(dtype_name: str) -> str:
    return dtype_name if dtype_name in _WIDE_FLOATS else "float32"


# --------------------------------------------------------------------------
# safe elementary functions
# --------------------------------------------------------------------------
def xlogy(x, y):
    """x * log(y) with 0 * log(0) = 0 exactly and a finite gradient there."""
    zero = ops.equal(x, 0)
    safe_y = ops.where(zero, ops.ones_like(y), y)
    return ops.where(zero, ops.zeros_like(x), x * ops.log(safe_y))


def safe_sqrt(x):
    """sqrt(x) whose gradient at x = 0 is 0 instead of inf (double-where);
    NaN stays NaN (0 * x, not a constant 0, in the other branch)."""
    positive = ops.greater(x, 0)
    safe_x = ops.where(positive, x, ops.ones_like(x))
    return ops.where(positive, ops.sqrt(safe_x), 0.0 * x)


def propagate_nonfinite(coupled=False):
    """Decorator of a public loss function: NaN or +-inf anywhere in a float
    argument makes the loss non-finite (the bad-input rule of the package
    docstring), also where the math would hide it (a safe square root, a
    masked maximum, a saturated logit, a row dropped as invalid).

    The inputs are the parameters without a default (y_true, y_pred, ...);
    hyperparameters (a margin, alpha = -inf of the robust loss) are not
    inputs, however they are passed. Each float input x adds sum(0 * x) over
    its non-batch axes to the affected sample's value: 0 and a zero gradient
    for finite x, NaN for a non-finite one. With `coupled` (losses whose
    samples interact: triplet mining, NT-Xent), or where x and the result do
    not share a batch axis, the whole batch is poisoned.
    """
    import functools
    import inspect

    def decorate(fn):
        signature = inspect.signature(fn)
        inputs = [p.name for p in signature.parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            values = fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs).arguments
            poison = None
            for x in (bound[name] for name in inputs if name in bound):
                term = _nonfinite_poison(x, values, coupled)
                if term is not None:
                    poison = term if poison is None else poison + term
            return values if poison is None else values + poison

        return wrapper

    return decorate


def _nonfinite_poison(x, values, coupled):
    if x is None or isinstance(x, (str, bool)):
        return None
    if isinstance(x, tuple):  # the pair losses' (labels, images) / (probabilities, reconstructions)
        terms = [t for t in (_nonfinite_poison(v, values, coupled) for v in x) if t is not None]
        return sum(terms[1:], terms[0]) if terms else None
    x = ops.convert_to_tensor(x)
    if not backend.is_float_dtype(backend.standardize_dtype(x.dtype)):
        return None
    zero = ops.cast(x, values.dtype) * 0.0  # NaN exactly where x is NaN or +-inf
    rank, out_rank = len(x.shape), len(values.shape)
    same_batch = rank >= 1 and out_rank >= 1 and x.shape[0] is not None and x.shape[0] == values.shape[0]
    if coupled or not same_batch:
        return ops.sum(zero)
    per_sample = ops.sum(zero, axis=tuple(range(1, rank))) if rank > 1 else zero
    return ops.reshape(per_sample, (-1,) + (1,) * (out_rank - 1))


def empty_result(y_pred):
    """For a loss whose rows interact (a max over classes, a batch of
    embeddings): the empty per-sample result (shape (0,)) when `y_pred` has a
    static batch of 0, else None. Such a batch must not reach ops that reject
    empty tensors (a max without an initial value, a modulo by the batch size).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.shape and y_pred.shape[0] == 0:
        return ops.zeros((0,), compute_dtype(y_pred))
    return None


def masked_max(x, mask, axis=-1):
    """max over `axis` of the entries where `mask` is true; -inf where none.

    Masked-out entries are replaced by -inf (not a large constant), so the
    result never depends on the scale of `x` and gradients only reach the
    selected entry.
    """
    neg_inf = ops.full_like(x, -math.inf)
    return ops.max(ops.where(mask, x, neg_inf), axis=axis)


def logits_of(y_pred, from_logits: bool):
    """The float logits behind y_pred, or None for plain probabilities.

    Probabilities produced by a Keras sigmoid/softmax carry their logits
    (`_keras_logits` on the TensorFlow backend); those are used so that
    saturated outputs keep a gradient, as Keras itself does.
    """
    logits = y_pred if from_logits else getattr(y_pred, "_keras_logits", None)
    return None if logits is None else as_float(logits, compute_dtype(logits))


def log_probs(y_pred, from_logits: bool, axis: int = -1):
    """Log-probabilities from logits or probabilities along `axis`.

    From logits (see `logits_of`) by `log_softmax`; other probabilities are
    normalised to sum to one and clipped to [eps, 1 - eps], the Keras
    convention.
    """
    logits = logits_of(y_pred, from_logits)
    if logits is not None:
        return ops.log_softmax(logits, axis=axis)
    p = as_float(y_pred, compute_dtype(y_pred))
    p = p / ops.sum(p, axis=axis, keepdims=True)
    eps = epsilon()
    return ops.log(ops.clip(p, eps, 1.0 - eps))


def binary_log_probs(y_pred, from_logits: bool):
    """(log p, log(1 - p)) for a Bernoulli probability p, from logits when
    available (`from_logits` or a Keras sigmoid output), else clipped."""
    x = logits_of(y_pred, from_logits)
    if x is not None:
        return ops.log_sigmoid(x), ops.log_sigmoid(-x)
    p = as_float(y_pred, compute_dtype(y_pred))
    eps = epsilon()
    p = ops.clip(p, eps, 1.0 - eps)
    return ops.log(p), ops.log(1.0 - p)


def epsilon() -> float:
    """Keras' fuzz factor (`keras.config.epsilon()`, 1e-7 by default)."""
    return config.epsilon()


def masked_min(x, mask, axis=-1):
    """min over `axis` of the entries where `mask` is true; +inf where none."""
    return -masked_max(-x, mask, axis=axis)


def batched_searchsorted(sorted_rows, values, side="left"):
    """Row-wise `searchsorted`: for each row r, the insertion indices of
    values[r] into sorted_rows[r]. O(rows x (N + M) log N), no (N x M) matrix.

    `keras.ops.searchsorted` takes 1-D sequences only; the TensorFlow, JAX
    and PyTorch kernels are batched, so the backend's own is used.
    """
    name = backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.searchsorted(sorted_rows, values, side=side, out_type=tf.int32)
    if name == "jax":
        import jax
        import jax.numpy as jnp

        return jax.vmap(lambda s, v: jnp.searchsorted(s, v, side=side))(sorted_rows, values).astype("int32")
    if name == "torch":
        import torch

        return torch.searchsorted(sorted_rows.contiguous(), values.contiguous(), right=side == "right").int()
    return ops.vectorized_map(lambda sv: ops.searchsorted(sv[0], sv[1], side=side), (sorted_rows, values))


def l2_normalize(x, axis=-1):
    """x / ||x|| with a floor on the norm (1e-12, as Keras), so zero vectors
    map to zero with a finite gradient."""
    sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x * ops.rsqrt(maximum(sq, 1e-24))


# Keras 3.15 on PyTorch computes `maximum`, `minimum`, `matmul`, `norm` and
# `cumsum` of float64 tensors in float32 (its `result_type` maps float64 to
# float32 off TensorFlow). The helpers below are what the losses call
# instead (`gram` for a matmul of rows; the losses take norms as
# `safe_sqrt` of sums): they keep the inputs' dtype on every backend.
def _same_dtype(x, y):
    if not hasattr(x, "dtype"):
        x = constant(x, backend.standardize_dtype(y.dtype))
    if not hasattr(y, "dtype"):
        y = constant(y, backend.standardize_dtype(x.dtype))
    return x, y


def maximum(x, y):
    """Elementwise max in the inputs' dtype on every backend; at a tie the
    gradient goes to `x` (as TensorFlow's `maximum` sends it)."""
    if backend.backend() != "torch":
        return ops.maximum(x, y)
    x, y = _same_dtype(x, y)
    return ops.where(x >= y, x, y)


def minimum(x, y):
    """Elementwise min in the inputs' dtype on every backend; ties as
    `maximum`."""
    if backend.backend() != "torch":
        return ops.minimum(x, y)
    x, y = _same_dtype(x, y)
    return ops.where(x <= y, x, y)


def gram(a, b):
    """a b^T for row vectors (N, D) x (M, D) -> (N, M), in their dtype on
    every backend."""
    return ops.einsum("nd,md->nm", a, b)


def cumsum(x, axis=-1):
    """`ops.cumsum` in the input's dtype on every backend."""
    if backend.backend() == "torch":
        import torch

        return torch.cumsum(x, dim=axis)
    return ops.cumsum(x, axis=axis)


def magnitude(x):
    """|x| with the subgradient 0 at x = 0 on every backend (TensorFlow's
    `abs` has it; JAX's has gradient 1 there), so a zero residual exerts no
    pull in either direction."""
    return ops.sign(x) * x


def mean(x, axis=None, keepdims=False):
    """`ops.mean` that keeps float64 exact on every backend: Keras 3.15's JAX
    `mean` computes in `result_type(dtype, "float32")`, which is float32 for
    float64 inputs (an error of 1e-8 relative); a sum divided by the count
    is exact to rounding on each backend."""
    x = ops.convert_to_tensor(x)
    axes = range(len(x.shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    count = 1
    for a in axes:
        count *= x.shape[a] if x.shape[a] is not None else ops.shape(x)[a]
    return ops.sum(x, axis=axis, keepdims=keepdims) / ops.cast(count, x.dtype)


def reduce_all_but_batch(x, op=mean):
    """Reduce every axis but the first: per-sample values of an image loss."""
    if len(x.shape) <= 1:
        return x
    return op(x, axis=tuple(range(1, len(x.shape))))


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def concrete(x):
    """The NumPy value of `x` when it has one (eager), else None (graph mode).

    Value checks (label ranges, probability ranges) run on concrete tensors
    only; inside `tf.function` or `jax.jit` they are skipped, so compiled
    training pays nothing for them.
    """
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return np.asarray(x)
    name = backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly() or not hasattr(x, "numpy"):
            return None
    elif name == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    return np.asarray(ops.convert_to_numpy(x))


def align_ranks(y_true, y_pred):
    """Give y_true and y_pred the same rank when they differ by a trailing
    axis of size 1 ((B,) vs (B, 1)), then require equal static shapes."""
    t_rank, p_rank = len(y_true.shape), len(y_pred.shape)
    if t_rank == p_rank + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif p_rank == t_rank + 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, axis=-1)
    check_same_shape(y_true, y_pred)
    return y_true, y_pred


def check_same_shape(a, b, name_a="y_true", name_b="y_pred"):
    sa, sb = tuple(a.shape), tuple(b.shape)
    compatible = len(sa) == len(sb) and all(
        x is None or y is None or x == y for x, y in zip(sa, sb)
    )
    if not compatible:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape; received "
            f"{name_a}.shape={sa} and {name_b}.shape={sb}."
        )


def check_in_range(x, name, low=0.0, high=1.0, what="probabilities"):
    """Eager-only: every entry of `x` lies in [low, high] (NaN fails)."""
    value = concrete(x)
    if value is None or value.size == 0:
        return
    ok = (value >= low) & (value <= high)
    if not ok.all():
        bad = value[~ok].ravel()[0]
        raise ValueError(
            f"`{name}` must hold {what} in [{low}, {high}]; received a value "
            f"of {bad!r} (first of {int((~ok).sum())} out of range)."
        )


def check_positive(x, name):
    value = concrete(x)
    if value is not None and value.size and not (value > 0).all():
        bad = value[~(value > 0)].ravel()[0]
        raise ValueError(f"`{name}` must be positive; received a value of {bad!r}.")


def check_scalar_range(value, name, low=None, high=None, low_open=False, high_open=False):
    """Argument check for Python-number hyperparameters, NumPy scalars included
    (tensors pass through to `check_in_range` semantics only when concrete)."""
    if not isinstance(value, numbers.Real):
        return
    if math.isnan(value):
        raise ValueError(f"`{name}` must be a number; received {name}={value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(
            f"`{name}` must be in {lo}{low}, {high}{hi}; received {name}={value!r}."
        )


def sparse_labels(y_true, y_pred, axis=-1, check_range=True):
    """Integer class labels of shape y_pred.shape without `axis`.

    Accepts (B,) or (B, 1) labels (any dtype holding whole numbers). Labels
    that came in as floats (Keras casts y_true to the loss dtype, float32,
    exact up to 2**24) are cast back to int32. Eager mode checks the range
    [0, num_classes).
    """
    y_true = ops.convert_to_tensor(y_true)
    axis = axis % len(y_pred.shape)
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != axis)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    got = tuple(y_true.shape)
    if len(got) != len(expected) or any(
        a is not None and b is not None and a != b for a, b in zip(got, expected)
    ):
        raise ValueError(
            "`y_true` must hold one integer label per row of `y_pred`, shape "
            f"{expected} (or with a trailing 1); received y_true.shape={got} "
            f"for y_pred.shape={tuple(y_pred.shape)}."
        )
    num_classes = y_pred.shape[axis] if check_range else None
    value = concrete(y_true)
    if value is not None and value.size:
        bad = value != np.round(value)
        if check_range:
            bad |= value < 0
        if num_classes is not None:
            bad |= value >= num_classes
        if bad.any():
            valid = f"integer class labels in [0, {num_classes})" if check_range else "integer labels"
            raise ValueError(f"`y_true` must hold {valid}; received a label of {value[bad].ravel()[0]!r}.")
    if not backend.is_int_dtype(backend.standardize_dtype(y_true.dtype)):
        y_true = ops.cast(y_true, "int32")
    return y_true


def class_labels(y_true, scores, axis=-1):
    """`sparse_labels` with the range [0, K) enforced in every mode: (labels,
    scores). Eager mode raises a `ValueError` (see `sparse_labels`); in a
    TensorFlow graph an assertion raises `InvalidArgumentError` when the step
    runs; and where no runtime assertion exists (XLA, `jax.jit`) the scores of
    a sample with an out-of-range label become NaN, so its loss is NaN, never
    a finite number computed from an all-zero one-hot row."""
    labels = sparse_labels(y_true, scores, axis)
    if concrete(labels) is not None:
        return labels, scores
    num_classes = scores.shape[axis]
    if backend.backend() == "tensorflow":
        import tensorflow as tf

        message = f"`y_true` must hold integer class labels in [0, {num_classes})"
        with tf.control_dependencies([
            tf.debugging.assert_greater_equal(labels, tf.cast(0, labels.dtype), message=message),
            tf.debugging.assert_less(labels, tf.cast(num_classes, labels.dtype), message=message),
        ]):
            labels = tf.identity(labels)
    valid = ops.logical_and(ops.greater_equal(labels, 0), ops.less(labels, num_classes))
    poison = ops.where(valid, ops.zeros_like(labels, dtype=scores.dtype), ops.full_like(labels, math.nan,
                                                                                          dtype=scores.dtype))
    return labels, scores + ops.expand_dims(poison, axis)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}; received {name}={value!r}."
        )
