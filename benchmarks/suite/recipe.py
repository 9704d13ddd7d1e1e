"""Ablation of the paper-grade recipe: each of its choices left out in turn.

The independent CNN at `size="paper"` (the classifier every Auto-classifier
shares) under the paper recipe of `models.training.recipes`, on a stratified
subset of a dataset's training split (`TrainConfig.subset`, 15,000 images by
default) of which a stratified third is held out for validation; the test
split is never read. Variants:

* `recipe`: the paper recipe as it stands (AdamW 2e-3, weight decay 5e-4, one
  warm-up epoch then cosine decay, shifts and, on Fashion-MNIST, flips, label
  smoothing 0.1, batch 128);
* `no_augment`: without shifts and flips;
* `no_label_smoothing`;
* `no_weight_decay`: Adam instead of AdamW;
* `constant_rate`: no warm-up, no decay;
* `rate_1e-3`: half the learning rate;
* `wide_no_augment`, `wide`: the "wide" networks (twice the filters), without
  and with the augmentation; not in the default run (each costs about three
  of the others): `--variants no_augment,wide_no_augment --output
  benchmarks/results/recipe_width.json`.

Reported: the validation accuracy after the last epoch and its best over the
epochs, per seed. On 5,000 validation images an accuracy near 0.92 has a
standard error of about 0.004: differences below ~0.01 in one seed are noise.
`python scripts/bench_recipe.py --data-dir DIR [--dataset fashion_mnist]
[--seeds 0,1]` prints the table and writes `benchmarks/results/recipe.json`
(the runs' folders go to `--runs-dir`; a rerun reads finished runs back).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.recipe")

#: variant -> the `TrainConfig` fields it changes from the recipe.
VARIANTS = {
    "recipe": {},
    "no_augment": {"augment": False},
    "no_label_smoothing": {"label_smoothing": 0.0},
    "no_weight_decay": {"weight_decay": 0.0},
    "constant_rate": {"schedule": "constant"},
    "rate_1e-3": {"learning_rate": 1e-3},
    "wide_no_augment": {"augment": False, "size": "wide"},
    "wide": {"size": "wide"},
}
#: the variants of a run without `--variants`: the recipe's choices left out one at a time, at the recipe's size
DEFAULT_VARIANTS = tuple(name for name, changes in VARIANTS.items() if "size" not in changes)


def config(variant, dataset, seed, *, subset, epochs, data_dir, runs_dir):
    """The `TrainConfig` of one run: the paper recipe for `cnn`, changed as
    `variant` says."""
    from models.training import TrainConfig, recipes

    settings = {**recipes.settings("paper", "cnn", dataset), "epochs": epochs, "validation": 1 / 3,
                **VARIANTS[variant]}
    return TrainConfig(model="cnn", dataset=dataset, subset=subset, seed=seed, data_dir=data_dir, verbose=0,
                       output_dir=f"{runs_dir}/{dataset}/{variant}/seed{seed}", **settings)


def trained(cfg):
    """The `train.json` summary of `cfg`'s run: read back where a finished
    run with the same settings is in its folder, else from training it."""
    from models.training import record, train

    done = Path(cfg.output_dir) / "train.json"
    if done.is_file() and (Path(cfg.output_dir) / "history.json").is_file():
        summary = json.loads(done.read_text())
        if summary["config"] == record(cfg):
            log.info("%s: trained before", cfg.output_dir)
            return summary
    return train(cfg)[1]


def run(args):
    variants = args.variants.split(",")
    harness.check_variants(variants, VARIANTS)
    rows = []
    for seed in map(int, args.seeds.split(",")):
        for variant in variants:
            cfg = config(variant, args.dataset, seed, subset=args.subset, epochs=args.epochs,
                         data_dir=args.data_dir, runs_dir=args.runs_dir)
            summary = trained(cfg)
            val = json.loads((Path(cfg.output_dir) / "history.json").read_text())["val_accuracy"]
            rows.append({"variant": variant, "seed": seed, "final": round(val[-1], 4), "best": round(max(val), 4),
                         "curve": [round(v, 4) for v in val], "seconds": summary["train_seconds"],
                         "config": {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("data_dir", "verbose")}})
            log.info("%s seed %d: validation accuracy %.4f (best %.4f)", variant, seed, val[-1], max(val))
    seeds = sorted({r["seed"] for r in rows})
    lines = ["| variant | " + " | ".join(f"seed {s}: final / best" for s in seeds) + " | mean final |",
             "|---|" + "---|" * (len(seeds) + 1)]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = {r["seed"]: r for r in rows if r["variant"] == variant}
        cells = [f"{mine[s]['final']:.4f} / {mine[s]['best']:.4f}" if s in mine else "-" for s in seeds]
        mean = sum(r["final"] for r in mine.values()) / len(mine)
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {mean:.4f} |")
    harness.write({"machine": harness.machine(), "dataset": args.dataset, "subset": args.subset,
                   "epochs": args.epochs, "rows": rows}, args.output, "\n".join(lines))


def add_arguments(parser):
    parser.add_argument("--dataset", default="fashion_mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help=f"any of {', '.join(VARIANTS)}")
    parser.add_argument("--epochs", type=int, default=8)
    harness.add_subset_arguments(parser, "recipe")
    parser.set_defaults(run=run)


def main(argv=None):
    return harness.main("bench_recipe", __doc__.splitlines()[0], add_arguments, argv)
