"""The pretrained zoo: the manifest, the shipped files, and the hash-checked
lookup (local folder -> Keras cache -> download), against a real HTTP server
on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from models import pretrained
from models.cli import reproduce
from models.cli.pretrained import (
    README_BEGIN,
    README_END,
    markdown_table,
    float32_figures,
    measure,
    publish,
    store_float16,
    write_readme_table,
)
from tests.conftest import ROOT

SAVED = ROOT / "saved_models"
MANIFEST = json.loads((SAVED / "manifest.json").read_text())["models"]
# The zoo of the paper-grade issue: per dataset Table 2's classifiers (the eight Auto-classifiers and the CNN)
# and the four Super-encoders.
REQUIRED = [f"{model}_{dataset}" for dataset in ("mnist", "fashion_mnist")
            for model in reproduce.TABLE2 + ("se_co", "se_star", "se_nc", "se_star_nc")]
SMALLEST = min(MANIFEST, key=lambda name: MANIFEST[name]["bytes"])
# The manifest's figures of a t-SNE and a probe on the codes, recomputed for one model (a t-SNE per model
# would double the 26 tests' time; the protocol is the same for all).
SEPARABILITY_METRICS = ("separability_knn", "linear_probe", "silhouette")
SEPARABILITY_CHECKED = "se_co_mnist"


# --------------------------------------------------------------------------
# What ships
# --------------------------------------------------------------------------
def test_the_manifest_lists_every_required_model_and_stays_small():
    assert len(REQUIRED) == 26 and set(REQUIRED) <= set(MANIFEST)
    assert pretrained.list_pretrained() == sorted(MANIFEST)
    # The 26 paper-grade models of the full zoo at float16 come to about 68 MB
    # (2.2-3.7 MB an Autonet, 0.74 MB a CNN): what the wheel can carry.
    assert sum(e["bytes"] for e in MANIFEST.values()) < 70e6
    for name, e in MANIFEST.items():
        assert name == f"{e['model']}_{e['dataset']}" and e["file"] == f"{name}.keras"
        assert _stored_dtypes(SAVED / e["file"]) == {"float16"}, name
        assert {"accuracy", "separability_knn"} <= set(e["metrics"]) and e["training"]["command"].startswith(
            f"keraslosses train --model {e['model']} --dataset {e['dataset']}")
        # every epoch of the command's run is counted (a resumed run reports all its segments)
        assert f" --epochs {e['training']['epochs_run']} " in e["training"]["command"], name


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_shipped_file_matches_its_size_and_sha256(name):
    e = MANIFEST[name]
    path = SAVED / e["file"]
    assert path.stat().st_size == e["bytes"]
    assert pretrained.sha256(path) == e["sha256"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_shipped_model_reproduces_its_manifest_metrics(name, monkeypatch, data_dir):
    """Accuracy and reconstruction error recomputed on the full test split
    equal `pretrained.expected_metrics` (within `_tolerance`); the separability figures (a t-SNE of
    2,000 test codes, and a probe) are recomputed for one model,
    `SEPARABILITY_CHECKED`, in the same pass. The model computes under
    `load_pretrained`'s "auto" precision: float32 on a CPU without bfloat16
    hardware, where a bfloat16 model's `metrics_float32` are the figures."""
    monkeypatch.delenv(pretrained.ENV_SAVED_MODELS, raising=False)
    model = pretrained.load_pretrained(name)
    e = MANIFEST[name]
    assert type(model).__name__ == e["class"] and model.config["num_classes"] == 10
    separability = name == SEPARABILITY_CHECKED
    measured = measure(model, e["dataset"], data_dir, separability=separability)
    assert set(measured) == set(e["metrics"]) - (set() if separability else set(SEPARABILITY_METRICS))
    policy = model.dtype_policy.name
    expected = pretrained.expected_metrics(name, policy)
    for key, value in measured.items():
        assert value == pytest.approx(expected[key], **_tolerance(e, key, policy)), key


