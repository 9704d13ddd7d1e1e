"""The `keraslosses train`, `evaluate` and `tsne` subcommands.

Each has a config object (a dataclass, validated on construction: a bad
value raises a `ValueError` naming it and the valid choices, which the
command line turns into a one-line error with exit code 2), writes into
one `--output-dir`, logs with `logging` and writes JSON results.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from pathlib import Path

from models import datasets
from models.base import check_choice

log = logging.getLogger("keraslosses")

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("default", "mirrored", "multiworker")


def _write_json(path, payload):
    Path(path).write_text(json.dumps(payload, indent=2, default=float) + "\n")


def _check_dataset(name):
    check_choice(name, "--dataset", tuple(datasets.INFO))


def _check_model(name):
    from models.registry import list_models

    check_choice(name, "--model", tuple(list_models()))


# --------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------
@dataclasses.dataclass
class TrainConfig:
    model: str
    dataset: str = "digits"
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    precision: str = "float32"
    strategy: str = "default"
    labelled_fraction: float | None = None
    size: str = "small"
    seed: int = 0
    data_dir: str | None = None
    output_dir: str = "runs/train"
    verbose: str | int = "auto"

    def __post_init__(self):
        _check_model(self.model)
        _check_dataset(self.dataset)
        check_choice(self.precision, "--precision", PRECISIONS)
        check_choice(self.strategy, "--strategy", STRATEGIES)
        check_choice(self.size, "--size", ("small", "large"))
        if self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1; received {self.epochs}")
        if self.labelled_fraction is not None and not 0 < self.labelled_fraction <= 1:
            raise ValueError(f"--labelled-fraction must be in (0, 1]; received {self.labelled_fraction}")


def _strategy(name):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()  # cluster from TF_CONFIG
    return tf.distribute.get_strategy()


def train(config: TrainConfig):
    """Train one registry model; save `model.keras`, `history.json`,
    `train.json` and TensorBoard logs under `output_dir`. A killed run
    resumes from its last finished epoch (`keras.callbacks.BackupAndRestore`
    in `output_dir/backup`) when started again with the same output folder.

    Returns:
        (the trained model, the summary dict).
    """
    import keras

    import models

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.config.set_dtype_policy(config.precision)
    keras.utils.set_random_seed(config.seed)
    try:
        shape, classes = datasets.info(config.dataset)
        x, y = datasets.load_arrays(config.dataset, "train", config.data_dir)
        log.info("%s: %d training images of shape %s", config.dataset, len(x), x.shape[1:])
        kwargs = {"size": config.size}
        if config.labelled_fraction is not None:
            kwargs["labelled_fraction"] = config.labelled_fraction
        with _strategy(config.strategy).scope():
            model = models.create(config.model, input_shape=shape, num_classes=classes, **kwargs)
            model.compile(optimizers={slot: keras.optimizers.Adam(config.learning_rate)
                                      for slot in model.optimizer_slots})
        supervised = "accuracy" in model.trackers
        callbacks = [keras.callbacks.BackupAndRestore(str(out / "backup")),
                     keras.callbacks.TensorBoard(str(out / "logs"))]
        start = time.perf_counter()
        history = model.fit(x, y if supervised else None, epochs=config.epochs, batch_size=config.batch_size,
                            callbacks=callbacks, verbose=config.verbose)
        seconds = time.perf_counter() - start
        model.save(out / "model.keras")
    finally:
        keras.config.set_dtype_policy("float32")
    history = {k: [float(v) for v in values] for k, values in history.history.items()}
    summary = {"config": dataclasses.asdict(config), "epochs_run": len(history.get("loss", [])),
               "train_seconds": round(seconds, 2), "final": {k: v[-1] for k, v in history.items()}}
    _write_json(out / "history.json", history)
    _write_json(out / "train.json", summary)
    from models.evaluation import plot_history

    plot_history(history, out / "curves.png")
    log.info("trained %s in %.1f s; wrote %s", config.model, seconds, out / "model.keras")
    return model, summary


# --------------------------------------------------------------------------
# evaluate / tsne
# --------------------------------------------------------------------------
@dataclasses.dataclass
class EvaluateConfig:
    """`model` is a `.keras` path or a pretrained name (`keraslosses pretrained
    list`); `dataset` defaults to the pretrained model's, else digits."""

    model: str
    dataset: str | None = None
    data_dir: str | None = None
    output_dir: str = "runs/evaluate"
    max_samples: int | None = 2000
    seed: int = 0
    separability: bool = False

    def __post_init__(self):
        from models import pretrained

        if not Path(self.model).is_file():
            if not self.model.endswith(".keras") and os.sep not in self.model:
                self.dataset = self.dataset or pretrained.entry(self.model)["dataset"]  # unknown: close matches
            else:
                raise ValueError(f"--model {self.model!r}: no such .keras file")
        self.dataset = self.dataset or "digits"
        _check_dataset(self.dataset)

    @property
    def name(self):
        return Path(self.model).stem


