"""`GameModel`: the one multi-player training base of every model in the zoo.

A model is a set of named *players* (functional sub-models) and a list of
*phases*. Each phase names the players it updates and a function returning
named loss terms, one of which (`"total"`) those players minimise. One
`train_step` runs the phases in order: a single phase updating several
players is a simultaneous (cooperative) update; several phases are the
alternating updates of an adversarial game (e.g. discriminator, then
generator). Each player has its own optimizer.

Mechanics owned here, once:

* `compile(optimizers={...})`, with Adam(1e-3) for every player by default,
  and `get_compile_config`/`compile_from_config` so a saved model
  re-compiles with the same optimizers.
* loss scaling: under the `mixed_float16` policy every player's optimizer is
  a `keras.optimizers.LossScaleOptimizer`; each player's gradient is taken
  of its own optimizer's scaled loss and the optimizer unscales it, skips
  the update on overflow and lowers its scale. Under `mixed_bfloat16` no
  scaling is needed. (Networks compute their outputs in float32.)
* distribution: loss terms are per-replica means divided by the number of
  replicas, so summing the replicas' gradients (what `tf.distribute` does)
  gives the gradient of the global-batch mean.
* one `keras.metrics.Mean` tracker per loss term (History shows every
  term), `test_step` for `evaluate`.

TPUs (`tf.distribute.TPUStrategy`): create and compile the model inside
`strategy.scope()`, feed a `tf.data.Dataset` batched with
`drop_remainder=True` so every step has the same static batch shape, and
use `compile(steps_per_execution=N)` to keep the TPU busy. The steps use
only static-shape ops (no Python branching on data), so they compile with
XLA as they are.

The data contract of the zoo: `fit(x, y)` with images in [0, 1] and integer
labels (B,) or (B, 1); unlabelled samples carry the label -1; unsupervised
models also accept `x` alone.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

import keraslosses as kl

PACKAGE = "models"


def register(cls):
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def global_mean(values, mask=None):
    """Mean over this replica's batch divided by the replica count (the
    share of the global-batch mean), optionally over `mask`ed entries only."""
    values = ops.cast(values, "float32")
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if mask is None:
        return ops.mean(values) / replicas
    mask = ops.cast(mask, "float32")
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0) / replicas


class GameModel(keras.Model):
    """Base class: players, phases, per-player optimizers, trackers.

    Subclasses set `self.players` (name -> sub-model) and implement
    `phases()` -> [(player names, loss function)] and `loss_terms()` -> the
    names of the tracked terms; a loss function takes `(x, y, training)` and
    returns a dict of scalar terms including `"total"` (already divided by
    the replica count, see `global_mean`); tracked values are the
    per-replica means.
    """

    def __init__(self, players, loss_terms, labelled_fraction=1.0, optimizer_slots=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < labelled_fraction <= 1.0:
            raise ValueError(
                f"`labelled_fraction` must be in (0, 1]; received labelled_fraction={labelled_fraction!r}.")
        self.players = dict(players)
        # Optimizer slot -> player. By default one slot (one optimizer) per
        # player; a player updated in two phases with separate optimizers
        # (the AAE's encoder) gets two slots.
        self.optimizer_slots = dict(optimizer_slots or {name: name for name in self.players})
        self.labelled_fraction = labelled_fraction
        self.trackers = {name: keras.metrics.Mean(name=name) for name in loss_terms}
        self.player_optimizers = {}
        # Every player is a built functional model, so this model is built.
        self.built = True

    #: Constructor arguments that hold players (serialized explicitly).
    PLAYER_NAMES = ()

    # -- serialization ---------------------------------------------------------------
    def get_config(self):
        """Every constructor argument (`self.config`), and every player as a
        serialized Keras model, so custom networks round-trip too."""
        players = {name: keras.saving.serialize_keras_object(net) for name, net in self.players.items()}
        return {**super().get_config(), **self.config, **players}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.PLAYER_NAMES:
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    # -- contract for subclasses ---------------------------------------------------
    def phases(self):
        """[(optimizer slots, loss function)], run in order by `train_step`
        (slots are player names unless `optimizer_slots` says otherwise)."""
        raise NotImplementedError

    def fit(self, x=None, y=None, *args, seed=0, **kwargs):
        """`keras.Model.fit`; with `labelled_fraction` < 1 and array labels,
        all but that fraction of the labels (a seeded, stratified choice) are
        replaced by -1 first. (With a `tf.data` pipeline, mark unlabelled
        samples with -1 yourself, e.g. with `mask_labels`.)"""
        if self.labelled_fraction < 1.0 and y is not None and hasattr(y, "shape"):
            y = mask_labels(y, self.labelled_fraction, seed=seed)
        return super().fit(x, y, *args, **kwargs)

    # -- compile ---------------------------------------------------------------------
    def default_optimizer(self, player):
        return keras.optimizers.Adam(1e-3)

    def compile(self, optimizers=None, **kwargs):
        """Compile with one optimizer per player.

        Args:
            optimizers: {player name: optimizer or its identifier/config};
                players left out get `default_optimizer(player)` (Adam 1e-3).
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`,
                `steps_per_execution`); no `loss` or `optimizer`.
        """
        optimizers = dict(optimizers or {})
        unknown = set(optimizers) - set(self.optimizer_slots)
        if unknown:
            raise ValueError(f"`optimizers` names unknown players {sorted(unknown)}; players: "
                             f"{sorted(self.optimizer_slots)}.")
        mixed_float16 = keras.config.dtype_policy().name == "mixed_float16"
        built = {}
        for name in self.optimizer_slots:
            opt = keras.optimizers.get(optimizers[name]) if name in optimizers else self.default_optimizer(name)
            if mixed_float16 and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
                opt = keras.optimizers.LossScaleOptimizer(opt)
            # Built now, so that a loaded model restores every optimizer's state.
            opt.build(self._variables([name]))
            built[name] = opt
        self.player_optimizers = built
        # The first player's optimizer is the Keras `optimizer` (saved with the model).
        super().compile(optimizer=next(iter(built.values())), **kwargs)
        self._optimizer_configs = {name: keras.optimizers.serialize(opt) for name, opt in built.items()}

    def get_compile_config(self):
        if not self.player_optimizers:
            return None
        return {"optimizers": self._optimizer_configs}

    def compile_from_config(self, config):
        self.compile(optimizers={k: keras.optimizers.deserialize(v) for k, v in config["optimizers"].items()})

    # -- training ----------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def _variables(self, slots):
        return [v for slot in slots for v in self.players[self.optimizer_slots[slot]].trainable_variables]

    def _run_phase(self, names, loss_fn, x, y):
        optimizers = [self.player_optimizers[n] for n in names]
        scaled = any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
        with tf.GradientTape(persistent=scaled and len(names) > 1) as tape:
            terms = loss_fn(x, y, training=True)
            losses = [o.scale_loss(terms["total"]) for o in optimizers] if scaled else None
        if scaled:  # each optimizer unscales its own scaled gradient
            for name, opt, loss in zip(names, optimizers, losses):
                variables = self._variables([name])
                opt.apply(tape.gradient(loss, variables), variables)
            del tape
        else:  # one backward pass for every player of the phase
            variables = self._variables(names)
            grads = tape.gradient(terms["total"], variables)
            start = 0
            for name, opt in zip(names, optimizers):
                count = len(self._variables([name]))
                opt.apply(grads[start:start + count], variables[start:start + count])
                start += count
        return terms

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a model symbolically from a first batch when a
        # strategy is set, reducing that batch across replicas first; under
        # MultiWorkerMirroredStrategy that reduce fails in Keras 3.15 for any
        # model ("Attempt to convert a value (PerReplica...)"). A GameModel
        # has nothing to build: its players are built at construction and
        # its optimizers at compile.
        if not self.built or any(not opt.built for opt in self.player_optimizers.values()):
            super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, y

    def _track(self, terms):
        """Update the trackers. "loss" tracks the last phase's "total" (the
        main player's objective) unless a phase reports "loss" itself."""
        if "loss" in terms:
            terms = {k: v for k, v in terms.items() if k != "total"}
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in terms.items():
            tracker = self.trackers.get("loss" if name == "total" else name)
            if tracker is not None:
                # loss terms were divided by the replica count; accuracies were not
                scale = replicas if name != "accuracy" else 1
                tracker.update_state(value * scale)
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if _multi_worker():
            # Keras reduces step outputs across workers with
            # reduce("MEAN", v, axis=0), which rejects scalars: give them an axis.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    def train_step(self, data):
        x, y = self._unpack(data)
        terms = {}
        for names, loss_fn in self.phases():
            phase_terms = self._run_phase(names, loss_fn, x, y)
            terms.update(phase_terms)
        return self._track(terms)

    def test_step(self, data):
        x, y = self._unpack(data)
        terms = {}
        for _, loss_fn in self.phases():
            terms.update(loss_fn(x, y, training=False))
        return self._track(terms)


_PER_SAMPLE = {"mae": kl.mean_absolute_error, "mse": kl.mean_squared_error}


def per_sample_error(target, output, kind):
    """Mean absolute ("mae") or squared ("mse") error over every non-batch
    axis, per sample."""
    flat = (ops.reshape(t, (ops.shape(t)[0], -1)) for t in (target, output))
    return _PER_SAMPLE[kind](*flat)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}; received {name}={value!r}.")


def mask_labels(y, fraction, seed=0):
    """A copy of integer labels where all but `fraction` of each class are
    replaced by -1 (unlabelled); the kept samples are a seeded random choice."""
    import numpy as np

    y = np.asarray(y).copy()
    flat = y.reshape(-1)
    rng = np.random.default_rng(seed)
    for label in np.unique(flat[flat >= 0]):
        index = np.flatnonzero(flat == label)
        keep = max(1, round(fraction * len(index)))
        flat[rng.permutation(index)[keep:]] = -1
    return y


def _multi_worker():
    strategy = tf.distribute.get_strategy()
    extended = getattr(strategy, "extended", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and extended._in_multi_worker_mode()


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


def matching_discriminator_loss(real, fake, mismatched):
    """The matching-aware discriminator loss of GAN-CLS (Reed et al., 2016),
    per sample: -log D(real) - 1/2 log(1 - D(fake)) - 1/2 log(1 - D(mismatched)).

    D judges (input, label) pairs: real pairs carry the true label, fake ones
    the model's prediction, mismatched ones a wrong true-looking label. The
    mismatched pairs make D learn *which* label belongs to an input, not only
    whether a label looks one-hot; without them the label player collapses to
    confident but arbitrary classes (chance accuracy)."""
    return 0.5 * (kl.discriminator_loss(real, fake) + kl.discriminator_loss(real, mismatched))


def masked_accuracy(probs, onehot, labelled):
    """Accuracy of argmax(probs) over the labelled samples (a plain mean,
    not divided by the replica count)."""
    mask = ops.cast(labelled, "float32")
    correct = ops.cast(ops.equal(ops.argmax(probs, -1), ops.argmax(onehot, -1)), "float32")
    return ops.sum(correct * mask) / ops.maximum(ops.sum(mask), 1.0)


def classification_terms(probs, y, num_classes):
    """(one-hot labels, labelled mask, cross-entropy share, accuracy) of a
    classifier's probabilities against integer labels (-1: unlabelled)."""
    onehot, labelled = one_hot_labels(y, num_classes)
    loss = global_mean(kl.categorical_crossentropy(onehot, probs), labelled)
    return onehot, labelled, loss, masked_accuracy(probs, onehot, labelled)