#: A bfloat16 model's float32 figures, recomputed on another CPU: float32
#: rounds the same way everywhere but for the order of the sums (oneDNN picks
#: its kernels by the CPU), which can turn a near-tie; 3 test images in 10,000.
FLOAT32_TOLERANCE = {"accuracy": {"abs": 3e-4 + 1e-9}, "reconstruction_mse": {"rel": 1e-3}}


def _tolerance(entry, key, policy=None):
    """How close a recomputed metric must come to the manifest's.

    A float32 model computes the same on any CPU: 1e-4 (one test image in
    10,000). A `mixed_bfloat16` model (the paper-grade zoo, measured on a CPU
    with bfloat16 instructions) rounds differently on a CPU without them
    (AVX2): in emulated bfloat16, 1-2 test images changed class, the
    reconstruction error moved by up to 0.3 % and the silhouette by 0.0015;
    in float32, what `load_pretrained` computes it in there, up to 6 images
    changed class (`ac_nc_v2_mae_fashion_mnist`: 0.9240 against 0.9246).
    So a bfloat16 model's accuracy may move by 10 images (1e-3); a retrained
    model, or a wrong file or preprocessing, moves it by far more. Where such
    a model computes in float32 and its entry has `metrics_float32`, those
    figures are held to the tighter `FLOAT32_TOLERANCE` instead (what
    `pretrained.expected_metrics` gives for `policy` "float32").
    """
    if policy == "float32" and key in entry.get("metrics_float32", {}):
        return FLOAT32_TOLERANCE[key]
    bfloat16 = entry.get("training", {}).get("precision") == "mixed_bfloat16"
    if key == "reconstruction_mse":
        return {"rel": 1e-2} if bfloat16 else {"abs": 1e-4}
    if key in SEPARABILITY_METRICS:
        return {"abs": 5e-3 if bfloat16 else 1e-3}
    return {"abs": 1e-3 if bfloat16 else 1e-4}


def test_the_tolerance_is_tight_for_float32_models_and_allows_bfloat16_rounding():
    float32, bfloat16 = {"training": {"precision": "float32"}}, {"training": {"precision": "mixed_bfloat16"}}
    assert 0.9338 != pytest.approx(0.9340, **_tolerance(float32, "accuracy"))
    assert 0.9332 == pytest.approx(0.9340, **_tolerance(bfloat16, "accuracy"))
    assert 0.9320 != pytest.approx(0.9340, **_tolerance(bfloat16, "accuracy"))  # 20 images: another model
    assert 0.06881 == pytest.approx(0.068569, **_tolerance(bfloat16, "reconstruction_mse"))
    assert 0.0700 != pytest.approx(0.068569, **_tolerance(bfloat16, "reconstruction_mse"))
    # In float32 a bfloat16 model is held to its float32 figures: 3 images, not 10.
    both = {**bfloat16, "metrics_float32": {"accuracy": 0.9319, "reconstruction_mse": 0.0699}}
    assert 0.9316 == pytest.approx(0.9319, **_tolerance(both, "accuracy", "float32"))
    assert 0.9315 != pytest.approx(0.9319, **_tolerance(both, "accuracy", "float32"))
    assert 0.06995 == pytest.approx(0.0699, **_tolerance(both, "reconstruction_mse", "float32"))
    assert 0.0701 != pytest.approx(0.0699, **_tolerance(both, "reconstruction_mse", "float32"))
    # Under bfloat16, or without float32 figures, the trained figures' looser tolerance.
    assert _tolerance(both, "accuracy", "mixed_bfloat16") == _tolerance(bfloat16, "accuracy", "float32") == {"abs": 1e-3}


def test_the_expected_figures_are_the_float32_ones_only_where_a_bfloat16_model_computes_in_float32():
    name = "ac_co_v1_mae_fashion_mnist"
    e = MANIFEST[name]
    assert e["training"]["precision"] == "mixed_bfloat16"
    assert pretrained.expected_metrics(name, "mixed_bfloat16") == e["metrics"]
    float32 = pretrained.expected_metrics(name, "float32")
    assert float32 == {**e["metrics"], "accuracy": e["metrics_float32"]["accuracy"],
                       "reconstruction_mse": e["metrics_float32"]["reconstruction_mse"]}
    assert float32["accuracy"] != e["metrics"]["accuracy"]  # two images apart on this model
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'"):
        pretrained.expected_metrics("nope", "float32")


