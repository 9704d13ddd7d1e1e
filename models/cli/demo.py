"""Train a small classifier on scikit-learn's 8x8 digits with several losses.

`keraslosses demo`, a tour of the loss library (it uses no model of the zoo):
it needs no download, runs in well under a minute on
two CPU cores, and shows keraslosses' classification losses used as plain
`model.compile(loss=...)` arguments. The same network, data split, seed and
optimizer are used for every loss, so the table compares the losses alone.

Data: `sklearn.datasets.load_digits` (1,797 images, 10 classes), pixel
values scaled from [0, 16] to [0, 1], split 75/25 stratified with
`random_state=0`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

log = logging.getLogger("keraslosses.demo")

# name -> (keraslosses class, its arguments, whether it takes integer labels)
LOSSES = {
    "sparse_crossentropy": ("SparseCategoricalCrossentropy", {"from_logits": True}, True),
    "smoothed_crossentropy": ("SparseCategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, True),
    "focal": ("CategoricalFocalCrossentropy", {"from_logits": True}, False),
    "weston_watkins_hinge": ("WestonWatkinsHinge", {}, True),
    "crammer_singer_hinge": ("CrammerSingerHinge", {}, True),
}


@dataclasses.dataclass
class DemoConfig:
    """Settings of the demo job."""

    output_dir: str = "runs/demo"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 3e-3
    seed: int = 0
    losses: tuple = tuple(LOSSES)

    def __post_init__(self):
        unknown = [name for name in self.losses if name not in LOSSES]
        if unknown:
            raise ValueError(f"unknown loss {unknown[0]!r}; choose from {', '.join(LOSSES)}")
        if self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1; received {self.epochs}")


def load_digits_split():
    """The digits as float32 (N, 64) in [0, 1] and int32 labels: the fixed
    75/25 split of `models.data` ("digits"), flattened for a Dense net."""
    from models import data

    (x_train, y_train), (x_test, y_test) = (data.load_arrays("digits", split) for split in ("train", "test"))
    return x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1), y_train, y_test


def _model(num_classes: int, seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),  # logits
        ]
    )


def run(config: DemoConfig) -> dict:
    """Train one model per loss; return and write the results."""
    import keras
    import numpy as np

    import keraslosses

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = load_digits_split()
    log.info("digits: %d train / %d test images", len(x_train), len(x_test))
    results = {}
    for name in config.losses:
        class_name, kwargs, sparse = LOSSES[name]
        loss = getattr(keraslosses, class_name)(**kwargs)
        targets = y_train if sparse else keras.utils.to_categorical(y_train, 10)
        model = _model(10, config.seed)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss)
        start = time.perf_counter()
        history = model.fit(x_train, targets, epochs=config.epochs, batch_size=config.batch_size, verbose=0)
        seconds = time.perf_counter() - start
        accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
        losses = history.history["loss"]
        results[name] = {
            "loss": keras.losses.serialize(loss),
            "test_accuracy": accuracy,
            "first_loss": float(losses[0]),
            "final_loss": float(losses[-1]),
            "train_seconds": round(seconds, 2),
        }
        log.info("%-22s test accuracy %.4f  loss %.4f -> %.4f  (%.1f s)",
                 name, accuracy, losses[0], losses[-1], seconds)
    summary = {"config": dataclasses.asdict(config), "dataset": "sklearn digits 8x8", "results": results}
    (out / "demo.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = ["| loss | test accuracy | first loss | final loss |", "|---|---|---|---|"]
    table += [f"| {k} | {v['test_accuracy']:.4f} | {v['first_loss']:.4f} | {v['final_loss']:.4f} |"
              for k, v in results.items()]
    (out / "demo.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    log.info("wrote %s and %s", out / "demo.json", out / "demo.md")
    return summary


def add_arguments(parser) -> None:
    defaults = DemoConfig()
    parser.add_argument("--output-dir", default=defaults.output_dir, help="where results go (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs per loss (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--losses", nargs="+", default=list(defaults.losses), choices=list(LOSSES),
                        help="which losses to train with (default: all)")
    parser.set_defaults(run=run, config=lambda a: DemoConfig(
        output_dir=a.output_dir, epochs=a.epochs, batch_size=a.batch_size, seed=a.seed, losses=tuple(a.losses)))
