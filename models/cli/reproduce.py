"""`keraslosses reproduce`: the paper's Tables 1 and 2, side by side with
the paper's numbers.

Trains every Autonets variant and the baselines on one dataset with the
same settings, then scores each on the test split: accuracy (classifiers),
latent separability (the protocol of `models.evaluation`) and the
reconstruction error (mean per-pixel MSE). Writes
`reproduce_<dataset>.json` and `reproduce_<dataset>.md` into the output
folder, with a t-SNE PNG per model.

Paper columns hold the figures the project's issue quotes from the paper
(AC(co) v1 MSE accuracy, SE(co) separability and reconstruction error, AE
separability); the other cells of the paper's tables are not transcribed
here and show "-".
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

from models import data, evaluation
from models.core.checks import check_at_least, check_choice
from models.training import SIZES, TrainConfig, record, train

log = logging.getLogger("keraslosses.reproduce")

MODELS = ("se_co", "se_nc", "se_star", "se_star_nc", "ac_co_v1_mse", "ac_co_v1_mae", "ac_co_v2_mse", "ac_co_v2_mae",
          "ac_nc_v1_mse", "ac_nc_v1_mae", "ac_nc_v2_mse", "ac_nc_v2_mae", "cnn", "ae", "vae", "aae")
QUICK_MODELS = ("se_co", "ac_co_v1_mse", "ac_nc_v2_mse", "cnn", "ae")

PAPER = {
    "mnist": {"ac_co_v1_mse": {"accuracy": 0.9962}, "se_co": {"separability": 0.9893, "reconstruction": 0.0123},
              "ae": {"separability": 0.9262}},
    "fashion_mnist": {"ac_co_v1_mse": {"accuracy": 0.9408}, "se_co": {"separability": 0.9257,
                                                                        "reconstruction": 0.0129},
                      "ae": {"separability": 0.8493}},
}


@dataclasses.dataclass
class ReproduceConfig:
    dataset: str = "digits"
    quick: bool = False
    models: tuple | None = None
    epochs: int | None = None
    batch_size: int = 64
    max_samples: int = 2000
    size: str = "small"
    data_dir: str | None = None
    output_dir: str = "runs/reproduce"
    seed: int = 0

    def __post_init__(self):
        check_choice(self.dataset, "dataset", data.names())
        check_choice(self.size, "size", SIZES)
        if self.epochs is None:
            self.epochs = {"digits": 30}.get(self.dataset, 5) if not self.quick else 2
        check_at_least(self.epochs, "epochs", 1)
        if self.models is not None:
            self.models = tuple(self.models)
            for name in self.models:
                check_choice(name, "models", MODELS)


def run(config: ReproduceConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_test, y_test = data.load_arrays(config.dataset, "test", config.data_dir)
    rows = []
    start_all = time.perf_counter()
    names = config.models or (QUICK_MODELS if config.quick else MODELS)
    for i, name in enumerate(names, 1):
        log.info("[%d/%d] %s on %s, %d epochs", i, len(names), name, config.dataset, config.epochs)
        train_config = TrainConfig(model=name, dataset=config.dataset, epochs=config.epochs,
                                   batch_size=config.batch_size, size=config.size, seed=config.seed,
                                   data_dir=config.data_dir, output_dir=str(out / name), verbose=0)
        model, summary = train(train_config)
        result = evaluation.score(model, x_test, y_test, tsne=True, max_samples=config.max_samples, seed=config.seed,
                       output_dir=out / name, name=name)
        rows.append({"model": name, "train_seconds": summary["train_seconds"],
                     "accuracy": result.get("classification", {}).get("accuracy"),
                     "separability": result["separability"]["knn_accuracy"],
                     "linear_probe": result["separability"]["linear_probe_accuracy"],
                     "silhouette": result["separability"]["silhouette"],
                     "reconstruction": result.get("reconstruction", {}).get("mse"),
                     "paper": PAPER.get(config.dataset, {}).get(name, {})})
    payload = {"config": record(config), "wall_seconds": round(time.perf_counter() - start_all, 1),
               "rows": rows}
    (out / f"reproduce_{config.dataset}.json").write_text(json.dumps(payload, indent=2) + "\n")
    table = format_table(payload)
    (out / f"reproduce_{config.dataset}.md").write_text(table + "\n")
    print(table)
    return payload


def _cell(value):
    return "-" if value is None else f"{value:.4f}"


def format_table(payload) -> str:
    cfg = payload["config"]
    lines = [f"Dataset {cfg['dataset']}, {cfg['epochs']} epochs, batch {cfg['batch_size']}, {cfg['size']} networks; "
             f"separability: t-SNE + 5-NN, 5-fold CV on {cfg['max_samples']} test codes at most; "
             f"wall time {payload['wall_seconds']:.0f} s.", "",
             "| model | accuracy | paper | separability (kNN) | paper | linear probe | silhouette "
             "| reconstruction MSE | paper | train s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in payload["rows"]:
        paper = r["paper"]
        lines.append(
            f"| {r['model']} | {_cell(r['accuracy'])} | {_cell(paper.get('accuracy'))} | {_cell(r['separability'])} "
            f"| {_cell(paper.get('separability'))} | {_cell(r['linear_probe'])} | {_cell(r['silhouette'])} "
            f"| {_cell(r['reconstruction'])} | {_cell(paper.get('reconstruction'))} | {r['train_seconds']:.1f} |")
    return "\n".join(lines)


def add_arguments(parser):
    parser.add_argument("--dataset", default="digits", choices=data.names(), help="digits is offline")
    parser.add_argument("--quick", action="store_true", help="five models, two epochs")
    parser.add_argument("--models", default=None, help="comma-separated subset of the table's models (default: all)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default: 30 digits, 5 else)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-samples", type=int, default=2000)
    parser.add_argument("--size", default="small", choices=SIZES)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-dir", default="runs/reproduce")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisations and the data order")
    parser.set_defaults(run=lambda a: run(ReproduceConfig(
        dataset=a.dataset, quick=a.quick, models=a.models.split(",") if a.models else None, epochs=a.epochs,
        batch_size=a.batch_size, max_samples=a.max_samples, size=a.size, data_dir=a.data_dir,
        output_dir=a.output_dir, seed=a.seed)) and 0)
