"""Pretrained models: load a trained Autonet by name, hash-checked.

    >>> import models
    >>> "ac_co_v1_mse_mnist" in models.list_pretrained()
    True

`load_pretrained(name)` looks for the file, in this order:

1. a local folder of `.keras` files: `$KERASLOSSES_SAVED_MODELS` when set,
   else the `saved_models/` folder of a source checkout;
2. the Keras cache (`cache_dir`, default `~/.keras`, subfolder `models/`);
3. a download from `base_url` (argument, else `$KERASLOSSES_MODELS_URL`,
   else `DEFAULT_BASE_URL`) into that cache, through `keras.utils.get_file`.

The manifest (`saved_models/manifest.json`, installed as package data) is the
trust anchor: every file, from whichever source, must have the manifest's
byte size and SHA-256 before it is deserialized, and it is deserialized with
`safe_mode=True` (no arbitrary code from lambdas). A bad cached or downloaded
copy is deleted; the error names the file and both hashes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger("keraslosses.pretrained")

#: Where released `.keras` files are downloaded from (one file per manifest
#: entry, `<base_url>/<file>`). Override with `base_url=` or
#: `$KERASLOSSES_MODELS_URL`, e.g. to serve a copy of `saved_models/`.
DEFAULT_BASE_URL = "https://github.com/keraslosses/keraslosses/releases/download/models-v1/"
ENV_SAVED_MODELS = "KERASLOSSES_SAVED_MODELS"
ENV_MODELS_URL = "KERASLOSSES_MODELS_URL"

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent  # the repository root when running from a source checkout


class PretrainedFileError(OSError):
    """A pretrained file that cannot be had or does not match the manifest."""


def manifest_path() -> Path:
    """The manifest: installed package data, else the source checkout's."""
    for path in (_PACKAGE / "saved_models" / "manifest.json", _CHECKOUT / "saved_models" / "manifest.json"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"no pretrained-model manifest: looked for {_PACKAGE / 'saved_models'} and "
                            f"{_CHECKOUT / 'saved_models'}; reinstall keraslosses")


def manifest() -> dict:
    """{name: entry} of every pretrained model (see `saved_models/manifest.json`)."""
    return json.loads(manifest_path().read_text())["models"]


def list_pretrained() -> list[str]:
    """The names `load_pretrained` accepts, sorted."""
    return sorted(manifest())


def entry(name: str) -> dict:
    """The manifest entry of `name`; an unknown name raises a `ValueError`
    listing close matches."""
    entries = manifest()
    if name not in entries:
        close = difflib.get_close_matches(name, entries, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown pretrained model {name!r}.{hint} Available: {', '.join(sorted(entries))}.")
    return entries[name]


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path, expected: dict, delete: bool = False) -> Path:
    """Check `path` against a manifest entry's size and SHA-256. On a mismatch,
    delete the file when `delete` (a cached copy) and raise
    `PretrainedFileError` naming the file and both hashes."""
    path = Path(path)
    actual, size = sha256(path), path.stat().st_size
    if actual != expected["sha256"] or size != expected["bytes"]:
        if delete:
            path.unlink()
        raise PretrainedFileError(
            f"{path} does not match the manifest: expected SHA-256 {expected['sha256']} ({expected['bytes']} "
            f"bytes), got {actual} ({size} bytes)" + ("; the bad copy was deleted" if delete else ""))
    return path


def local_dir() -> Path | None:
    """`$KERASLOSSES_SAVED_MODELS`, else a source checkout's `saved_models/`."""
    if os.environ.get(ENV_SAVED_MODELS):
        return Path(os.environ[ENV_SAVED_MODELS])
    if (_CHECKOUT / "setup.cfg").is_file() and (_CHECKOUT / "saved_models").is_dir():
        return _CHECKOUT / "saved_models"
    return None


def _cache_file(cache_dir, file_name) -> Path:
    root = Path(cache_dir) if cache_dir else Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return root / "models" / file_name


def fetch(name: str, *, cache_dir=None, base_url=None) -> Path:
    """The verified local path of pretrained model `name` (downloading it
    into the cache when neither the local folder nor the cache has it).

    Raises:
        ValueError: unknown name.
        PretrainedFileError: a file that does not match the manifest, or a
            download that fails (HTTP error, refused connection).
    """
    info = entry(name)
    file_name = info["file"]
    folder = local_dir()
    if folder is not None and (folder / file_name).is_file():
        log.info("%s: local file %s", name, folder / file_name)
        return verify(folder / file_name, info)  # never delete a user's own file
    cached = _cache_file(cache_dir, file_name)
    if cached.is_file():
        log.info("%s: cached file %s", name, cached)
        return verify(cached, info, delete=True)
    url = (base_url or os.environ.get(ENV_MODELS_URL) or DEFAULT_BASE_URL).rstrip("/") + "/" + file_name
    log.info("%s: downloading %s", name, url)
    import keras

    cached.parent.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp/.keras for a missing folder
    try:
        keras.utils.get_file(file_name, url, cache_dir=str(cached.parent.parent), cache_subdir="models")
    except Exception as err:  # get_file raises a bare Exception for HTTP and URL errors
        if cached.exists():
            cached.unlink()
        raise PretrainedFileError(f"could not download {name!r} from {url}: {err}") from err
    return verify(cached, info, delete=True)


