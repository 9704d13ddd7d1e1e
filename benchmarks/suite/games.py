"""Ablations of the non-cooperative games: SE(nc), SE*(nc), AC(nc) v2 and v1.

Every variant is a registry model with some constructor arguments (and
optionally per-player learning rates) changed. Each is trained on a
validation split carved from the training set (stratified, seeded; the
test split is never read) and scored there:

* `accuracy`: the separator's / classifier's accuracy;
* `d_accuracy`: D's implied classifier, argmax_k D(c, e_k);
* `separability`: t-SNE + 5-NN accuracy of the codes (the protocol of
  `models.evaluation.separability`);
* per epoch (`trace`): the same accuracies, the mean entropy of the
  player's class probabilities (nats; log K = 2.30 is uniform, 0 is
  one-hot), the epoch's mean training losses and the gradient norms of
  the player phase's total with respect to each of its players, on one
  fixed validation batch.

`python scripts/bench_games.py [--quick]` prints the table and writes
`benchmarks/results/noncooperative.json` (the AC(nc) v1 variants:
`--variants ac_nc_v1:ns,ac_nc_v1:minimax --output
benchmarks/results/noncooperative_v1.json`). Digits runs use seeds 0, 1, 2
(30 epochs, batch 64, the README's main job); MNIST runs use a stratified
12,000-image subset of the training set (10,000 train / 2,000 validation),
8 epochs, batch 128, seed 0 (needs the canonical files: `--data-dir`).
"""

from __future__ import annotations

import dataclasses
import logging
import time

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.games")

#: variant -> (registry name, constructor arguments, {player: learning rate}, description)
VARIANTS = {
    "se_nc:plain": ("se_nc", {"class_weight": 0.0, "posterior_weight": 0.0}, {},
                    "SE(nc): matching-aware D on (image, label), adversarial term only"),
    "se_nc:ce": ("se_nc", {"posterior_weight": 0.0}, {}, "+ D's K-way cross-entropy"),
    "se_nc:no_ce": ("se_nc", {"class_weight": 0.0}, {}, "separator targets D's posterior, no K-way CE"),
    "se_nc": ("se_nc", {}, {}, "both (the default)"),
    "se_nc:eg0.3": ("se_nc", {"encoder_gradient": 0.3}, {}, "default, encoder hears 0.3 of the game"),
    "se_nc:eg0": ("se_nc", {"encoder_gradient": 0.0}, {}, "default, encoder cut off from the game"),
    "se_co": ("se_co", {}, {}, "for comparison: the cooperative SE (labels reach the separator directly)"),
    "ac_nc_v2:plain": ("ac_nc_v2_mse", {"class_weight": 0.0, "posterior_weight": 0.0}, {},
                       "AC(nc) v2: matching-aware D on (image, label), adversarial term only"),
    "ac_nc_v2:ce": ("ac_nc_v2_mse", {"posterior_weight": 0.0}, {}, "+ D's K-way cross-entropy"),
    "ac_nc_v2:no_ce": ("ac_nc_v2_mse", {"class_weight": 0.0}, {}, "classifier targets D's posterior, no K-way CE"),
    "ac_nc_v2": ("ac_nc_v2_mse", {}, {}, "both (the default)"),
    "ac_nc_v1:ns": ("ac_nc_v1_mse", {"non_saturating": True}, {},
                    "AC(nc) v1: C minimises -log G+(C(x)) (non-saturating) + L_C"),
    "ac_nc_v1:minimax": ("ac_nc_v1_mse", {"non_saturating": False}, {},
                         "C minimises log(1 - G+(C(x))) (the paper's minimax form) + L_C"),
}


@dataclasses.dataclass
class GamesBenchConfig:
    quick: bool = False
    variants: tuple | None = None
    seeds: tuple = (0, 1, 2)
    datasets: tuple = ("digits", "mnist")
    data_dir: str | None = None
    output: str = "benchmarks/results/noncooperative.json"

    def __post_init__(self):
        if self.quick:
            self.seeds, self.datasets = (0,), ("digits",)
        self.variants = tuple(self.variants or VARIANTS)
        harness.check_variants(self.variants, VARIANTS)


SETTINGS = {"digits": {"epochs": 30, "batch_size": 64}, "mnist": {"epochs": 8, "batch_size": 128}}


def split(dataset, data_dir=None, seed=0):
    """(x_train, y_train, x_val, y_val): a stratified, seeded validation
    split of the training set (digits: 20 %; MNIST: 10,000 / 2,000 of a
    12,000 subset)."""
    from sklearn.model_selection import train_test_split

    from models import data

    x, y = data.load_arrays(dataset, "train", data_dir)
    if dataset == "digits":
        return data.validation_split(x, y, 0.2, seed)
    x, _, y, _ = train_test_split(x, y, train_size=12_000, stratify=y, random_state=seed)
    return data.validation_split(x, y, 2_000, seed)


def accuracies(model, x, y):
    """The player's accuracy and mean entropy (nats), and D's implied
    classifier's accuracy, on (x, y). Both games' `model(x)` is the
    label-proposing player's probabilities; D maps images to label logits."""
    import numpy as np

    probs = np.asarray(model(x))
    found = {"accuracy": float(np.mean(probs.argmax(-1) == y)),
             "entropy": float(np.mean(-np.sum(probs * np.log(np.maximum(probs, 1e-12)), -1)))}
    # D's implied classifier: only a D that judges (image, label) pairs has
    # one (not AC(nc) v1's image head H)
    if getattr(model, "judges_labels", False):
        found["d_accuracy"] = float(np.mean(model.implied_posterior(x).argmax(-1) == y))
    return found


