"""`GameModel`: the one multi-player training base of every model in the zoo.

A model is a set of named *players* (functional sub-models) and a list of
*phases*. Each `Phase` names the optimizer slots it updates, a function
returning named terms, one of which (`"total"`) those players minimise, and
which of the other terms are losses and which are metrics. One
`train_step` runs the phases in order: a single phase updating several
players is a simultaneous (cooperative) update; several phases are the
alternating updates of an adversarial game (e.g. discriminator, then
generator). Each player has its own optimizer.

The contract of a subclass:

* its `__init__` validates its arguments and calls `super().__init__(**kwargs)`
  (only Keras' `name`, `dtype`, `trainable` remain in `kwargs`); every
  constructor argument is captured once, with its default, into
  `self.config` (no hand-copied config), and `get_config` returns it;
* `build_players(custom)` returns {player name: functional model}, using
  `custom[name]` where the caller passed a player; it runs under the model's
  own dtype policy, so the networks are built in the precision the model was
  given (`dtype=`), whatever the global policy;
* `phases()` returns the `Phase` list; `encode(x)` returns the latent code
  (`ClassifierCode` supplies `call`/`encode` for models whose code is their
  classifier's output);
* capabilities are declared: `classifies` (`call` returns class
  probabilities), `reconstructs` (`reconstruct(x)`), `generates`
  (`generate(labels)`).

Mechanics owned here, once:

* `compile(optimizers={...})`, Adam(1e-3) per player by default, and
  `get_compile_config`/`compile_from_config` so a saved model re-compiles
  with the same optimizers.
* loss scaling follows the model's own policy: under `mixed_float16` every
  player's optimizer is a `keras.optimizers.LossScaleOptimizer`; each
  player's gradient is taken of its own optimizer's scaled loss, which the
  optimizer unscales, skipping the update on overflow. Under
  `mixed_bfloat16` no scaling is needed. (Networks compute their outputs in
  float32.)
* distribution: loss terms are per-replica means divided by the number of
  replicas (`global_mean`), so summing the replicas' gradients (what
  `tf.distribute` does) gives the gradient of the global-batch mean; the
  trackers multiply loss terms back, metric terms are left alone.
* one `keras.metrics.Mean` tracker per term (History shows every term),
  each batch weighted by its size, so an epoch's figure is the mean over its
  samples; `test_step` for `evaluate`.

TPUs (`tf.distribute.TPUStrategy`): create and compile the model inside
`strategy.scope()`, feed a `tf.data.Dataset` batched with
`drop_remainder=True`, and use `compile(steps_per_execution=N)`. The steps
use only static-shape ops (no Python branching on data), so they compile
with XLA as they are.

The data contract of the zoo: `fit(x, y)` with images in [0, 1] and integer
labels (B,) or (B, 1); unlabelled samples carry the label -1; unsupervised
models also accept `x` alone.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

import keraslosses as kl
from models.core import compat
from models.core.checks import check_fraction
from models.core.labels import check_arrays, mask_labels, masked_accuracy, one_hot_labels
from models.core.precision import policy_scope

PACKAGE = "models"

#: Constructor arguments handled by `keras.Model` itself (its own config).
_KERAS_ARGUMENTS = ("name", "dtype", "trainable")
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def register(cls):
    """Register a model class for `.keras` serialization as "models>Name"."""
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


@dataclasses.dataclass(frozen=True)
class Phase:
    """One update of a game step.

    Attributes:
        players: the optimizer slots updated (player names unless the model's
            `OPTIMIZER_SLOTS` maps a slot to a player).
        loss: `loss(x, y, training)` -> {"total": minimised value, term: value}.
        losses: names of the loss terms it reports (replica shares, see
            `global_mean`); "total" is always one.
        metrics: names of its metric terms (plain means, e.g. "accuracy").
        main: whether its "total" is the model's logged "loss" (default: the
            last phase's).
    """

    players: tuple
    loss: Callable
    losses: tuple = ()
    metrics: tuple = ()
    main: bool = False


def _constructor_arguments(cls, args, kwargs):
    """Every `__init__` argument of a GameModel subclass with its value:
    the defaults of each class in the MRO (parents first), overridden by the
    arguments given. Keras' own (`name`, `dtype`, `trainable`) are left to
    `keras.Model.get_config`."""
    captured = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, GameModel)) or klass is GameModel:
            continue
        if "__init__" not in vars(klass):
            continue
        for param in list(inspect.signature(klass.__init__).parameters.values())[1:]:
            if param.default is not param.empty and param.kind in _NAMED:
                captured[param.name] = param.default
    signature = inspect.signature(cls.__init__)
    for name, value in list(signature.bind(None, *args, **kwargs).arguments.items())[1:]:
        if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            captured.update(value)
        else:
            captured[name] = value
    # A `.keras` config stores tuples as JSON lists: keep them tuples, so a
    # reloaded model's config equals the original's.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in captured.items() if k not in _KERAS_ARGUMENTS}


class GameModel(compat.PrebuiltModel, keras.Model):
    """Base class: players, phases, per-player optimizers, trackers.

    See the module docstring for the contract a subclass fulfils.
    """

    #: Constructor arguments that take players (serialized as Keras objects).
    PLAYER_NAMES = ()
    #: Optimizer slot -> player, for a player updated in two phases with two
    #: optimizers (the AAE's encoder). Default: one slot per player.
    OPTIMIZER_SLOTS = None
    #: Capabilities.
    classifies = False
    reconstructs = False
    generates = False

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls, *args, **kwargs)
        instance._arguments = _constructor_arguments(cls, args, kwargs)
        return instance

    def __init__(self, name=None, dtype=None, **kwargs):
        policy = keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
        super().__init__(name=name, dtype=policy, **kwargs)
        arguments = self._arguments
        self.config = {k: v for k, v in arguments.items() if k not in self.PLAYER_NAMES}
        check_fraction(self.labelled_fraction, "labelled_fraction")
        with policy_scope(policy):
            players = self.build_players({k: arguments.get(k) for k in self.PLAYER_NAMES})
        self.players = dict(players)
        for player in self.PLAYER_NAMES:
            setattr(self, player, players.get(player))
        self.optimizer_slots = dict(self.OPTIMIZER_SLOTS or {name: name for name in self.players})
        terms = ["loss"]
        for phase in self.phases():
            terms += [t for t in (*phase.losses, *phase.metrics) if t not in terms]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in terms}
        self.player_optimizers = {}
        # Every player is a built functional model, so this model is built.
        self.built = True

    @property
    def labelled_fraction(self):
        """The fraction of training labels the model sees (1.0: all)."""
        return self._arguments.get("labelled_fraction", 1.0)

    # -- the contract ----------------------------------------------------------------
    def build_players(self, custom):
        """{player name: functional model}; `custom[name]` is the caller's
        player or None."""
        raise NotImplementedError

    def phases(self):
        """The `Phase` list, run in order by `train_step`."""
        raise NotImplementedError

    def encode(self, x, batch_size=256):
        """The latent codes of images `x` (NumPy), scored for separability."""
        raise NotImplementedError

    def classify_codes(self, z, batch_size=256):
        """Class probabilities from codes `z = encode(x)` (NumPy), for models
        whose classifier reads their code: `evaluation.score` then runs the
        encoder once for the codes, the classes and the reconstructions."""
        raise NotImplementedError(f"{type(self).__name__} does not classify from its codes")

    def decode(self, z, batch_size=256):
        """Images decoded from codes `z = encode(x)` (NumPy); models with `reconstructs`."""
        raise NotImplementedError(f"{type(self).__name__} does not reconstruct")

    def reconstruct(self, x, batch_size=256):
        """Reconstructions of images `x`, `decode(encode(x))` (NumPy); models with `reconstructs`."""
        return self.decode(self.encode(x, batch_size), batch_size)

    def generate(self, labels, batch_size=256):
        """Images generated from integer labels (NumPy); models with `generates`."""
        raise NotImplementedError(f"{type(self).__name__} does not generate")

    # -- serialization ---------------------------------------------------------------
    def get_config(self):
        """Every constructor argument, and every player as a serialized
        Keras model, so custom networks round-trip too."""
        players = {name: keras.saving.serialize_keras_object(net) for name, net in self.players.items()}
        return {**super().get_config(), **self.config, **players}

    @classmethod
    def from_config(cls, config):
        """The model of `get_config`'s dictionary, its players deserialized
        from their own configs (saved models reload with their weights)."""
        config = dict(config)
        for name in cls.PLAYER_NAMES:
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def fit(self, x=None, y=None, *args, seed=0, **kwargs):
        """`keras.Model.fit`. Array data is validated before any step
        (`models.core.labels.check_arrays`: images of the model's shape in
        [0, 1], labels in [0, K) or -1, no empty array); with
        `labelled_fraction` < 1 and array labels, all but that fraction of the
        labels (a seeded, stratified choice) are replaced by -1 first (see
        `training_labels`). (With a `tf.data` pipeline, mark unlabelled
        samples with -1 yourself, e.g. with `training_labels` on the arrays
        or `models.mask_labels`; out-of-range labels then fail the step.)"""
        return super().fit(x, self.training_labels(x, y, seed), *args, **kwargs)

    def training_labels(self, x, y, seed=0):
        """The labels `fit` trains on: with NumPy images `x`, the arrays
        validated first (`models.core.labels.check_arrays`); with
        `labelled_fraction` < 1 and array labels, all but that fraction of the
        labels (a seeded, stratified choice) replaced by -1. Call it before
        building a `tf.data` pipeline of your own."""
        if isinstance(x, np.ndarray):
            check_arrays(x, y, self.config["input_shape"],
                         self.config.get("num_classes") if self.classifies else None)
        if self.labelled_fraction < 1.0 and y is not None and hasattr(y, "shape"):
            y = mask_labels(y, self.labelled_fraction, seed=seed)
        return y

    # -- compile ---------------------------------------------------------------------
    def learning_rate_scale(self, slot):
        """The factor on the base learning rate for optimizer `slot`: 1.0
        here. `default_optimizer` and `keraslosses train` apply it; an
        optimizer passed to `compile` is used as given. (The adversarial
        autoencoders slow their regularisation phases this way.)"""
        return 1.0

    def default_optimizer(self, player):
        """The optimizer a player gets when `compile` names none (Adam,
        1e-3 times `learning_rate_scale(player)`)."""
        return keras.optimizers.Adam(1e-3 * self.learning_rate_scale(player))

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
        scaled = self.dtype_policy.name == "mixed_float16"
        built = {}
        for name in self.optimizer_slots:
            opt = keras.optimizers.get(optimizers[name]) if name in optimizers else self.default_optimizer(name)
            if scaled and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
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

    # -- training --------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def _variables(self, slots):
        return [v for slot in slots for v in self.players[self.optimizer_slots[slot]].trainable_variables]

    def _run_phase(self, phase, x, y):
        names = phase.players
        optimizers = [self.player_optimizers[n] for n in names]
        scaled = any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
        with tf.GradientTape(persistent=scaled and len(names) > 1) as tape:
            terms = phase.loss(x, y, training=True)
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

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, y

    def _play(self, x, y, training):
        """Run every phase; return {tracker name: (value, is a loss share)}."""
        phases = self.phases()
        main = next((p for p in phases if p.main), phases[-1])
        values = {}
        for phase in phases:
            terms = self._run_phase(phase, x, y) if training else phase.loss(x, y, training=False)
            undeclared = set(terms) - {"total", *phase.losses, *phase.metrics}
            if undeclared:
                raise ValueError(f"{type(self).__name__}: phase {phase.players} returned undeclared terms "
                                 f"{sorted(undeclared)}; declare them in Phase(losses=..., metrics=...).")
            values.update({k: (v, k in phase.losses) for k, v in terms.items() if k != "total"})
            if phase is main:
                values["loss"] = (terms["total"], True)
        return values

    def _track(self, values, x):
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        # Each term is a mean over the batch: weighted by the batch's size, the
        # epoch's figure is the mean over its samples (a short last batch
        # counts for its samples, not as much as a full one), as Keras weights
        # its own loss tracker.
        samples = ops.cast(ops.shape(x)[0], "float32")
        for name, (value, share) in values.items():
            self.trackers[name].update_state(value * replicas if share else value, sample_weight=samples)
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if compat.in_multi_worker_mode():
            # Keras reduces step outputs across workers with
            # reduce("MEAN", v, axis=0), which rejects scalars: give them an axis.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    def train_step(self, data):
        """One step of every phase of the game on a batch; returns the logs."""
        x, y = self._unpack(data)
        return self._track(self._play(x, y, training=True), x)

    def test_step(self, data):
        """The phases' losses and metrics on a batch, without updates."""
        x, y = self._unpack(data)
        return self._track(self._play(x, y, training=False), x)

    # -- shared by the classifying games ----------------------------------------------
    def classification_terms(self, probs, y):
        """(one-hot labels, labelled mask, cross-entropy share, accuracy) of
        class probabilities against integer labels (-1: unlabelled); the
        cross-entropy with the model's `label_smoothing` (0 where it has
        none)."""
        onehot, labelled = one_hot_labels(y, self.config["num_classes"])
        smoothing = self.config.get("label_smoothing", 0.0)
        loss = global_mean(kl.categorical_crossentropy(onehot, probs, label_smoothing=smoothing), labelled)
        return onehot, labelled, loss, masked_accuracy(probs, onehot, labelled)


class ClassifierCode:
    """Mixed into the models whose code is their classifier's output (the
    Auto-classifiers and the independent CNN): `call` and `encode` are C(x),
    the class-probability vector, so `classify_codes` is the identity and
    both kinds of model are scored on the same code."""

    def call(self, x, training=False):
        """The class probabilities C(x) of images `x`, shape (B, K)."""
        return self.classifier(x, training=training)

    def encode(self, x, batch_size=256):
        """C(x), the model's code (NumPy, shape (N, K))."""
        return self.classifier.predict(x, batch_size=batch_size, verbose=0)

    def classify_codes(self, z, batch_size=256):
        """The code is C's class-probability vector: `z` itself."""
        return z
