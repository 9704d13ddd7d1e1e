"""Pretrained models: load a trained Autonet by name, hash-checked.

    >>> import models
    >>> "ac_co_v1_mse_mnist" in models.list_pretrained()
    True

`load_pretrained(name)` looks for the file, in this order:

1. a local folder of `.keras` files: `$KERASLOSSES_SAVED_MODELS` when set,
   else the files installed with the package (`models/saved_models/`, every
   manifest entry ships in the wheel), else the `saved_models/` folder of a
   source checkout;
2. the Keras cache (`cache_dir`, default `~/.keras`, subfolder `models/`);
3. a download from `base_url` (argument, else `$KERASLOSSES_MODELS_URL`,
   else `DEFAULT_BASE_URL`) into that cache, through `keras.utils.get_file`:
   for mirrors and for models too large to ship.

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

_INSTALLED = Path(__file__).resolve().parents[1] / "saved_models"  # package data of an install
_CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when running from a source checkout


class PretrainedFileError(OSError):
    """A pretrained file that cannot be had or does not match the manifest."""


def manifest_path() -> Path:
    """The manifest: installed package data, else the source checkout's."""
    for path in (_INSTALLED / "manifest.json", _CHECKOUT / "saved_models" / "manifest.json"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"no pretrained-model manifest: looked for {_INSTALLED} and "
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


def expected_metrics(name: str, policy: str) -> dict:
    """The test figures the pretrained model `name` reproduces when it
    computes under the dtype `policy` (e.g. `model.dtype_policy.name` of a
    `load_pretrained` model): the manifest's `metrics`, measured under the
    policy it was trained in, with the accuracy and reconstruction error
    replaced by its `metrics_float32` where a `mixed_bfloat16` model computes
    in float32 (as "auto" does on a CPU without bfloat16 hardware; a few test
    images change class).

    Args:
        name: a name from `list_pretrained()`.
        policy: the dtype policy name the model computes under.

    Returns:
        {metric: figure}: accuracy, reconstruction MSE where the model
        reconstructs, and the separability scores (measured under the
        trained policy only).

        >>> name = "ac_co_v1_mae_fashion_mnist"  # trained under mixed_bfloat16
        >>> expected_metrics(name, "float32")["accuracy"], expected_metrics(name, "mixed_bfloat16")["accuracy"]
        (0.9319, 0.9321)
    """
    info = entry(name)
    metrics = dict(info["metrics"])
    if policy == "float32":
        metrics.update(info.get("metrics_float32", {}))
    return metrics


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


def checkout_dir() -> Path | None:
    """The repository root when `models` is imported from a source checkout
    (an editable install or `PYTHONPATH`), else None."""
    return _CHECKOUT if (_CHECKOUT / "setup.cfg").is_file() and (_CHECKOUT / "saved_models").is_dir() else None


def local_dir() -> Path | None:
    """`$KERASLOSSES_SAVED_MODELS`, else the installed files, else a source
    checkout's `saved_models/`."""
    if os.environ.get(ENV_SAVED_MODELS):
        return Path(os.environ[ENV_SAVED_MODELS])
    if _INSTALLED.is_dir():
        return _INSTALLED
    root = checkout_dir()
    return root / "saved_models" if root else None


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


def load_pretrained(name: str, *, precision="auto", cache_dir=None, base_url=None):
    """A pretrained Autonet by name, e.g. `load_pretrained("ac_co_v1_mse_mnist")`.

    Args:
        name: a name from `list_pretrained()` (`<model>_<dataset>`).
        precision: the dtype policy it predicts under (see `load_model`):
            "auto" (default), "stored", or a policy name.
        cache_dir: the Keras cache folder (default `~/.keras`); files go to
            its `models/` subfolder.
        base_url: where to download from (default `$KERASLOSSES_MODELS_URL`,
            else `DEFAULT_BASE_URL`).

    Returns:
        The trained `keras.Model` (a `models.GameModel`), loaded with
        `safe_mode=True` after its SHA-256 matched the manifest.
    """
    return load_model(fetch(name, cache_dir=cache_dir, base_url=base_url), precision=precision)


def load_model(path, precision="auto"):
    """A `.keras` file of the zoo, deserialized with `safe_mode=True`: only
    registered classes, no code from `Lambda` layers. A tampered config (an
    unknown class, a lambda) is refused with a `PretrainedFileError`.

    `precision` is the dtype policy the model computes under: "stored" (the
    policy it was trained under), a policy name, or "auto" (the default):
    the stored policy, except that a `mixed_bfloat16` model computes in
    float32 on a CPU without bfloat16 hardware, where float32 is faster
    (``models.training.inference_precision``). The weights are the same."""
    import keras

    from models.families import registry

    _check_precision(precision)
    registry.families()  # registers every model class
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except (TypeError, ValueError) as err:
        raise PretrainedFileError(f"{path}: refused to load: {err}") from err
    return under_precision(model, precision)


def _check_precision(precision):
    from models.core.checks import check_choice
    from models.core.precision import POLICIES

    check_choice(precision, "precision", ("auto", "stored", *POLICIES))


def under_precision(model, precision="auto"):
    """`model` computing under `precision` ("auto", "stored" or a policy
    name, as in `load_model`): itself where that is its policy, else a copy
    with the same weights (`with_policy`). What `load_model` returns, without
    reading the file again."""
    from models import training
    from models.core.precision import with_policy

    _check_precision(precision)
    return with_policy(model, training.inference_precision(precision, model.dtype_policy.name))
