"""`keraslosses pretrained list | download NAME | publish ...`.

`publish` (for maintainers) adds a `keraslosses train` run to
`saved_models/`: an optimizer-free `<name>.keras` (weights stored as
float16, see `store_float16`) and its manifest entry
(constructor arguments, size, SHA-256, test metrics (a bfloat16 model's in
float32 too), the validation figures
of runs with `--validation`, the `keraslosses train` command that repeats the
run, its epochs, seconds and precision), and rewrites the table of
`saved_models/README.md` from the manifest.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from models import data, pretrained, training

log = logging.getLogger("keraslosses.pretrained")

_COLUMNS = (("accuracy", "accuracy"), ("recon MSE", "reconstruction_mse"), ("sep kNN", "separability_knn"))


def measure(model, dataset: str, data_dir=None, separability: bool = False, max_samples: int = 2000) -> dict:
    """The manifest's metrics of `model` on the test split of `dataset`:
    accuracy, reconstruction MSE (where the model reconstructs) and,
    optionally, the separability scores (t-SNE + 5-NN, see
    `models.evaluation`). Rounded to 6 decimals."""
    from models import evaluation

    x, y = data.load_arrays(dataset, "test", data_dir)
    result = evaluation.score(model, x, y, tsne=separability, max_samples=max_samples)
    metrics = {}
    if "classification" in result:
        metrics["accuracy"] = result["classification"]["accuracy"]
    if "reconstruction" in result:
        metrics["reconstruction_mse"] = result["reconstruction"]["mse"]
    if separability:
        sep = result["separability"]
        metrics.update(separability_knn=sep["knn_accuracy"], linear_probe=sep["linear_probe_accuracy"],
                       silhouette=sep["silhouette"])
    return {k: round(float(v), 6) for k, v in metrics.items()}


def inference_copy(model):
    """A copy of `model` with the same weights and no optimizer state: what
    ships (a third of the size of a compiled model's file under Adam)."""
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def store_float16(path) -> None:
    """Rewrite the `.keras` file at `path` with its float32 weights stored as
    float16: half the bytes, and Keras casts them back into the float32
    variables on load. The zoo's paper-grade models trained under
    `mixed_bfloat16` computed with 8-bit mantissas; float16 keeps 11, so the
    stored copy predicts as the trained one (on Fashion-MNIST's test split,
    SE(nc)'s separator gave the same class for all of 2,000 images, its
    probabilities within 0.011). `publish` measures the stored copy."""
    import io
    import zipfile

    import h5py
    import numpy as np

    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info.filename)) for info in archive.infolist()]
    source, target = io.BytesIO(), io.BytesIO()
    source.write(next(blob for info, blob in items if info.filename == "model.weights.h5"))
    with h5py.File(source, "r") as old, h5py.File(target, "w") as new:
        new.attrs.update(old.attrs)

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                new.require_group(name).attrs.update(obj.attrs)
            else:
                value = obj[()]
                new.create_dataset(name, data=value.astype(np.float16) if obj.dtype == np.float32 else value)
                new[name].attrs.update(obj.attrs)

        old.visititems(copy)
    with zipfile.ZipFile(path, "w") as archive:
        for info, blob in items:
            archive.writestr(info, target.getvalue() if info.filename == "model.weights.h5" else blob)


def publish(run_dir, name: str, dataset: str, *, data_dir=None, saved_models="saved_models",
            max_samples: int = 2000, note: str | None = None) -> dict:
    """Add the model trained by `keraslosses train --output-dir RUN_DIR` to
    `saved_models/`: an optimizer-free `<name>.keras` with float16 weights
    (`store_float16`), its manifest entry (constructor arguments, size,
    SHA-256, test metrics, training settings, and an optional note for
    users, e.g. a known weakness; a `mixed_bfloat16` model's entry adds
    `metrics_float32`, its accuracy and reconstruction error computed in
    float32), its row of the README's table, and its
    model card's pictures in `cards/` (those of the file it replaces are
    deleted)."""
    import keraslosses

    run_dir, folder = Path(run_dir), Path(saved_models)
    trained = json.loads((run_dir / "train.json").read_text())
    model = inference_copy(pretrained.load_model(run_dir / "model.keras", precision="stored"))
    path = folder / f"{name}.keras"
    model.save(path)
    store_float16(path)
    # The manifest holds the figures of the model as trained (its own policy).
    stored = pretrained.load_model(path, precision="stored")
    metrics = measure(stored, dataset, data_dir, separability=True, max_samples=max_samples)
    shown = pretrained.under_precision(stored, "auto")  # what `load_pretrained` gives on this CPU
    cfg = trained["config"]
    command = training.train_command(cfg)
    validation = {k: round(float(v), 6) for k, v in training.validation_figures(trained.get("final", {})).items()}
    entry = {"model": cfg["model"], "class": type(model).__name__, "arguments": dict(model.config),
             "dataset": dataset, "file": path.name, "bytes": path.stat().st_size, "sha256": pretrained.sha256(path),
             "parameters": int(model.count_params()), "metrics": metrics,
             **float32_figures(stored, dataset, data_dir, copy=shown),
             "training": {"command": command, "epochs_run": trained["epochs_run"],
                          "train_seconds": trained["train_seconds"], "precision": trained.get("precision")},
             "keraslosses_version": keraslosses.__version__}
    if validation:  # the figures the recipe was chosen on (`--validation`)
        entry["validation"] = validation
    if note:
        entry["note"] = note
    manifest_file = folder / "manifest.json"
    payload = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {"format": 1, "models": {}}
    replaced = payload["models"].get(name)
    payload["models"][name] = entry
    payload["models"] = dict(sorted(payload["models"].items()))
    manifest_file.write_text(json.dumps(payload, indent=2) + "\n")
    write_readme_table(folder / "README.md", payload["models"])
    draw_card_pictures(name, entry, replaced, folder / "cards", data_dir, shown)
    log.info("published %s: %s", name, json.dumps(metrics))
    return entry


