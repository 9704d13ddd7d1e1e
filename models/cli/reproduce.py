"""`keraslosses reproduce`: the paper's Tables 1-3, side by side with the
paper's figures.

Trains every Autonets variant and the baselines on one dataset with the
settings of a recipe (`models.training.recipes`: "default", the small
networks with the same settings for every model; "paper", the paper-grade
networks and recipe with per-model epochs), then scores each on the test
split: accuracy and macro F1 /
precision / recall (models that classify), latent separability (the
protocol of `models.evaluation`, on every test code unless `max_samples`
says otherwise) and the reconstruction error (mean per-pixel MSE). The
paper's figure stands next to each of ours (`models.evaluation.paper`, a
copy of the paper's tables shipped with the package; "-" where the paper has
none, e.g. for scikit-learn's digits). Ours is in bold where it meets the
paper's cell (`paper.meets`), and the tables end with how many cells are
met and which are missed, by how much (`paper_cells` in the JSON).

Runs survive interruption: each model writes `<output>/<model>/result.json`
(and its `model.keras`) as it finishes; a rerun skips the models whose result
is there and was trained as the run would train it now (the same settings and
the same `TrainConfig` the recipe gives, so a recipe that changed retrains its
models; `force` retrains them all) and the tables are rebuilt from the result
files, so the full tables can be built across interruptions and days of
background training. `tables_only` trains nothing: it rebuilds the tables from
the result files there, stale or not, and the tables name the models that
have no result yet. Writes
`reproduce_<dataset>.json` and `reproduce_<dataset>.md`, with a t-SNE PNG per
model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

from models import data, evaluation
from models.core.checks import check_at_least, check_choice
from models.evaluation import paper
from models.training import (
    PRECISIONS,
    SIZES,
    TRAIN_DEFAULTS,
    TrainConfig,
    recipes,
    record,
    train,
    validation_figures,
    write_json,
)

log = logging.getLogger("keraslosses.reproduce")

#: The rows of the paper's Table 1 (codes and reconstructions) ...
TABLE1 = ("se_co", "se_star", "se_nc", "se_star_nc", "ae", "dae", "vae", "dvae", "beta_vae", "aae", "daae",
          "idaae")
#: ... and of Tables 2 and 3 (classifiers).
TABLE2 = ("ac_co_v1_mse", "ac_co_v1_mae", "ac_co_v2_mse", "ac_co_v2_mae", "ac_nc_v1_mse", "ac_nc_v1_mae",
          "ac_nc_v2_mse", "ac_nc_v2_mae", "cnn")
MODELS = TABLE1 + TABLE2
QUICK_MODELS = ("se_co", "ac_co_v1_mse", "ac_nc_v2_mse", "cnn", "ae")
#: The settings a stored result must match to be reused.
SETTINGS = ("dataset", "recipe", "epochs", "batch_size", "max_samples", "size", "precision", "seed")
#: `TrainConfig` fields that do not change what is trained.
_NOT_TRAINING = ("data_dir", "output_dir", "verbose")
#: Run settings that only choose `TrainConfig` fields (the run's explicit
#: value, else the recipe's): a row with a training record is judged on the
#: values it trained with, so `--epochs 15` where the recipe trains 15 reuses it.
_RESOLVED_IN_RECORD = ("epochs", "batch_size", "size")


@dataclasses.dataclass
class ReproduceConfig:
    dataset: str = "digits"
    quick: bool = False
    models: tuple | None = None
    recipe: str = "default"
    epochs: int | None = None
    batch_size: int | None = None
    max_samples: int | None = None
    size: str | None = None
    precision: str | None = None
    data_dir: str | None = None
    output_dir: str = "runs/reproduce"
    seed: int = 0
    force: bool = False
    tables_only: bool = False

    def __post_init__(self):
        check_choice(self.dataset, "dataset", data.names())
        if self.force and self.tables_only:
            raise ValueError("`force` retrains and `tables_only` trains nothing: pass one of them, "
                             f"received force={self.force}, tables_only={self.tables_only}")
        check_choice(self.recipe, "recipe", recipes.RECIPES)
        if self.recipe == "default":  # one setting for every model, as the tables say
            defaults = recipes.settings("default", "", self.dataset)
            self.batch_size = self.batch_size or defaults["batch_size"]
            self.size = self.size or defaults["size"]
            if self.epochs is None:
                self.epochs = defaults["epochs"] if not self.quick else 2
        # under a recipe, None means the recipe's per-model choice
        if self.size is not None:
            check_choice(self.size, "size", SIZES)
        if self.precision is None:
            # 8x8 digits: bfloat16 gained nothing in speed and cost AC(nc) v1
            # and IDAAE their accuracy (RESULTS.md); elsewhere "auto".
            self.precision = "float32" if self.dataset == "digits" else "auto"
        check_choice(self.precision, "precision", PRECISIONS)
        if self.epochs is not None:
            check_at_least(self.epochs, "epochs", 1)
        if self.batch_size is not None:
            check_at_least(self.batch_size, "batch_size", 1)
        evaluation.check_max_samples(self.max_samples)  # before hours of training, not after
        if self.models is not None:
            self.models = tuple(self.models)
            for name in self.models:
                check_choice(name, "models", MODELS)

    def settings(self):
        return {k: getattr(self, k) for k in SETTINGS}


def _train_config(name, config, out):
    """The `TrainConfig` that trains `name`: the recipe's settings, with the
    run's explicit epochs / batch / size winning."""
    explicit = {k: getattr(config, k) for k in _RESOLVED_IN_RECORD if getattr(config, k) is not None}
    return TrainConfig(model=name, dataset=config.dataset, precision=config.precision, seed=config.seed,
                       data_dir=config.data_dir, output_dir=str(out / name), verbose=0,
                       **{**recipes.settings(config.recipe, name, config.dataset), **explicit})