def test_every_bfloat16_model_has_its_float32_figures_near_its_trained_ones():
    for name, e in MANIFEST.items():
        if e["training"]["precision"] != "mixed_bfloat16":
            continue
        float32 = e.get("metrics_float32")
        assert float32 is not None, f"{name}: no metrics_float32 (publish measures them)"
        assert set(float32) == set(e["metrics"]) - set(SEPARABILITY_METRICS), name
        for key, value in float32.items():
            assert value == pytest.approx(e["metrics"][key], **_tolerance(e, key)), (name, key)


# --------------------------------------------------------------------------
# Lookup and download
# --------------------------------------------------------------------------
class _Server:
    """`http.server` on 127.0.0.1 serving a folder, counting GET requests."""

    def __init__(self, folder):
        self.requests = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler,
                                                                                         directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A copy of saved_models/ behind a local server; the local-folder lookup
    points at an empty folder, so files come from the cache or the server."""
    served = tmp_path / "served"
    shutil.copytree(SAVED, served)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(pretrained.ENV_SAVED_MODELS, str(empty))
    monkeypatch.delenv(pretrained.ENV_MODELS_URL, raising=False)
    srv = _Server(served)
    srv.folder = served
    yield srv
    srv.close()


def _flip_a_byte(path):
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(path).write_bytes(bytes(data))


def test_first_load_downloads_and_caches_second_uses_the_cache(server, tmp_path):
    cache = tmp_path / "cache"
    model = pretrained.load_pretrained(SMALLEST, cache_dir=cache, base_url=server.url)
    assert server.requests == [f"/{MANIFEST[SMALLEST]['file']}"]
    cached = cache / "models" / MANIFEST[SMALLEST]["file"]
    assert pretrained.sha256(cached) == MANIFEST[SMALLEST]["sha256"]
    again = pretrained.load_pretrained(SMALLEST, cache_dir=cache, base_url=server.url)
    assert len(server.requests) == 1  # no second request
    x = np.random.default_rng(0).random((4, *model.config["input_shape"]), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


def test_the_environment_variable_gives_the_download_location(server, tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.ENV_MODELS_URL, server.url)
    path = pretrained.fetch(SMALLEST, cache_dir=tmp_path / "cache")
    assert server.requests == [f"/{MANIFEST[SMALLEST]['file']}"] and path.is_file()


def test_a_tampered_download_is_refused_and_not_kept(server, tmp_path):
    e = MANIFEST[SMALLEST]
    _flip_a_byte(server.folder / e["file"])
    cache = tmp_path / "cache"
    with pytest.raises(pretrained.PretrainedFileError) as err:
        pretrained.load_pretrained(SMALLEST, cache_dir=cache, base_url=server.url)
    message = str(err.value)
    assert e["file"] in message and e["sha256"] in message
    assert pretrained.sha256(server.folder / e["file"]) in message  # the actual hash
    assert not (cache / "models" / e["file"]).exists()


def test_a_corrupt_cached_copy_is_refused_and_deleted(server, tmp_path):
    cache = tmp_path / "cache"
    path = pretrained.fetch(SMALLEST, cache_dir=cache, base_url=server.url)
    _flip_a_byte(path)
    with pytest.raises(pretrained.PretrainedFileError, match="does not match the manifest.*deleted"):
        pretrained.load_pretrained(SMALLEST, cache_dir=cache, base_url=server.url)
    assert not path.exists() and len(server.requests) == 1
    pretrained.fetch(SMALLEST, cache_dir=cache, base_url=server.url)  # the next call downloads a good copy
    assert len(server.requests) == 2


def test_a_bad_local_file_is_refused_but_left_in_place(tmp_path, monkeypatch):
    local = tmp_path / "local"
    local.mkdir()
    e = MANIFEST[SMALLEST]
    shutil.copy(SAVED / e["file"], local / e["file"])
    _flip_a_byte(local / e["file"])
    monkeypatch.setenv(pretrained.ENV_SAVED_MODELS, str(local))
    with pytest.raises(pretrained.PretrainedFileError, match=e["sha256"]):
        pretrained.load_pretrained(SMALLEST, cache_dir=tmp_path / "cache")
    assert (local / e["file"]).exists()


def test_a_missing_server_file_is_a_clear_error(server, tmp_path):
    (server.folder / MANIFEST[SMALLEST]["file"]).unlink()
    with pytest.raises(pretrained.PretrainedFileError, match=r"could not download .*404"):
        pretrained.fetch(SMALLEST, cache_dir=tmp_path / "cache", base_url=server.url)
    assert not (tmp_path / "cache" / "models" / MANIFEST[SMALLEST]["file"]).exists()


def test_a_refused_connection_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.ENV_SAVED_MODELS, str(tmp_path))
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(pretrained.PretrainedFileError, match=f"could not download '{SMALLEST}' from {url}"):
        pretrained.fetch(SMALLEST, cache_dir=tmp_path / "cache", base_url=url)


def test_unknown_names_list_close_matches():
    with pytest.raises(ValueError, match=r"unknown pretrained model 'ac_co_v1_mse_mnst'\. Did you mean "
                                         r"ac_co_v1_mse_mnist"):
        pretrained.load_pretrained("ac_co_v1_mse_mnst")


def test_the_zoo_readme_table_is_the_manifest(tmp_path):
    readme = tmp_path / "README.md"
    shutil.copy(SAVED / "README.md", readme)
    assert write_readme_table(readme, MANIFEST)
    assert readme.read_text() == (SAVED / "README.md").read_text(), "run write_readme_table on saved_models/README.md"
    table = markdown_table(MANIFEST).splitlines()
    assert len([line for line in table if line.startswith("| `")]) == len(MANIFEST)
    e = MANIFEST["cnn_mnist"]
    assert any(line.startswith(f"| `cnn_mnist` | IndependentCNN | mnist | paper | {e['metrics']['accuracy']:.4f} | - |")
               for line in table)
    readme.write_text("no markers")
    assert not write_readme_table(readme, MANIFEST) and readme.read_text() == "no markers"


def _stored_dtypes(path) -> set:
    """The dtypes of the weight arrays inside the `.keras` file at `path`."""
    import io
    import zipfile

    import h5py

    dtypes = set()
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as f:
        f.visititems(lambda name, obj: dtypes.add(str(obj.dtype)) if isinstance(obj, h5py.Dataset) else None)
    return dtypes


def test_store_float16_halves_the_file_and_loads_the_rounded_weights(tmp_path):
    import keras

    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(256), keras.layers.BatchNormalization(),
                              keras.layers.Dense(256), keras.layers.Dense(3)])
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.stat().st_size
    store_float16(path)
    assert path.stat().st_size < 0.75 * before
    assert _stored_dtypes(path) == {"float16"}
    restored = keras.saving.load_model(path)
    assert [w.dtype for w in restored.weights] == ["float32"] * len(model.weights)
    for got, want in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want.astype(np.float16).astype(np.float32))
    x = rng.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0.02, atol=0.02)


@pytest.mark.slow
def test_publish_adds_an_optimizer_free_file_and_its_entry(tmp_path):
    from models.training import TrainConfig, train

    run_dir = tmp_path / "run"
    # Under bfloat16, as the zoo's paper-grade models.
    train(TrainConfig(model="cnn", dataset="digits", epochs=1, validation=0.2, precision="mixed_bfloat16",
                      output_dir=str(run_dir), verbose=0))
    folder = tmp_path / "zoo"
    folder.mkdir()
    (folder / "README.md").write_text(f"# zoo\n{README_BEGIN}\nold\n{README_END}\ntail\n")
    e = publish(run_dir, "cnn_digits", "digits", saved_models=folder, max_samples=200, note="a test")
    path = folder / "cnn_digits.keras"
    assert e["bytes"] == path.stat().st_size and e["sha256"] == pretrained.sha256(path)
    assert path.stat().st_size < (run_dir / "model.keras").stat().st_size / 2  # no Adam moments
    assert _stored_dtypes(path) == {"float16"}
    manifest = json.loads((folder / "manifest.json").read_text())["models"]
    assert (folder / "README.md").read_text() == f"# zoo\n{README_BEGIN}\n{markdown_table(manifest)}\n{README_END}\ntail\n"
    assert "- `cnn_digits`: a test" in markdown_table(manifest)
    assert json.loads((folder / "manifest.json").read_text())["models"] == {"cnn_digits": json.loads(json.dumps(e))}
    assert e["training"]["command"].startswith("keraslosses train --model cnn --dataset digits --epochs 1 ")
    assert e["training"]["command"].endswith(" --validation 0.2 --data-dir DATA_DIR")
    trained = json.loads((run_dir / "train.json").read_text())["final"]
    assert e["validation"]["accuracy"] == round(trained["val_accuracy"], 6) and 0.0 < e["validation"]["accuracy"] <= 1
    assert e["note"] == "a test" and e["arguments"]["num_classes"] == 10
    assert e["training"]["precision"] == "mixed_bfloat16"
    assert measure(pretrained.load_model(path, precision="stored"), "digits")["accuracy"] == e["metrics"]["accuracy"]
    assert measure(pretrained.load_model(path, precision="float32"), "digits") == e["metrics_float32"]
    assert set(e["metrics_float32"]) == {"accuracy"}
    # The card's picture of the new file; a republish replaces the old file's folder.
    cards = folder / "cards"
    assert [p.relative_to(cards).as_posix() for p in cards.rglob("*.png")] == [f"{e['sha256'][:16]}/cnn_digits_tsne.png"]
    (cards / e["sha256"][:16]).rename(cards / "0123456789abcdef")  # as if an older file's pictures were kept
    manifest_file = folder / "manifest.json"
    payload = json.loads(manifest_file.read_text())
    payload["models"]["cnn_digits"]["sha256"] = "0123456789abcdef" + "0" * 48
    manifest_file.write_text(json.dumps(payload))
    again = publish(run_dir, "cnn_digits", "digits", saved_models=folder, max_samples=200)
    assert sorted(p.name for p in cards.iterdir()) == [again["sha256"][:16]]


def _rewrite_config(source, target, edit):
    import zipfile

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = edit(data.decode()).encode()
            zout.writestr(item, data)


def test_a_file_naming_an_unknown_class_is_refused(tmp_path):
    source = SAVED / MANIFEST[SMALLEST]["file"]
    tampered = tmp_path / "tampered.keras"
    cls = MANIFEST[SMALLEST]["class"]
    _rewrite_config(source, tampered, lambda text: text.replace(f'"{cls}"', '"EvilModel"').replace(
        f"models>{cls}", "models>EvilModel"))
    with pytest.raises(pretrained.PretrainedFileError, match="tampered.keras: refused to load.*EvilModel"):
        pretrained.load_model(tampered)


def test_a_file_with_a_lambda_layer_is_refused(tmp_path):
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda v: v * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(pretrained.PretrainedFileError, match="refused to load.*Lambda"):
        pretrained.load_model(path)


# --------------------------------------------------------------------------
# The precision a zoo model predicts under
# --------------------------------------------------------------------------
@pytest.mark.parametrize("precision, stored, flags, expected", [
    ("auto", "mixed_bfloat16", {"avx2", "avx512_bf16"}, "mixed_bfloat16"),
    ("auto", "mixed_bfloat16", {"amx_bf16"}, "mixed_bfloat16"),
    ("auto", "mixed_bfloat16", {"avx2", "fma"}, "float32"),  # emulated bfloat16 is the slow one
    ("auto", "float32", {"avx2"}, "float32"),
    ("auto", "mixed_float16", {"avx2"}, "mixed_float16"),
    ("stored", "mixed_bfloat16", {"avx2"}, "mixed_bfloat16"),
    ("float32", "mixed_bfloat16", {"avx512_bf16"}, "float32"),
    ("mixed_bfloat16", "float32", set(), "mixed_bfloat16"),
])
def test_the_inference_precision_follows_the_cpu_only_for_bfloat16_models(precision, stored, flags, expected):
    from models import training

    assert training.inference_precision(precision, stored, flags) == expected


def test_a_policy_is_renamed_only_where_it_is_the_models_own():
    from models.core.precision import _retyped

    def policy(name):
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}

    config = {"dtype": policy("mixed_bfloat16"), "layers": [{"config": {"dtype": policy("mixed_bfloat16")}},
                                                            {"config": {"dtype": policy("float32")}}]}
    got = _retyped(config, "mixed_bfloat16", "float32")
    assert got == {"dtype": policy("float32"), "layers": [{"config": {"dtype": policy("float32")}},
                                                          {"config": {"dtype": policy("float32")}}]}
    assert config["dtype"] == policy("mixed_bfloat16")  # the input is left as it was


def test_a_bfloat16_zoo_model_predicts_in_float32_on_request_with_the_same_weights():
    name = SMALLEST
    assert MANIFEST[name]["training"]["precision"] == "mixed_bfloat16"
    stored = pretrained.load_pretrained(name, precision="stored")
    float32 = pretrained.load_pretrained(name, precision="float32")
    assert stored.dtype_policy.name == "mixed_bfloat16" and float32.dtype_policy.name == "float32"
    layers = [layer for player in float32.players.values() for layer in player.layers]
    assert {layer.dtype_policy.name for layer in layers} == {"float32"}
    assert type(float32) is type(stored) and float32.config == stored.config
    for a, b in zip(float32.get_weights(), stored.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).uniform(0.0, 1.0, (32, *stored.config["input_shape"])).astype("float32")
    # bfloat16 keeps 8 significant bits: the two agree to its rounding, not bit for bit.
    np.testing.assert_allclose(float32.predict(x, verbose=0), stored.predict(x, verbose=0), atol=0.05)
    # the same step on a model already loaded, without reading the file again
    assert pretrained.under_precision(stored, "stored") is stored
    again = pretrained.under_precision(stored, "float32")
    assert again is not stored and again.dtype_policy.name == "float32"
    np.testing.assert_array_equal(again.predict(x, verbose=0), float32.predict(x, verbose=0))


def test_the_float32_figures_reuse_a_float32_copy_and_make_one_otherwise(monkeypatch):
    import models

    stored = models.create("cnn", input_shape=(8, 8, 1), num_classes=10, dtype_policy="mixed_bfloat16")
    made = float32_figures(stored, "digits")  # no copy at hand: it makes its own
    shown_bf16 = pretrained.under_precision(stored, "stored")
    assert float32_figures(stored, "digits", copy=shown_bf16) == made  # a bfloat16 copy is no float32 copy
    copy = pretrained.under_precision(stored, "float32")
    assert made == {"metrics_float32": measure(copy, "digits")} and set(made["metrics_float32"]) == {"accuracy"}

    def no_second_copy(*args):
        raise AssertionError("a second float32 copy was made")

    monkeypatch.setattr(pretrained, "under_precision", no_second_copy)
    assert float32_figures(stored, "digits", copy=copy) == made
    assert float32_figures(copy, "digits") == {}  # a float32 model's figures are its own


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(ValueError, match=r"`precision` must be one of \['auto', 'stored', 'float32'.*"
                                         r"received precision='bf16'"):
        pretrained.load_pretrained(SMALLEST, precision="bf16")
    with pytest.raises(ValueError, match=r"received precision='fp16'"):
        pretrained.under_precision(None, "fp16")  # checked before the model is read