def float32_figures(stored, dataset: str, data_dir=None, *, copy=None) -> dict:
    """`{"metrics_float32": ...}` for a `mixed_bfloat16` model (`stored`, as
    loaded under its own policy), else `{}`: its accuracy and reconstruction
    error computed in float32, as `load_pretrained` does on a CPU without
    bfloat16 hardware, where a few test images change class (up to 6 of
    10,000 for the zoo). The float32 copy has the same weights
    (`pretrained.under_precision`, as `load_model` makes it); `copy`, a copy
    of `stored` under some policy, is used where that policy is float32."""
    if stored.dtype_policy.name != "mixed_bfloat16":
        return {}
    if copy is None or copy.dtype_policy.name != "float32":
        copy = pretrained.under_precision(stored, "float32")
    return {"metrics_float32": measure(copy, dataset, data_dir)}


def draw_card_pictures(name, entry, replaced, pictures_dir, data_dir, model) -> None:
    """The documentation card's pictures of a newly published file, kept
    under `pictures_dir` (see `models.docs.cards`); the folder of the file
    it replaces (`replaced`, its old manifest entry) is deleted."""
    from models.docs import cards

    kept = cards.kept_folder(pictures_dir, entry)
    cards.draw_pictures(name, entry, data_dir, kept, model=model)
    old = cards.kept_folder(pictures_dir, replaced) if replaced else kept
    if old != kept:
        shutil.rmtree(old, ignore_errors=True)


#: The markers around the generated part of `saved_models/README.md`.
README_BEGIN = "<!-- zoo table: written by `keraslosses pretrained publish` from manifest.json -->"
README_END = "<!-- end of zoo table -->"


def markdown_table(rows: dict) -> str:
    """The zoo's table in `saved_models/README.md`: one row per manifest
    entry (figures on the test split, the validation accuracy where the run
    held a validation split out), then each entry's `note`."""
    def figure(value):
        return "-" if value is None else f"{value:.4f}"

    header = ("| name | class | dataset | size | accuracy | reconstruction MSE | separability (kNN) "
              "| validation accuracy | parameters | MB |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    for name, e in sorted(rows.items()):
        m = e["metrics"]
        lines.append(f"| `{name}` | {e['class']} | {e['dataset']} | {e['arguments'].get('size', 'small')} "
                     f"| {figure(m.get('accuracy'))} | {figure(m.get('reconstruction_mse'))} "
                     f"| {figure(m.get('separability_knn'))} | {figure(e.get('validation', {}).get('accuracy'))} "
                     f"| {e['parameters']:,} | {e['bytes'] / 1e6:.2f} |")
    notes = [f"- `{name}`: {e['note']}" for name, e in sorted(rows.items()) if e.get("note")]
    return "\n".join(lines + (["", "Notes:", *notes] if notes else []))


def write_readme_table(readme, rows: dict) -> bool:
    """Replace the generated part of `readme` (between `README_BEGIN` and
    `README_END`) by `markdown_table(rows)`; False where `readme` is missing
    or has no markers (a folder of the user's own)."""
    readme = Path(readme)
    text = readme.read_text() if readme.is_file() else ""
    if README_BEGIN not in text or README_END not in text:
        return False
    head, rest = text.split(README_BEGIN, 1)
    readme.write_text(f"{head}{README_BEGIN}\n{markdown_table(rows)}\n{README_END}{rest.split(README_END, 1)[1]}")
    return True


def format_table(rows: dict) -> str:
    """The `list` table: one row per model, every column as wide as its
    longest cell."""
    header = ["name", "dataset", *(title for title, _ in _COLUMNS), "MB"]
    body = []
    for name, e in sorted(rows.items()):
        m = e["metrics"]
        body.append([name, e["dataset"], *(f"{m[k]:.4f}" if k in m else "-" for _, k in _COLUMNS),
                     f"{e['bytes'] / 1e6:.2f}"])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = []
    for row in [header, *body]:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _list(args):
    print(format_table(pretrained.manifest()))
    return 0


def _download(args):
    print(pretrained.fetch(args.name, cache_dir=args.cache_dir, base_url=args.base_url))
    return 0


def _publish(args):
    publish(args.run_dir, args.name, args.dataset, data_dir=args.data_dir, saved_models=args.saved_models,
            note=args.note)
    return 0


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="the pretrained models and their test metrics").set_defaults(
        run=_list, needs_tensorflow=False)
    download = sub.add_parser("download", help="fetch (or find) a pretrained file and print its path")
    download.add_argument("name", choices=pretrained.list_pretrained(), metavar="NAME")
    download.add_argument("--cache-dir", default=None, help="Keras cache folder (default ~/.keras)")
    download.add_argument("--base-url", default=None, help=f"download location (default ${pretrained.ENV_MODELS_URL}"
                                                           f" or {pretrained.DEFAULT_BASE_URL})")
    download.set_defaults(run=_download)
    pub = sub.add_parser("publish", help="(maintainers) add a `keraslosses train` run to saved_models/")
    pub.add_argument("--run-dir", required=True, help="the --output-dir of `keraslosses train`")
    pub.add_argument("--name", required=True, help="the pretrained name, e.g. ac_co_v1_mse_mnist")
    pub.add_argument("--dataset", required=True, choices=data.names())
    pub.add_argument("--data-dir", default=None)
    pub.add_argument("--saved-models", default="saved_models")
    pub.add_argument("--note", default=None, help="a line for users (a known weakness, ...)")
    pub.set_defaults(run=_publish)
