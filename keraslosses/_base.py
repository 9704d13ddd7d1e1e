"""The thin `keras.losses.Loss` base every keraslosses class derives from."""

from __future__ import annotations

import keras
from keras import backend, dtype_policies, ops

from keraslosses._utils import at_least_float32

PACKAGE = "keraslosses"


def register(cls):
    """Register a public class for `.keras` (de)serialization."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def _math_dtype(dtype):
    """The dtype handed to `keras.losses.Loss`: the requested one, promoted
    to float32 when it is a 16-bit float (so the base class never casts
    integer labels or loss values through float16/bfloat16)."""
    policy = dtype_policies.get(dtype or backend.floatx())
    return at_least_float32(policy.compute_dtype)


def _config_dtype(dtype):
    if dtype is None or isinstance(dtype, str):
        return dtype
    return getattr(dtype, "name", str(dtype))


_AVERAGING = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


def _trailing(x, rank):
    """`x` with trailing unit axes up to `rank` (so it broadcasts against a
    tensor of that rank sharing its leading axes)."""
    for _ in range(rank - len(x.shape)):
        x = ops.expand_dims(x, -1)
    return x


class LossFunctionWrapper(keras.losses.Loss):
    """A `Loss` whose `call` is a pure per-sample function of this package.

    `call` returns per-sample values and the Keras base class does the
    reduction, so sample weights, masks, every `reduction` and the
    `tf.distribute` scaling behave exactly as for Keras' own losses.
    `get_config` returns every constructor argument, `dtype` included.

    Args:
        fn: the pure loss function `fn(y_true, y_pred, **kwargs)`.
        reduction: one of `"sum_over_batch_size"` (default), `"sum"`,
            `"mean"`, `"mean_with_sample_weight"`, `"none"` or `None`.
        name: the loss name.
        dtype: dtype of the returned loss. 16-bit requests compute in
            float32 (the loss is never computed in half precision); `None`
            means `keras.backend.floatx()`.
        **kwargs: the keyword arguments of `fn`, stored for `get_config`.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=_math_dtype(dtype))
        self.fn = fn
        self._requested_dtype = _config_dtype(dtype)
        self._fn_kwargs = kwargs

    #: Subclasses whose `fn` does not read y_true accept `y_true=None`.
    ignores_y_true = False

    def __call__(self, y_true, y_pred, sample_weight=None):
        if y_true is None and self.ignores_y_true:
            y_pred = ops.convert_to_tensor(y_pred)
            y_true = ops.zeros(ops.shape(y_pred)[:1])
        if self.reduction in _AVERAGING and backend.backend() == "torch":
            loss = self._average(y_true, y_pred, sample_weight)
        else:
            loss = super().__call__(y_true, y_pred, sample_weight=sample_weight)
        if self.reduction not in (None, "none") and 0 in tuple(loss.shape):
            # Keras hands an empty batch back unreduced ([]); a training loop
            # wants 0 with a zero gradient (what a dynamic empty batch gives).
            loss = ops.sum(loss)
        return loss

    def _average(self, y_true, y_pred, sample_weight):
        """Keras' averaging reductions, divided in the loss's own dtype.

        On PyTorch, Keras 3.15's `ops.divide_no_nan` (which `Loss` divides
        by, and weighs masks with) computes in float32 whatever its inputs, so
        a float64 loss came back rounded to float32. Here Keras applies the
        sample weights and the mask unreduced ("none": weights and 0/1 mask
        multiplied in, ranks matched) and the division is ours:

        * "sum_over_batch_size" / "mean": sum / element count, or, under a
          mask, sum / valid entries (Keras' total/valid weighting, summed);
        * "mean_with_sample_weight": sum / sum of the weights (times the
          mask), the element count without weights;
        * 0 where the divisor is 0.
        """
        mask = getattr(y_pred, "_keras_mask", None)  # where Keras keeps a mask on a tensor
        reduction, self.reduction = self.reduction, "none"
        try:
            values = super().__call__(y_true, y_pred, sample_weight=sample_weight)
        finally:
            self.reduction = reduction
        if tuple(values.shape) in ((), (0,)):
            return values
        dtype = values.dtype
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            weights = ops.convert_to_tensor(sample_weight, dtype=dtype)
            if mask is not None:
                weights = _trailing(weights, len(mask.shape)) * _trailing(ops.cast(mask, dtype), len(weights.shape))
            divisor = ops.sum(weights)
        elif mask is not None:
            divisor = ops.sum(ops.cast(mask, dtype))
        else:
            divisor = ops.cast(ops.size(values), dtype)
        total = ops.sum(values)
        return ops.where(ops.equal(divisor, 0), ops.zeros_like(total), total / ops.where(
            ops.equal(divisor, 0), ops.ones_like(divisor), divisor))

    def call(self, y_true, y_pred):
        """Per-sample losses: the wrapped function on `y_true`, `y_pred` with
        the constructor's keyword arguments; the base class reduces them."""
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        """Every `__init__` argument: the wrapped function's keyword
        arguments, the reduction, the name and the requested dtype."""
        return {
            **super().get_config(),
            "dtype": self._requested_dtype,
            **self._fn_kwargs,
        }

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._fn_kwargs.items())
        return f"{type(self).__name__}({args})"


def num_replicas_in_sync() -> int:
    """Replicas of the active `tf.distribute` strategy (1 elsewhere)."""
    if backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def unscaled(value, reduction):
    """Undo the base class's division by the replica count (applied for the
    averaging reductions only) so a nonlinear function of the reduced loss
    sees the true per-replica mean; `rescaled` puts it back."""
    replicas = num_replicas_in_sync()
    if replicas > 1 and reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        return value * ops.cast(replicas, value.dtype)
    return value


def rescaled(value, reduction):
    replicas = num_replicas_in_sync()
    if replicas > 1 and reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        return value / ops.cast(replicas, value.dtype)
    return value