def load_pretrained(name: str, *, cache_dir=None, base_url=None):
    """A pretrained Autonet by name, e.g. `load_pretrained("ac_co_v1_mse_mnist")`.

    Args:
        name: a name from `list_pretrained()` (`<model>_<dataset>`).
        cache_dir: the Keras cache folder (default `~/.keras`); files go to
            its `models/` subfolder.
        base_url: where to download from (default `$KERASLOSSES_MODELS_URL`,
            else `DEFAULT_BASE_URL`).

    Returns:
        The trained `keras.Model` (a `models.GameModel`), loaded with
        `safe_mode=True` after its SHA-256 matched the manifest.
    """
    from models.commands import load_model

    return load_model(fetch(name, cache_dir=cache_dir, base_url=base_url))


# --------------------------------------------------------------------------
# Measuring and publishing (maintainers)
# --------------------------------------------------------------------------
def measure(model, dataset: str, data_dir=None, separability: bool = False, max_samples: int = 2000) -> dict:
    """The manifest's metrics of `model` on the test split of `dataset`:
    accuracy, reconstruction MSE (where the model reconstructs) and,
    optionally, the separability scores (t-SNE + 5-NN, see
    `models.evaluation`). Rounded to 6 decimals."""
    from models import datasets
    from models.commands import score

    x, y = datasets.load_arrays(dataset, "test", data_dir)
    result = score(model, x, y, separability=separability, max_samples=max_samples)
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


def publish(run_dir, name: str, dataset: str, *, data_dir=None, saved_models="saved_models",
            max_samples: int = 2000, note: str | None = None) -> dict:
    """Add the model trained by `keraslosses train --output-dir RUN_DIR` to
    `saved_models/`: an optimizer-free `<name>.keras`, and its manifest entry
    (constructor arguments, size, SHA-256, test metrics, training settings,
    and an optional note for users, e.g. a known weakness)."""
    import keraslosses
    from models.commands import load_model

    run_dir, folder = Path(run_dir), Path(saved_models)
    trained = json.loads((run_dir / "train.json").read_text())
    model = inference_copy(load_model(run_dir / "model.keras"))
    path = folder / f"{name}.keras"
    model.save(path)
    metrics = measure(load_model(path), dataset, data_dir, separability=True, max_samples=max_samples)
    cfg = trained["config"]
    command = (f"keraslosses train --model {cfg['model']} --dataset {cfg['dataset']} --epochs {cfg['epochs']} "
               f"--batch-size {cfg['batch_size']} --learning-rate {cfg['learning_rate']} --precision "
               f"{cfg['precision']} --size {cfg['size']} --seed {cfg['seed']} --data-dir DATA_DIR")
    entry_ = {"model": cfg["model"], "class": type(model).__name__, "arguments": dict(model.config),
              "dataset": dataset, "file": path.name, "bytes": path.stat().st_size, "sha256": sha256(path),
              "parameters": int(model.count_params()), "metrics": metrics,
              "training": {"command": command, "epochs_run": trained["epochs_run"],
                           "train_seconds": trained["train_seconds"]},
              "keraslosses_version": keraslosses.__version__}
    if note:
        entry_["note"] = note
    manifest_file = folder / "manifest.json"
    payload = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {"format": 1, "models": {}}
    payload["models"][name] = entry_
    payload["models"] = dict(sorted(payload["models"].items()))
    manifest_file.write_text(json.dumps(payload, indent=2) + "\n")
    log.info("published %s: %s", name, json.dumps(metrics))
    return entry_


# --------------------------------------------------------------------------
# `keraslosses pretrained list | download NAME | publish ...`
# --------------------------------------------------------------------------
def _list(args):
    rows = manifest()
    print(f"{'name':<22} {'dataset':<14} {'accuracy':>8} {'recon MSE':>9} {'sep kNN':>7} {'MB':>5}")
    for name, e in sorted(rows.items()):
        m = e["metrics"]
        cells = [f"{m[k]:.4f}" if k in m else "-" for k in ("accuracy", "reconstruction_mse", "separability_knn")]
        print(f"{name:<22} {e['dataset']:<14} {cells[0]:>8} {cells[1]:>9} {cells[2]:>7} {e['bytes'] / 1e6:>5.2f}")
    return 0


def _download(args):
    print(fetch(args.name, cache_dir=args.cache_dir, base_url=args.base_url))
    return 0


def _publish(args):
    publish(args.run_dir, args.name, args.dataset, data_dir=args.data_dir, saved_models=args.saved_models,
            note=args.note)
    return 0


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="the pretrained models and their test metrics").set_defaults(run=_list)
    download = sub.add_parser("download", help="fetch (or find) a pretrained file and print its path")
    download.add_argument("name")
    download.add_argument("--cache-dir", default=None, help="Keras cache folder (default ~/.keras)")
    download.add_argument("--base-url", default=None, help=f"download location (default ${ENV_MODELS_URL} or "
                                                           f"{DEFAULT_BASE_URL})")
    download.set_defaults(run=_download)
    pub = sub.add_parser("publish", help="(maintainers) add a `keraslosses train` run to saved_models/")
    pub.add_argument("--run-dir", required=True, help="the --output-dir of `keraslosses train`")
    pub.add_argument("--name", required=True, help="the pretrained name, e.g. ac_co_v1_mse_mnist")
    pub.add_argument("--dataset", required=True)
    pub.add_argument("--data-dir", default=None)
    pub.add_argument("--saved-models", default="saved_models")
    pub.add_argument("--note", default=None, help="a line for users (a known weakness, ...)")
    pub.set_defaults(run=_publish)
