"""Training one registry model: `TrainConfig` -> `train(config)`.

The library half of `keraslosses train` and `keraslosses reproduce`: a
validated config object (a bad value raises a `ValueError` naming the field
and the valid choices), one output folder holding `model.keras`,
`history.json`, `train.json`, `curves.png` and TensorBoard logs, and resumption
of a killed run from its last finished epoch. Precision and the distribution
strategy are arguments: the model is built under `precision` (the global
dtype policy is left as it was) and inside `strategy`'s scope.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from pathlib import Path

from models import data
from models.core.checks import check_at_least, check_between, check_choice, check_fraction
from models.families import registry

log = logging.getLogger("keraslosses.training")

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: CPU features (/proc/cpuinfo flags) that make bfloat16 arithmetic fast.
BFLOAT16_FEATURES = ("avx512_bf16", "amx_bf16")
STRATEGIES = ("default", "mirrored", "multiworker")
SIZES = ("small", "large", "paper", "wide")
#: The sizes with normalization and dropout (`models.core.networks`), made
#: for the paper's recipe; a model card flags a model trained at any other.
PAPER_GRADE_SIZES = ("paper", "wide")
SCHEDULES = ("constant", "cosine")
#: The Super-encoders' label and reconstruction terms (`SuperEncoder`'s
#: `label_loss` and `reconstruction`): the names
#: of `models.core.labels.ERRORS`, spelled out because importing that module
#: imports TensorFlow, which the light commands (`pretrained list`) skip.
LABEL_LOSSES = ("mae", "mse")
#: TrainConfig fields passed on as constructor arguments, where set, to the
#: models that take them (any other model refuses the setting).
#: A field counts as set where it differs from its default.
_MODEL_SETTINGS = {"label_smoothing": "models with a cross-entropy term (the Auto-classifiers and cnn)",
                   "label_loss": "the Super-encoders (their label term, which the cooperative games train)",
                   "adversarial_weight": "the Auto-classifiers (the weight of C's adversarial term in AC(nc))",
                   "joint_batch": "the Auto-classifiers (one call of G for G+'s real and fake codes in AC(nc) v1)",
                   "discriminator_batch_norm": "the Autonets (BatchNorm in the image-label D of SE(nc) and AC(nc) v2)",
                   "reconstruction_weight": "the Super-encoders (beta, the weight of their reconstruction term)",
                   "reconstruction_loss": "the Super-encoders (their reconstruction term; an Auto-classifier's is in "
                                          "its name)"}
#: A `_MODEL_SETTINGS` field whose constructor argument has another name ->
#: (that argument, the classes it means this field in): `beta` is a
#: Super-encoder's reconstruction weight but a beta-VAE's KL weight, and an
#: Auto-classifier's `reconstruction` is fixed by its registry name.
_RENAMED = {"reconstruction_weight": ("beta", ("SuperEncoder",)),
            "reconstruction_loss": ("reconstruction", ("SuperEncoder",))}


class TrainingDivergedError(ArithmeticError):
    """The loss became NaN or infinite: training stopped (see `train`)."""


def _last_good_checkpoint(path):
    """A callback saving the model to `path` at the end of every epoch whose
    logged values are all finite, so a diverged run keeps its last good epoch."""
    import keras
    import numpy as np

    class LastGoodCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = None

        def on_epoch_end(self, epoch, logs=None):
            if all(np.isfinite(float(v)) for v in (logs or {}).values()):
                self.model.save(path)
                self.epoch = epoch + 1

    return LastGoodCheckpoint()


def _progress(backup):
    """A callback keeping every finished epoch's logged values and the
    training seconds so far in `backup/progress.json`, beside Keras'
    `BackupAndRestore` state, so a resumed run reports the whole run: all
    its epochs in `history.json`, and the seconds of every segment. The
    record is cut to the epochs `BackupAndRestore` restores (a kill between
    the two writes leaves it one epoch ahead); `resumed_from` is that epoch
    (0 for a fresh run)."""
    import keras

    backup = Path(backup)
    record, metadata = backup / "progress.json", backup / "training_metadata.json"

    class Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.resumed_from = json.loads(metadata.read_text())["epoch"] if metadata.is_file() else 0
            kept = json.loads(record.read_text()) if self.resumed_from and record.is_file() else {}
            self.history = {k: v[:self.resumed_from] for k, v in kept.get("history", {}).items()}
            self.elapsed = kept.get("elapsed", [])[:self.resumed_from]  # seconds at the end of each epoch
            self.start = None

        @property
        def seconds(self):
            return (self.elapsed[self.resumed_from - 1] if self.resumed_from else 0.0) + (
                time.perf_counter() - self.start)

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                self.history.setdefault(key, []).append(float(value))
            self.elapsed.append(round(self.seconds, 2))
            backup.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({"history": self.history, "elapsed": self.elapsed}))

    return Progress()


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU's feature flags (empty where `path` is absent, e.g. macOS)."""
    try:
        with open(path) as f:
            return set(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return set()


def bfloat16_hardware(flags=None):
    """The `BFLOAT16_FEATURES` among `flags` (default: this CPU's), sorted."""
    return sorted(set(BFLOAT16_FEATURES) & (cpu_flags() if flags is None else set(flags)))


def resolve_precision(precision, flags=None, size=None):
    """The dtype policy a `precision` setting means here: "auto" is
    "mixed_bfloat16" where the CPU has bfloat16 hardware (`BFLOAT16_FEATURES`)
    and "float32" elsewhere (emulated bfloat16 was 5-13x slower than float32
    on an AVX2-only CPU), and "float32" for the small networks whatever the
    CPU (`benchmarks/results/training.json`: bfloat16 trained them at
    0.56-0.96x the float32 speed even with AVX-512 BF16; it paid 1.6-2.0x
    for the large and paper-size Auto-classifier). Any other value is itself.
    The choice is logged."""
    if precision != "auto":
        return precision
    if size == "small":
        log.info("--precision auto: float32 (the small networks are slower in bfloat16)")
        return "float32"
    found = bfloat16_hardware(flags)
    chosen = "mixed_bfloat16" if found else "float32"
    log.info("--precision auto: %s (%s)", chosen,
             f"the CPU has {', '.join(found)}" if found else "no bfloat16 hardware in the CPU's flags")
    return chosen


def inference_precision(precision, stored, flags=None):
    """The dtype policy a saved model of policy `stored` predicts under.

    "auto" keeps `stored`, except that a bfloat16 model computes in float32
    on a CPU without bfloat16 hardware (`BFLOAT16_FEATURES`): there the
    emulated bfloat16 decoders of the paper-size zoo ran 5-8x slower than in
    float32 (10,000 MNIST test images: 20.6 s against 2.6 s for SE(nc)'s
    decoder, AVX2), and float32 rounds less. "stored" is `stored`; a policy
    name is itself. A change is logged."""
    if precision == "stored" or (precision == "auto" and stored != "mixed_bfloat16"):
        return stored
    if precision != "auto":
        return precision
    if bfloat16_hardware(flags):
        return stored
    log.info("a %s model predicts in float32 here (no bfloat16 hardware in the CPU's flags)", stored)
    return "float32"


def write_json(path, payload):
    Path(path).write_text(json.dumps(payload, indent=2, default=float) + "\n")


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run (see the module docstring)."""

    model: str
    dataset: str = "digits"
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    precision: str = "auto"
    strategy: str = "default"
    labelled_fraction: float | None = None
    size: str = "small"
    augment: bool = False
    schedule: str = "constant"
    warmup_epochs: float = 1.0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    label_loss: str | None = None
    adversarial_weight: float | None = None
    joint_batch: bool = False
    discriminator_batch_norm: bool = False
    reconstruction_weight: float | None = None
    reconstruction_loss: str | None = None
    validation: float = 0.0
    subset: int | None = None
    seed: int = 0
    data_dir: str | None = None
    output_dir: str = "runs/train"
    verbose: str | int = "auto"

    def __post_init__(self):
        check_choice(self.model, "model", registry.list_models())
        check_choice(self.dataset, "dataset", data.names())
        check_choice(self.precision, "precision", PRECISIONS)
        check_choice(self.strategy, "strategy", STRATEGIES)
        check_choice(self.size, "size", SIZES)
        check_at_least(self.epochs, "epochs", 1)
        check_at_least(self.batch_size, "batch_size", 1)
        check_choice(self.schedule, "schedule", SCHEDULES)
        check_between(self.warmup_epochs, "warmup_epochs", 0.0)
        check_between(self.weight_decay, "weight_decay", 0.0)
        check_between(self.label_smoothing, "label_smoothing", 0.0, 1.0)
        if self.label_loss is not None:
            check_choice(self.label_loss, "label_loss", LABEL_LOSSES)
        if self.adversarial_weight is not None:
            check_between(self.adversarial_weight, "adversarial_weight", 0.0)
        check_choice(self.joint_batch, "joint_batch", (True, False))
        check_choice(self.discriminator_batch_norm, "discriminator_batch_norm", (True, False))
        if self.reconstruction_weight is not None:
            check_between(self.reconstruction_weight, "reconstruction_weight", 0.0)
        if self.reconstruction_loss is not None:
            check_choice(self.reconstruction_loss, "reconstruction_loss", LABEL_LOSSES)
        check_between(self.validation, "validation", 0.0, 0.5)
        if self.subset is not None:
            check_at_least(self.subset, "subset", 2 * data.info(self.dataset)[1])
        if self.labelled_fraction is not None:
            check_fraction(self.labelled_fraction, "labelled_fraction")

    def record(self):
        """The settings as written to `train.json` (see `record`)."""
        return record(self)


#: Each `TrainConfig` field's default (`model` has none: `dataclasses.MISSING`).
TRAIN_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def validation_figures(final):
    """The held-out figures of a run's final logs (`train.json`'s "final"),
    without Keras' "val_" prefix; empty for a run without `validation`.

        >>> validation_figures({"accuracy": 0.99, "val_accuracy": 0.98, "val_loss": 0.1})
        {'accuracy': 0.98, 'loss': 0.1}
    """
    return {k[len("val_"):]: v for k, v in final.items() if k.startswith("val_")}


def train_command(config):
    """The `keraslosses train` command line that repeats a recorded
    `TrainConfig` (a dict, as in `train.json`), the data folder as DATA_DIR.

        >>> train_command({**dataclasses.asdict(TrainConfig(model="cnn", dataset="mnist")),
        ...                "augment": True, "weight_decay": 5e-4, "validation": 0.1})
        'keraslosses train --model cnn --dataset mnist --epochs 10 --batch-size 64 --learning-rate 0.001 --precision auto --size small --seed 0 --augment --weight-decay 0.0005 --validation 0.1 --data-dir DATA_DIR'
    """
    c, d = config, dataclasses.asdict(TrainConfig(model=config["model"]))
    parts = ["keraslosses train", f"--model {c['model']} --dataset {c['dataset']} --epochs {c['epochs']}",
             f"--batch-size {c['batch_size']} --learning-rate {c['learning_rate']} --precision {c['precision']}",
             f"--size {c['size']} --seed {c['seed']}"]
    if c.get("strategy", d["strategy"]) != d["strategy"]:
        parts.append(f"--strategy {c['strategy']}")
    if c.get("labelled_fraction") is not None:
        parts.append(f"--labelled-fraction {c['labelled_fraction']}")
    if c.get("augment"):
        parts.append("--augment")
    if c.get("schedule", d["schedule"]) != d["schedule"]:
        parts.append(f"--schedule {c['schedule']} --warmup-epochs {c['warmup_epochs']}")
    for key in ("weight_decay", "label_smoothing", "label_loss", "reconstruction_loss", "validation", "subset"):
        if c.get(key):
            parts.append(f"--{key.replace('_', '-')} {c[key]}")
    for key in ("adversarial_weight", "reconstruction_weight"):
        if c.get(key) is not None:
            parts.append(f"--{key.replace('_', '-')} {c[key]}")
    for flag in ("joint_batch", "discriminator_batch_norm"):
        if c.get(flag):
            parts.append(f"--{flag.replace('_', '-')}")
    return " ".join([*parts, "--data-dir DATA_DIR"])


def record(config, paths=("data_dir", "output_dir")):
    """A config dataclass as written to a results file: its `paths` fields
    relative to the working directory, so the file holds no absolute path of
    the machine that made it."""
    return {k: relative(v) if k in paths else v for k, v in dataclasses.asdict(config).items()}


def relative(path):
    """`path` relative to the working directory (so result files hold no
    absolute path of the machine that made them)."""
    if path is None:
        return None
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return Path(path).name


def distribution_strategy(name):
    """The `tf.distribute` strategy of a `STRATEGIES` name."""
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()  # cluster from TF_CONFIG
    return tf.distribute.get_strategy()


def _optimizer(config, steps_per_epoch, scale=1.0):
    """Adam, or AdamW with `weight_decay`; a constant learning rate (times
    `scale`, the model's `learning_rate_scale` for the slot), or a linear
    warm-up over `warmup_epochs` then a cosine decay to 0."""
    import keras

    rate = config.learning_rate * scale
    if config.schedule == "cosine":
        total = config.epochs * steps_per_epoch
        warmup = min(int(config.warmup_epochs * steps_per_epoch), total - 1)
        rate = keras.optimizers.schedules.CosineDecay(0.0 if warmup else rate, decay_steps=total - warmup,
                                                      warmup_target=rate if warmup else None, warmup_steps=warmup)
    if config.weight_decay:
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay)
    return keras.optimizers.Adam(rate)


def _model_arguments(config):
    """Constructor arguments the config sets: size, labelled fraction, and
    the `_MODEL_SETTINGS` (label smoothing, the label loss, AC(nc)'s
    adversarial weight and joint batch, BatchNorm in D, the Super-encoders'
    reconstruction weight and loss) where set, i.e. not at their `TrainConfig` default."""
    import inspect

    kwargs = {"size": config.size}
    if config.labelled_fraction is not None:
        kwargs["labelled_fraction"] = config.labelled_fraction
    family = registry.MODELS[config.model][0]
    accepted = inspect.signature(registry.model_class(family).__init__).parameters
    for field, takers in _MODEL_SETTINGS.items():
        value = getattr(config, field)
        argument, families = _RENAMED.get(field, (field, (family,)))
        if value != TRAIN_DEFAULTS[field]:
            if argument not in accepted or family not in families:
                raise ValueError(f"`{field}` applies to {takers}; received {field}={value!r} for {config.model}.")
            kwargs[argument] = value
    return kwargs


def split(config: TrainConfig):
    """The training images and labels `config` trains on, and the ones it
    holds out for validation (`None, None` without `validation`): the
    training split, its stratified, seeded `subset` where set, then the
    stratified, seeded `validation` fraction of that. The test split is never
    read.

    Returns:
        (x, y, x_val, y_val) NumPy arrays.
    """
    x, y = data.load_arrays(config.dataset, "train", config.data_dir)
    if config.subset is not None and config.subset < len(x):  # quick ablations: a stratified, seeded subset
        x, y, _, _ = data.validation_split(x, y, len(x) - config.subset, seed=config.seed)
    if not config.validation:
        return x, y, None, None
    return data.validation_split(x, y, config.validation, seed=config.seed)


def train(config: TrainConfig):
    """Train one registry model; save `model.keras`, `history.json`,
    `train.json`, `curves.png` and TensorBoard logs under `output_dir`. A
    killed run resumes from its last finished epoch
    (`keras.callbacks.BackupAndRestore` in `output_dir/backup`) when started
    again with the same output folder.

    Returns:
        (the trained model, the summary dict).
    """
    import keras

    from models.evaluation import plot_history

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    shape, classes = data.info(config.dataset)
    x, y, x_val, y_val = split(config)
    validation = None
    log.info("%s: %d training images of shape %s%s", config.dataset, len(x), x.shape[1:],
             f", {len(x_val)} held out for validation" if config.validation else "")
    precision = resolve_precision(config.precision, size=config.size)
    steps_per_epoch = math.ceil(len(x) / config.batch_size)
    with distribution_strategy(config.strategy).scope():
        model = registry.create(config.model, input_shape=shape, num_classes=classes,
                                dtype_policy=precision, **_model_arguments(config))
        model.compile(optimizers={slot: _optimizer(config, steps_per_epoch, model.learning_rate_scale(slot))
                                   for slot in model.optimizer_slots})
    # The labels `fit` would train on, then the input pipeline (cached,
    # shuffled, augmented in parallel, prefetched).
    labels = model.training_labels(x, y if model.classifies else None, seed=config.seed)
    shift = max(1, min(shape[:2]) // 14) if config.augment else 0  # 2 pixels at 28x28
    flip = config.augment and config.dataset in data.FLIPPABLE
    inputs = data.pipeline(x, labels, config.batch_size, shuffle=True, seed=config.seed, shift=shift, flip=flip)
    if config.validation:
        validation = data.pipeline(x_val, y_val if model.classifies else None, config.batch_size)
    last_good = _last_good_checkpoint(out / "model.keras")
    # Before BackupAndRestore, which deletes its folder (and the progress record) when training ends.
    progress = _progress(out / "backup")
    callbacks = [keras.callbacks.TerminateOnNaN(), progress, keras.callbacks.BackupAndRestore(str(out / "backup")),
                 keras.callbacks.TensorBoard(str(out / "logs")), last_good]
    model.fit(inputs, epochs=config.epochs, validation_data=validation, callbacks=callbacks,
              verbose=config.verbose, shuffle=False)  # the pipeline shuffles
    seconds, history = progress.seconds, progress.history
    if model.stop_training and not all(map(math.isfinite, history["loss"])):
        import shutil

        shutil.rmtree(out / "backup", ignore_errors=True)  # holds the diverged state: a rerun starts afresh
        kept = (f"{out / 'model.keras'} holds epoch {last_good.epoch}, the last with finite losses"
                if last_good.epoch else "no epoch finished with finite losses, so no model was saved")
        raise TrainingDivergedError(f"{config.model}: the loss became NaN or infinite in epoch {len(history['loss'])}; "
                                    f"training stopped; {kept} (lower --learning-rate and retrain)")
    summary = {"config": config.record(), "precision": precision, "epochs_run": len(history.get("loss", [])),
               "train_seconds": round(seconds, 2), "resumed_from": progress.resumed_from,
               "final": {k: v[-1] for k, v in history.items()}}
    write_json(out / "history.json", history)
    write_json(out / "train.json", summary)
    plot_history(history, out / "curves.png")
    log.info("trained %s in %.1f s; wrote %s", config.model, seconds, out / "model.keras")
    return model, summary
