"""The private Keras / TensorFlow APIs the zoo relies on, in one place.

Each use is written for a known version range and guarded by it: outside
that range the public fallback runs (and a warning names the version), so a
framework upgrade degrades to documented behaviour instead of an
`AttributeError` deep inside `fit`.

* `PrebuiltModel._maybe_symbolic_build`: Keras builds a
  model symbolically from a first batch when a strategy is set
  (`Trainer._maybe_symbolic_build`, Keras 3.5-3.15), reducing that batch
  across replicas first; under `MultiWorkerMirroredStrategy` that reduce
  fails in Keras 3.15 for any model ("Attempt to convert a value
  (PerReplica...)"). A `GameModel` has nothing to build there.
* `in_multi_worker_mode()`: whether the current strategy spans several
  workers (`MultiWorkerMirroredStrategy.extended._in_multi_worker_mode`,
  TensorFlow 2.16-2.21).
"""

from __future__ import annotations

import warnings

import keras
import tensorflow as tf

#: (first, last) major.minor versions each private API was written and tested for.
KERAS_SYMBOLIC_BUILD = ((3, 5), (3, 15))
TF_MULTI_WORKER_MODE = ((2, 16), (2, 21))


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def supported(version: str, window: tuple) -> bool:
    """Whether `version` ("3.15.1") lies in a (first, last) major.minor window."""
    first, last = window
    return first <= _version(version) <= last


def _warn_outside(what: str, version: str, window: tuple) -> None:
    warnings.warn(f"{what} was written for versions {window[0]}-{window[1]}, found {version}: using the public "
                  "fallback", RuntimeWarning, stacklevel=3)


class PrebuiltModel:
    """Mixin for a `keras.Model` whose players and optimizers are built
    before `fit` (`player_optimizers`): Keras' symbolic build is skipped
    (see the module docstring); otherwise, or outside the supported Keras
    versions, Keras' own runs."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        built = self.built and all(opt.built for opt in self.player_optimizers.values())
        if built and supported(keras.__version__, KERAS_SYMBOLIC_BUILD):
            return
        if built:
            _warn_outside("Trainer._maybe_symbolic_build", keras.__version__, KERAS_SYMBOLIC_BUILD)
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def in_multi_worker_mode() -> bool:
    """Whether the current `tf.distribute` strategy spans several workers."""
    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    if supported(tf.__version__, TF_MULTI_WORKER_MODE):
        return strategy.extended._in_multi_worker_mode()
    _warn_outside("MultiWorkerMirroredStrategy.extended._in_multi_worker_mode", tf.__version__, TF_MULTI_WORKER_MODE)
    # Public fallback: a multi-worker strategy whose cluster has more than one task.
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    return sum(len(tasks) for tasks in spec.values()) > 1