def stale_fields(row, config, out):
    """What a stored result row was trained with that this run would train
    otherwise: {field: (stored, now)}, empty when the row can be reused.

    Compares the run's settings ("settings.<name>") and the recorded
    `TrainConfig` ("train") with the one the recipe gives now, paths aside;
    the epochs, batch and size through the record alone, where there is one.
    A field the record lacks (written before the field existed) counts as its
    default; a row with no record at all is judged on the settings alone.
    """
    settings = row.get("settings", {})
    resolved = _RESOLVED_IN_RECORD if "train" in row else ()
    stale = {f"settings.{k}": (settings.get(k), now) for k, now in config.settings().items()
             if k not in resolved and settings.get(k) != now}
    if "train" in row:
        for k, now in record(_train_config(row["model"], config, out)).items():
            was = row["train"].get(k, TRAIN_DEFAULTS.get(k))
            if k not in _NOT_TRAINING and was != now:
                stale[k] = (was, now)
    return stale


def _score(name, config, out, x_test, y_test):
    """Train and score one model; its result row."""
    train_config = _train_config(name, config, out)
    model, summary = train(train_config)
    result = evaluation.score(model, x_test, y_test, tsne=True, max_samples=config.max_samples, seed=config.seed,
                              output_dir=out / name, name=name)
    classification = result.get("classification", {})
    return {"model": name, "settings": config.settings(), "dtype_policy": summary["precision"],
            "train": record(train_config), "train_seconds": summary["train_seconds"],
            "validation": validation_figures(summary.get("final", {})),
            "accuracy": classification.get("accuracy"), "f1": classification.get("macro_f1"),
            "precision": classification.get("precision"), "recall": classification.get("recall"),
            "separability": result["separability"]["knn_accuracy"],
            "separability_samples": result["separability"]["samples"],
            "linear_probe": result["separability"]["linear_probe_accuracy"],
            "silhouette": result["separability"]["silhouette"],
            "reconstruction": result.get("reconstruction", {}).get("mse"),
            "paper": paper.figures(config.dataset, name)}