def load_model(path):
    import keras

    import models  # noqa: F401  (registers the model classes)

    return keras.saving.load_model(path, safe_mode=True)


def score(model, x, y, separability=False, max_samples=None, seed=0, output_dir=None, name="model"):
    """Every metric that applies to `model` on (x, y): classification for
    classifiers, reconstruction error where the model reconstructs, and
    (optionally) latent separability with its t-SNE scatter PNG."""
    from models import evaluation

    result = {}
    if "accuracy" in model.trackers:
        result["classification"] = evaluation.classification_metrics(y, model.predict(x, verbose=0))
    reconstructions = None
    if hasattr(model, "reconstruct"):
        reconstructions = model.reconstruct(x)
        result["reconstruction"] = evaluation.reconstruction_error(x, reconstructions)
    if separability:
        scores, embedding, index = evaluation.separability(model.encode(x), y, seed=seed, max_samples=max_samples)
        result["separability"] = scores
        if output_dir is not None:
            evaluation.plot_embedding(embedding, y[index], Path(output_dir) / f"tsne_{name}.png",
                                      title=f"t-SNE of {name} codes (kNN {scores['knn_accuracy']:.4f})")
    if output_dir is not None:
        rows, titles = [x[:10]], ["input"]
        if reconstructions is not None:
            rows.append(reconstructions[:10])
            titles.append("reconstruction")
        if hasattr(model, "generate"):
            rows.append(model.generate(list(range(model.config["num_classes"]))))
            titles.append("generated from labels 0..K-1")
        evaluation.plot_image_rows(rows, Path(output_dir) / f"images_{name}.png", titles)
    return result


def evaluate(config: EvaluateConfig):
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if Path(config.model).is_file():
        model = load_model(config.model)
    else:
        from models.pretrained import load_pretrained

        model = load_pretrained(config.model)
    x, y = datasets.load_arrays(config.dataset, "test", config.data_dir)
    result = score(model, x, y, config.separability, config.max_samples, config.seed, out, config.name)
    payload = {"config": dataclasses.asdict(config), **result}
    _write_json(out / ("tsne.json" if config.separability else "evaluate.json"), payload)
    log.info("%s", json.dumps({k: v for k, v in result.items()}, default=float)[:2000])
    return payload


# --------------------------------------------------------------------------
# argparse glue
# --------------------------------------------------------------------------
def add_train_arguments(parser):
    d = TrainConfig.__dataclass_fields__
    parser.add_argument("--model", required=True, help="a registry name (see models.list_models())")
    parser.add_argument("--dataset", default=d["dataset"].default, help="digits, mnist, fashion_mnist, svhn, cifar10")
    parser.add_argument("--epochs", type=int, default=d["epochs"].default)
    parser.add_argument("--batch-size", type=int, default=d["batch_size"].default)
    parser.add_argument("--learning-rate", type=float, default=d["learning_rate"].default)
    parser.add_argument("--precision", default="float32", help=f"one of {', '.join(PRECISIONS)}")
    parser.add_argument("--strategy", default="default", help=f"one of {', '.join(STRATEGIES)}")
    parser.add_argument("--labelled-fraction", type=float, default=None, help="fraction of labels used (SE*)")
    parser.add_argument("--size", default="small", help="network size: small or large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help=f"folder of local dataset files (or ${datasets.ENV_DATA_DIR})")
    parser.add_argument("--output-dir", default=d["output_dir"].default)
    parser.set_defaults(run=lambda a: train(TrainConfig(
        model=a.model, dataset=a.dataset, epochs=a.epochs, batch_size=a.batch_size, learning_rate=a.learning_rate,
        precision=a.precision, strategy=a.strategy, labelled_fraction=a.labelled_fraction, size=a.size, seed=a.seed,
        data_dir=a.data_dir, output_dir=a.output_dir)) and 0)


def add_evaluate_arguments(parser, separability=False):
    parser.add_argument("--model", required=True,
                        help="a .keras file saved by `keraslosses train`, or a pretrained name")
    parser.add_argument("--dataset", default=None, help="default: the pretrained model's dataset, else digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-samples", type=int, default=2000, help="codes embedded by t-SNE (stratified subset)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs/tsne" if separability else "runs/evaluate")
    parser.set_defaults(run=lambda a: evaluate(EvaluateConfig(
        model=a.model, dataset=a.dataset, data_dir=a.data_dir, output_dir=a.output_dir, max_samples=a.max_samples,
        seed=a.seed, separability=separability)) and 0)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
