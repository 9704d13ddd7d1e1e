"""Ablation of the Super-encoders' reconstruction term, its loss and weight beta (validation only).

A Super-encoder's loss is alpha * L_label + beta * L_rec, the label term the
norm over the K classes and the reconstruction term a mean over pixels
(`models.families.super_encoder`). At beta = 1 the label term dominates and
the paper-size decoder, which reaches a reconstruction MSE of 0.0067 in the
plain autoencoder, stays near 0.02 in SE(co). This ablation trains a
Super-encoder under the paper recipe of `models.training.recipes` with each
variant in turn, `LOSS:WEIGHT[:EPOCHS[:LEARNING_RATE]]`
(`TrainConfig.reconstruction_loss`, L1 "mae" or squared "mse";
`TrainConfig.reconstruction_weight`; the epochs and the peak learning rate,
by default the recipe's), on a
stratified subset of the training split (15,000 images by default) of which a
stratified third is held out; the test split is never read.

Reported on the held-out images: the reconstruction MSE, the separator's
accuracy, and separability (5-NN on the t-SNE map of 2,000 stratified codes,
`models.evaluation.separability`), per seed. On 5,000 images an accuracy near
0.98 has a standard error of about 0.002. `python scripts/bench_reconstruction.py
--data-dir DIR [--model se_co] [--dataset mnist] [--variants mae:1,mae:3,mse:10]` prints the
table and writes `benchmarks/results/reconstruction.json` (the runs' folders go
to `--runs-dir`; a rerun reads finished runs back).
"""

from __future__ import annotations

import logging

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.reconstruction")


def config(model, dataset, variant, seed, *, subset, data_dir, runs_dir):
    """The `TrainConfig` of one run: the paper recipe for `model`, with a third
    of `subset` held out, changed as `variant` ("LOSS:WEIGHT[:EPOCHS[:LEARNING_RATE]]") says."""
    from models.training import TrainConfig, recipes

    loss, weight, *rest = variant.split(":")
    settings = {**recipes.settings("paper", model, dataset), "validation": 1 / 3, "reconstruction_loss": loss,
                "reconstruction_weight": float(weight)}
    if rest:
        settings["epochs"] = int(rest[0])
    name = f"{loss}_beta{float(weight):g}_e{settings['epochs']}"
    if len(rest) > 1:
        # Only a variant that names its rate gets it in the folder name, so the
        # runs of the recipe's own rate keep their folders (`recipe.trained`
        # retrains a folder whose stored settings differ, e.g. after the recipe's
        # rate changed).
        settings["learning_rate"] = float(rest[1])
        name += f"_lr{settings['learning_rate']:g}"
    return TrainConfig(model=model, dataset=dataset, subset=subset, seed=seed, data_dir=data_dir, verbose=0,
                       output_dir=f"{runs_dir}/{dataset}/{model}/{name}/seed{seed}", **settings)


def scores(cfg):
    """Train (or read back) `cfg`'s run and score it on its held-out images."""
    from pathlib import Path

    import numpy as np

    from benchmarks.suite.recipe import trained
    from models import training
    from models.evaluation import separability
    from models.pretrained import load_model

    summary = trained(cfg)
    model = load_model(Path(cfg.output_dir) / "model.keras")
    _, _, x_val, y_val = training.split(cfg)
    reconstruction = float(np.mean((model.reconstruct(x_val) - x_val) ** 2))
    accuracy = float(np.mean(model.predict(x_val, verbose=0).argmax(-1) == y_val))
    knn = separability(model.encode(x_val), y_val, seed=cfg.seed, max_samples=2000)[0]["knn_accuracy"]
    return {"model": cfg.model, "loss": cfg.reconstruction_loss, "weight": cfg.reconstruction_weight, "seed": cfg.seed,
            "learning_rate": cfg.learning_rate, "reconstruction_mse": round(reconstruction, 5),
            "separator_accuracy": round(accuracy, 4), "separability": round(knn, 4), "epochs": cfg.epochs,
            "seconds": summary["train_seconds"]}


def run(args):
    rows = []
    for seed in map(int, args.seeds.split(",")):
        for variant in args.variants.split(","):
            cfg = config(args.model, args.dataset, variant, seed, subset=args.subset, data_dir=args.data_dir,
                         runs_dir=args.runs_dir)
            rows.append(scores(cfg))
            log.info("%s", rows[-1])
    header = ("| loss | beta | epochs | learning rate | seed | reconstruction MSE | separator accuracy "
              "| separability (kNN, 2,000 codes) | train s |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['loss']} | {r['weight']:g} | {r['epochs']} | {r['learning_rate']:g} | {r['seed']} "
              f"| {r['reconstruction_mse']:.4f} "
              f"| {r['separator_accuracy']:.4f} "
              f"| {r['separability']:.4f} | {r['seconds']:.0f} |" for r in rows]
    harness.write({"machine": harness.machine(), "model": args.model, "dataset": args.dataset,
                   "subset": args.subset, "rows": rows}, args.output, "\n".join(lines))


def add_arguments(parser):
    parser.add_argument("--model", default="se_co", choices=("se_co", "se_star", "se_nc", "se_star_nc"))
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--variants", default="mae:1,mae:3,mae:10,mse:10,mse:30",
                        help="comma-separated LOSS:WEIGHT[:EPOCHS[:LEARNING_RATE]] (mae or mse, beta; by default the "
                             "recipe's epochs and peak learning rate)")
    harness.add_subset_arguments(parser, "reconstruction")
    parser.set_defaults(run=run)


def main(argv=None):
    return harness.main("bench_reconstruction", __doc__.splitlines()[0], add_arguments, argv)
