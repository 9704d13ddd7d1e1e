"""Where the paper-grade networks lose their accuracy under pixel noise:
BatchNorm's running statistics.

For each zoo classifier named, the test accuracy under the Gaussian pixel
noise of `keraslosses robustness` (`models.evaluation.perturbations`, seed
0), twice: with BatchNorm's running statistics (the training images'; the
model as deployed) and with the statistics of each batch of perturbed test
images (`training=True`, so dropout is active too: the mean of three passes'
probabilities). If the second recovers what the first loses, the network's
features survive the noise and the normalisation fitted to clean images is
what fails (prediction-time batch normalisation: Nado et al., "Evaluating
Prediction-Time Batch Normalization for Robustness under Covariate Shift",
2020; Schneider et al., NeurIPS 2020).

`python scripts/bench_batchnorm.py --dataset mnist --data-dir DIR MODEL...`
prints the table and writes
`benchmarks/results/robustness/paper/batchnorm_statistics_<dataset>.json`.
"""

from __future__ import annotations

from benchmarks.suite import harness

PASSES = 3
BATCH = 500


def measure(classifier, noisy, y):
    """{perturbation: {"running_statistics": accuracy, "batch_statistics": accuracy}} of `classifier` on
    `noisy` ({perturbation: images}) against labels `y`."""
    import numpy as np

    # Every running-statistics figure first: a call with training=True also
    # moves BatchNorm's moving averages towards the batch it sees.
    rows = {k: {"running_statistics": float(np.mean(classifier.predict(images, batch_size=BATCH, verbose=0)
                                                    .argmax(-1) == y))} for k, images in noisy.items()}
    for k, images in noisy.items():
        probabilities = np.mean([np.concatenate([np.asarray(classifier(images[i:i + BATCH], training=True))
                                                 for i in range(0, len(images), BATCH)]) for _ in range(PASSES)], 0)
        rows[k]["batch_statistics"] = float(np.mean(probabilities.argmax(-1) == y))
    return rows


def run(args):
    import keras

    from models import data, evaluation, pretrained

    keras.utils.set_random_seed(0)  # the dropout of the batch-statistics passes
    x, y = data.load_arrays(args.dataset, "test", args.data_dir)
    # The noisy copies once, for every model (the same seeded draws as `keraslosses robustness`).
    noisy = {k: v for k, v in evaluation.perturbations(x).items() if not k.startswith("shift")}
    results, lines = {}, []
    for name in args.models:
        rows = measure(pretrained.load_pretrained(name).classifier, noisy, y)
        results[name] = {k: {s: round(v, 4) for s, v in row.items()} for k, row in rows.items()}
        if not lines:
            lines = ["| model | statistics | " + " | ".join(rows) + " |", "|---|---|" + "---|" * len(rows)]
        for stats in ("running_statistics", "batch_statistics"):
            lines.append(f"| {name} | {stats.split('_')[0]} | " + " | ".join(f"{r[stats]:.4f}" for r in rows.values())
                         + " |")
    path = f"{args.output_dir}/batchnorm_statistics_{args.dataset}.json"
    harness.write({"machine": harness.machine(), "dataset": args.dataset, "passes": PASSES, "batch": BATCH,
                   "models": results}, path, "\n".join(lines))


def add_arguments(parser):
    parser.add_argument("models", nargs="+", metavar="MODEL", help="pretrained classifier names")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-dir", default="benchmarks/results/robustness/paper")
    parser.set_defaults(run=run)


def main(argv=None):
    return harness.main("bench_batchnorm", __doc__.splitlines()[0], add_arguments, argv)
