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
        loss = super().__call__(y_true, y_pred, sample_weight=sample_weight)
        if self.reduction not in (None, "none") and 0 in tuple(loss.shape):
            # Keras hands an empty batch back unreduced ([]); a training loop
            # wants 0 with a zero gradient (what a dynamic empty batch gives).
            loss = ops.sum(loss)
        return loss

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
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