def run(config: ReproduceConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_test, y_test = (None, None) if config.tables_only else data.load_arrays(config.dataset, "test", config.data_dir)
    rows, missing = [], []
    start_all = time.perf_counter()
    names = config.models or (QUICK_MODELS if config.quick else MODELS)
    for i, name in enumerate(names, 1):
        stored = out / name / "result.json"
        if stored.is_file() and not config.force:
            row = json.loads(stored.read_text())
            stale = stale_fields(row, config, out)
            if not stale or config.tables_only:
                if stale:
                    log.warning("[%d/%d] %s: %s was trained otherwise than this run would train it now "
                                "(stored, now: %s); tabled as it is", i, len(names), name, stored, stale)
                else:
                    log.info("[%d/%d] %s: done before (%s); --force retrains it", i, len(names), name, stored)
                rows.append(row)
                continue
            log.info("[%d/%d] %s: %s is stale (stored, now: %s); retraining", i, len(names), name, stored, stale)
        if config.tables_only:
            log.warning("[%d/%d] %s: no result in %s; left out of the tables", i, len(names), name, out / name)
            missing.append(name)
            continue
        log.info("[%d/%d] %s on %s (recipe %s)", i, len(names), name, config.dataset, config.recipe)
        row = _score(name, config, out, x_test, y_test)
        stored.parent.mkdir(exist_ok=True)
        write_json(stored, row)
        rows.append(row)
    payload = {"config": record(config), "paper_source": paper.source(),
               "wall_seconds": round(time.perf_counter() - start_all, 1), "rows": rows, "missing": missing,
               "paper_cells": paper_cells(rows)}
    write_json(out / f"reproduce_{config.dataset}.json", payload)
    table = format_table(payload)
    (out / f"reproduce_{config.dataset}.md").write_text(table + "\n")
    print(table)
    return payload


def _cell(value):
    return "-" if value is None else f"{value:.4f}"


def _pair(row, metric):
    """Our figure, in bold where it meets the paper's cell, and the paper's."""
    ours, theirs = row.get(metric), row["paper"].get(metric)
    bold = "**" if ours is not None and theirs is not None and paper.meets(metric, ours, theirs) else ""
    return f"{bold}{_cell(ours)}{bold} | {_cell(theirs)}"


def paper_cells(rows):
    """How the rows fare against the paper's cells: {"cells", "met",
    "missed": [{"model", "metric", "ours", "paper"}]} (Tables 1 to 3, in
    the paper's order)."""
    cells, missed = paper.shortfalls(_in_order(rows, TABLE1) + _in_order(rows, TABLE2))
    return {"cells": cells, "met": cells - len(missed),
            "missed": [{"model": m, "metric": k, "ours": ours, "paper": theirs} for m, k, ours, theirs in missed]}


def _cells_lines(rows):
    """Markdown lines on the paper's cells met, and a list of those missed
    (none where the paper has no figure for the rows)."""
    summary = paper_cells(rows)
    if not summary["cells"]:
        return []
    lines = [f"The paper's cells: {summary['met']} of {summary['cells']} met (in bold: at or above the paper's "
             f"figure, at or below it for the reconstruction error, to its 4 decimals)"
             + (", missed:" if summary["missed"] else "."), ""]
    lines += [f"- {m['model']} {m['metric']}: {m['ours']:.4f} against {m['paper']:.4f} "
              f"({paper.difference(m['ours'], m['paper']):+.4f})" for m in summary["missed"]]
    return lines + ([""] if summary["missed"] else [])


def _in_order(rows, table):
    """The rows of `table`'s models, in the paper's order (whatever order
    `--models` named them in)."""
    return sorted((r for r in rows if r["model"] in table), key=lambda r: table.index(r["model"]))


def format_table(payload) -> str:
    """Two Markdown tables: Table 1 (codes and reconstructions) and Tables 2-3
    (classifiers), each of our figures beside the paper's."""
    cfg, rows = payload["config"], payload["rows"]
    samples = sorted({r.get("separability_samples") for r in rows if r.get("separability_samples")})
    codes = "every test code" if cfg.get("max_samples") is None else f"at most {cfg['max_samples']} test codes"
    precisions = sorted({r.get("dtype_policy") or "float32" for r in rows})
    epochs = f"{cfg['epochs']} epochs" if cfg.get("epochs") else "the recipe's epochs per model"
    batch = f"batch {cfg['batch_size']}" if cfg.get("batch_size") else "the recipe's batch"
    size = f"{cfg['size']} networks" if cfg.get("size") else "the recipe's networks"
    lines = [f"Dataset {cfg['dataset']}, recipe {cfg.get('recipe', 'default')}, {epochs}, {batch}, {size}, "
             f"{' / '.join(precisions)}, seed {cfg.get('seed', 0)}; separability: t-SNE + 5-NN, 5-fold CV on {codes} "
             f"({', '.join(map(str, samples))}); wall time {payload['wall_seconds']:.0f} s (this run's share).", ""]
    table1 = _in_order(rows, TABLE1)
    if table1:
        lines += ["| model | separability (kNN) | paper | linear probe | silhouette | accuracy | reconstruction MSE "
                  "| paper | train s |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['model']} | {_pair(r, 'separability')} | {_cell(r['linear_probe'])} "
                  f"| {_cell(r['silhouette'])} | {_cell(r['accuracy'])} | {_pair(r, 'reconstruction')} "
                  f"| {r['train_seconds']:.1f} |" for r in table1]
        lines.append("")
    table2 = _in_order(rows, TABLE2)
    if table2:
        lines += ["| model | accuracy | paper | macro F1 | paper | precision | paper | recall | paper "
                  "| separability (kNN) | reconstruction MSE | train s |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['model']} | {_pair(r, 'accuracy')} | {_pair(r, 'f1')} | {_pair(r, 'precision')} "
                  f"| {_pair(r, 'recall')} | {_cell(r['separability'])} | {_cell(r['reconstruction'])} "
                  f"| {r['train_seconds']:.1f} |" for r in table2]
        lines.append("")
    lines += _cells_lines(rows)
    if payload.get("missing"):  # a table built across interruptions says which rows are still to come
        lines.append(f"Not trained yet (no result file): {', '.join(payload['missing'])}.")
    return "\n".join(lines).rstrip()


def add_arguments(parser):
    parser.add_argument("--dataset", default="digits", choices=data.names(), help="digits is offline")
    parser.add_argument("--quick", action="store_true", help="five models, two epochs")
    parser.add_argument("--models", default=None, help="comma-separated subset of the table's models (default: all)")
    parser.add_argument("--recipe", default="default", choices=recipes.RECIPES,
                        help="training settings per model (see models.training.recipes): default (small networks, "
                             "Adam) or paper (the paper-grade networks and recipe)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per model (default: the recipe's; 30 on digits, 5 else for the default recipe)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the recipe's (64 default, 128 paper)")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="score separability on a stratified subset of this many test codes (at least 100; "
                             "default: all)")
    parser.add_argument("--size", default=None, choices=SIZES, help="default: the recipe's (small default, paper paper)")
    parser.add_argument("--precision", default=None, choices=PRECISIONS,
                        help="auto (default; float32 on digits): mixed_bfloat16 where the CPU has bfloat16 hardware, "
                             "else float32")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-dir", default="runs/reproduce")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisations and the data order")
    parser.add_argument("--force", action="store_true", help="retrain models whose result file is already there")
    parser.add_argument("--tables-only", action="store_true",
                        help="train nothing: rebuild the tables from the result files in --output-dir")
    parser.set_defaults(run=run, config=lambda a: ReproduceConfig(
        dataset=a.dataset, quick=a.quick, models=a.models.split(",") if a.models else None, recipe=a.recipe,
        epochs=a.epochs,
        batch_size=a.batch_size, max_samples=a.max_samples, size=a.size, precision=a.precision, data_dir=a.data_dir,
        output_dir=a.output_dir, seed=a.seed, force=a.force, tables_only=a.tables_only))