def diagnostics(x_val, y_val):
    """A Keras callback appending, after every epoch, `accuracies` on the
    validation set, the epoch's mean training losses, and the gradient norm
    of the player phase's total with respect to each of its players (on the
    first 128 validation samples) to its `trace`."""
    import keras
    import tensorflow as tf

    batch = (tf.constant(x_val[:128]), tf.constant(y_val[:128]))

    class Diagnostics(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.trace = []

        def on_epoch_end(self, epoch, logs=None):
            model = self.model
            row = accuracies(model, x_val, y_val)
            row.update({k: float(v) for k, v in (logs or {}).items() if k.endswith("_loss")})
            phase = model.phases()[-1]
            with tf.GradientTape() as tape:
                total = phase.loss(*batch, training=False)["total"]
            players = [model.players[p] for p in phase.players]
            grads = tape.gradient(total, [net.trainable_variables for net in players])
            for name, player_grads in zip(phase.players, grads):
                present = [g for g in player_grads if g is not None]
                row[f"grad_{name}"] = float(tf.linalg.global_norm(present)) if present else 0.0
            self.trace.append({k: round(v, 4) for k, v in row.items()})

    return Diagnostics()


def run_variant(variant, dataset, seed, data_dir=None):
    import keras

    import models
    from models import evaluation

    name, arguments, rates, _ = VARIANTS[variant]
    x, y, x_val, y_val = split(dataset, data_dir)
    keras.utils.set_random_seed(seed)
    model = models.create(name, input_shape=x.shape[1:], num_classes=10, **arguments)
    model.compile(optimizers={p: keras.optimizers.Adam(r) for p, r in rates.items()})
    callback = diagnostics(x_val, y_val)
    start = time.perf_counter()
    model.fit(x, y, **SETTINGS[dataset], verbose=0, callbacks=[callback], seed=seed)
    seconds = time.perf_counter() - start
    result = accuracies(model, x_val, y_val)
    scores, _, _ = evaluation.separability(model.encode(x_val), y_val, seed=0)
    return {"variant": variant, "model": name, "arguments": arguments, "learning_rates": rates,
            "dataset": dataset, "seed": seed, "seconds": round(seconds, 1), **result,
            "separability": scores["knn_accuracy"], "trace": callback.trace}


def summarize(runs):
    """Rows: variant, digits accuracy min / mean over seeds, separability,
    D's implied accuracy, MNIST-subset accuracy."""
    rows = []
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        digits = [r for r in mine if r["dataset"] == "digits"]
        mnist = [r for r in mine if r["dataset"] == "mnist"]
        row = {"variant": variant, "description": VARIANTS[variant][3]}
        if digits:
            accuracy = [r["accuracy"] for r in digits]
            row.update(digits_min=min(accuracy), digits_mean=sum(accuracy) / len(accuracy),
                       digits_seeds=[r["seed"] for r in digits],
                       digits_d_accuracy=(sum(r["d_accuracy"] for r in digits) / len(digits)
                                          if all("d_accuracy" in r for r in digits) else None),
                       digits_separability=sum(r["separability"] for r in digits) / len(digits))
        if mnist:
            row.update(mnist_accuracy=mnist[0]["accuracy"], mnist_separability=mnist[0]["separability"])
        rows.append(row)
    return rows


def _cell(value):
    return "-" if value is None else f"{value:.3f}"


def format_table(rows):
    lines = ["| variant | what | digits accuracy min / mean | digits D implied | digits separability "
             "| MNIST-subset accuracy | MNIST-subset separability |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['variant']}` | {r['description']} "
                     f"| {_cell(r.get('digits_min'))} / {_cell(r.get('digits_mean'))} "
                     f"| {_cell(r.get('digits_d_accuracy'))} | {_cell(r.get('digits_separability'))} "
                     f"| {_cell(r.get('mnist_accuracy'))} | {_cell(r.get('mnist_separability'))} |")
    return "\n".join(lines)


def run(config: GamesBenchConfig):
    runs = []
    for variant in config.variants:
        for dataset in config.datasets:
            for seed in config.seeds if dataset == "digits" else config.seeds[:1]:
                result = run_variant(variant, dataset, seed, config.data_dir)
                log.info("%s on %s, seed %d: accuracy %.3f, D %.3f, separability %.3f (%.0f s)", variant, dataset,
                         seed, result["accuracy"], result.get("d_accuracy", float("nan")), result["separability"],
                         result["seconds"])
                runs.append(result)
    rows = summarize(runs)
    harness.write({"machine": harness.machine(), "config": dataclasses.asdict(config), "rows": rows, "runs": runs},
                  config.output, format_table(rows))
    return rows


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="seed 0 on digits only")
    parser.add_argument("--variants", default=None, help="comma-separated variant names (default: all)")
    parser.add_argument("--datasets", default="digits,mnist")
    parser.add_argument("--data-dir", default=None, help="folder of the canonical MNIST IDX files")
    parser.add_argument("--output", default=GamesBenchConfig.output)
    parser.set_defaults(run=lambda a: run(GamesBenchConfig(
        quick=a.quick, variants=a.variants.split(",") if a.variants else None,
        datasets=tuple(a.datasets.split(",")), data_dir=a.data_dir, output=a.output)))


def main(argv=None):
    return harness.main("bench_games", __doc__.splitlines()[0], add_arguments, argv)
