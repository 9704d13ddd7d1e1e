"""The `keraslosses` console entry point, run as a user runs it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, require_canonical_data


def keraslosses_command():
    """The installed console script (next to this interpreter, else on PATH)."""
    candidate = Path(sys.executable).parent / "keraslosses"
    path = str(candidate) if candidate.exists() else shutil.which("keraslosses")
    assert path, "the `keraslosses` console script is not installed: pip install -e '.[test]'"
    return [path]


def run(*args, timeout=300, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([*keraslosses_command(), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def test_demo_trains_and_writes_results(tmp_path):
    proc = run("demo", "--epochs", "3", "--losses", "sparse_crossentropy", "crammer_singer_hinge",
               "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "demo.json").read_text())
    assert set(summary["results"]) == {"sparse_crossentropy", "crammer_singer_hinge"}
    for name, result in summary["results"].items():
        assert result["test_accuracy"] > 0.5, (name, result)  # chance is 0.1
        assert result["final_loss"] < result["first_loss"], (name, result)
    assert (tmp_path / "demo.md").read_text().startswith("| loss |")


def test_bad_option_values_are_one_line_errors_with_exit_code_2(tmp_path):
    proc = run("demo", "--losses", "nope", "--output-dir", str(tmp_path), timeout=60)
    assert proc.returncode == 2
    assert "invalid choice: 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("train", "--model", "cnn", "--epochs", "0", "--output-dir", str(tmp_path), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "keraslosses train: error: `epochs` must be an integer >= 1; received epochs=0.")


def test_scripts_wrapper_runs_the_same_command(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "scripts/demo.py", "--help"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)
    assert proc.returncode == 0 and "--losses" in proc.stdout


@pytest.mark.slow
def test_reproduce_quick_on_digits_writes_the_tables(tmp_path):
    proc = run("reproduce", "--dataset", "digits", "--quick", "--output-dir", str(tmp_path), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads((tmp_path / "reproduce_digits.json").read_text())
    assert [r["model"] for r in payload["rows"]] == ["se_co", "ac_co_v1_mse", "ac_nc_v2_mse", "cnn", "ae"]
    assert not payload["config"]["output_dir"].startswith("/")  # no absolute path of this machine
    for row in payload["rows"]:
        assert row["separability"] > 0.2 and row["linear_probe"] > 0.2  # chance is 0.1
        assert (tmp_path / row["model"] / f"tsne_{row['model']}.png").read_bytes()[:4] == b"\x89PNG"
    assert payload["rows"][3]["accuracy"] > 0.3  # the CNN after two epochs (chance 0.1)
    # Table 1 (se_co, ae) and Tables 2-3 (ac_co_v1_mse, ac_nc_v2_mse, cnn): headers and rows
    assert (tmp_path / "reproduce_digits.md").read_text().count("\n| ") == 7
    assert all((tmp_path / r["model"] / "result.json").is_file() for r in payload["rows"])


@pytest.mark.slow
def test_train_evaluate_tsne_round_trip(tmp_path):
    proc = run("train", "--model", "cnn", "--dataset", "digits", "--epochs", "3", "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "train.json").read_text())
    assert summary["epochs_run"] == 3 and (tmp_path / "model.keras").is_file() and (tmp_path / "logs").is_dir()
    proc = run("evaluate", "--model", str(tmp_path / "model.keras"), "--dataset", "digits", "--output-dir",
               str(tmp_path / "eval"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "evaluate.json").read_text())["classification"]
    assert metrics["accuracy"] > 0.5 and len(metrics["confusion_matrix"]) == 10
    proc = run("tsne", "--model", str(tmp_path / "model.keras"), "--dataset", "digits", "--max-samples", "200",
               "--output-dir", str(tmp_path / "tsne"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((tmp_path / "tsne" / "tsne.json").read_text())["separability"]
    assert scores["samples"] == 200 and scores["knn_accuracy"] > 0.3
    assert (tmp_path / "tsne" / "tsne_model.png").is_file()


@pytest.mark.slow
def test_evaluate_on_the_validation_split_scores_the_images_training_held_out(tmp_path):
    """`evaluate --split validation` must pick the very images `train
    --validation` held out: its accuracy equals the run's own last
    `val_accuracy` (the game's tracker over the same images, weighted by
    batch size), and `--split test` still reads the 450 test images."""
    proc = run("train", "--model", "cnn", "--dataset", "digits", "--epochs", "2", "--validation", "0.2",
               "--seed", "3", "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads((tmp_path / "train.json").read_text())["final"]
    accuracy = {}
    for split in ("validation", "test"):
        proc = run("evaluate", "--model", str(tmp_path / "model.keras"), "--dataset", "digits", "--split", split,
                   "--validation", "0.2", "--seed", "3", "--output-dir", str(tmp_path / split))
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads((tmp_path / split / "evaluate.json").read_text())
        assert result["config"]["split"] == split
        accuracy[split] = result["classification"]["accuracy"]
        support = sum(map(sum, result["classification"]["confusion_matrix"]))
        assert support == {"validation": 270, "test": 450}[split]  # 20 % of 1,347 training images; the test split
    assert accuracy["validation"] == pytest.approx(final["val_accuracy"], abs=1e-6)


def test_bad_names_and_paths_are_one_line_errors(tmp_path):
    for args, code, expected in [
        (("train", "--model", "nope"), 2, "argument --model: invalid choice: 'nope'"),
        (("train", "--model", "cnn", "--dataset", "imagenet21k"), 2, "argument --dataset: invalid choice"),
        (("train", "--model", "cnn", "--precision", "fp8"), 2, "argument --precision: invalid choice"),
        (("train", "--model", "cnn", "--strategy", "tpu"), 2, "argument --strategy: invalid choice"),
        (("train", "--model", "cnn", "--size", "huge"), 2, "argument --size: invalid choice"),
        (("evaluate", "--model", str(tmp_path / "missing.keras")), 1, "no such file (for a zoo model, use --pretrained"),
        (("evaluate", "--pretrained", "cnn_mnst"), 2, "argument --pretrained: invalid choice: 'cnn_mnst'"),
        (("evaluate", "--model", "x.keras", "--pretrained", "cnn_mnist"), 2, "not allowed with argument"),
        (("reproduce", "--models", "se_co,se_cooperative"), 2, "`models` must be one of"),
    ]:
        proc = run(*args, "--output-dir", str(tmp_path), timeout=120)
        assert proc.returncode == code, (args, proc.stderr[-2000:])
        assert expected in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr[-2000:])


def test_help_version_and_list_are_quick_and_quiet():
    """No TensorFlow import, so no log lines (the timing goal, under a
    second, is measured in the notes, not asserted here)."""
    code = ("import sys; from models.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    for args in (["--help"], ["--version"], ["pretrained", "list"], ["train", "--help"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0 and proc.stderr == "", (args, proc.stderr[-2000:])
    assert run("--version", timeout=60).stdout.startswith("keraslosses ")


def test_bad_values_are_answered_before_tensorflow_is_imported(tmp_path):
    """A command's options become its validated config before TensorFlow's
    import (about 5 s), so a mistyped value fails at once: the process that
    reported every error below never imported TensorFlow."""
    missing = str(tmp_path / "missing.keras")
    cases = [
        (["train", "--model", "cnn", "--epochs", "0"], 2, "`epochs` must be an integer >= 1; received epochs=0."),
        (["evaluate", "--model", missing], 1, f"--model {missing!r}: no such file"),
        (["tsne", "--pretrained", "cnn_mnist", "--max-samples", "99"], 2,
         "`max_samples` must be an integer >= 100; received max_samples=99."),
        (["evaluate", "--pretrained", "cnn_mnist", "--split", "validation", "--validation", "0"], 2,
         "`validation` must be a number in (0.0, 0.5]; received validation=0.0."),
        (["reproduce", "--max-samples", "99"], 2, "`max_samples` must be an integer >= 100"),
        (["reproduce", "--models", "se_co,se_cooperative"], 2, "`models` must be one of"),
        (["robustness", "no_such_model"], 1, "MODEL 'no_such_model' is neither a pretrained name"),
        (["demo", "--epochs", "0"], 2, "epochs"),
    ]
    code = ("import contextlib, io, json, sys; from models.cli import main\n"
            "found = []\n"
            "for args in json.loads(sys.argv[1]):\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err):\n"
            "        try:\n            main(args)\n        except SystemExit as stop:\n"
            "            found.append([stop.code, err.getvalue().strip().splitlines()[-1]])\n"
            "print(json.dumps([found, 'tensorflow' in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps([args for args, _, _ in cases])],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found, imported = json.loads(proc.stdout)
    assert len(found) == len(cases) and not imported
    for (args, exit_code, message), (code_found, line) in zip(cases, found):
        assert code_found == exit_code and line.startswith(f"keraslosses {args[0]}: error: ") and message in line, (
            args, code_found, line)


def test_a_training_command_prints_no_framework_log_lines(tmp_path):
    proc = run("train", "--model", "cnn", "--epochs", "1", "--output-dir", str(tmp_path), timeout=300,
               env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    noise = [line for line in proc.stderr.splitlines() if " INFO keraslosses" not in line]
    assert noise == [], noise
    assert "oneDNN" not in proc.stdout


def test_pretrained_list_is_an_aligned_table():
    from models import pretrained

    lines = run("pretrained", "list", timeout=60).stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[1:]] == sorted(pretrained.manifest())
    header = lines[0]
    for column in ("accuracy", "MB"):  # right-aligned: every row ends its cell where the header does
        end = header.index(column) + len(column)
        assert all(line[end - 1] != " " and (len(line) == end or line[end] == " ") for line in lines[1:]), column


@pytest.mark.slow
def test_a_killed_training_run_resumes_where_it_was(tmp_path):
    import time

    # Small batches make an epoch last about a second, so the kill lands
    # between two backups (Keras writes the weights, then the metadata).
    args = ["train", "--model", "ae", "--dataset", "digits", "--epochs", "12", "--batch-size", "8",
            "--output-dir", str(tmp_path)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([*keraslosses_command(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, cwd=ROOT)
    deadline = time.time() + 300
    metadata = tmp_path / "backup" / "training_metadata.json"
    while not metadata.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no clean-up, like a lost machine
    proc.wait()
    assert metadata.exists(), "no backup was written before the kill"
    resumed = run(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # It continued from the backup instead of restarting, and reports the whole run: every epoch's figures
    # (those before the kill from the progress record) and the seconds of both segments.
    summary = json.loads((tmp_path / "train.json").read_text())
    assert 0 < summary["resumed_from"] < 12
    history = json.loads((tmp_path / "history.json").read_text())
    assert summary["epochs_run"] == 12 and all(len(values) == 12 for values in history.values())
    assert all(math.isfinite(v) and v > 0 for v in history["loss"]) and history["loss"][-1] < history["loss"][0]
    assert summary["final"]["loss"] == history["loss"][-1]
    assert not (tmp_path / "backup").exists()  # Keras deletes its backup, and the record with it, when done


def test_the_progress_record_is_cut_to_the_restored_epoch_and_adds_the_earlier_seconds(tmp_path):
    from models.training import _progress

    backup = tmp_path / "backup"
    backup.mkdir()
    # Killed after the progress record of epoch 3 was written and before Keras' metadata was: 2 epochs restore.
    (backup / "progress.json").write_text(json.dumps({"history": {"loss": [0.9, 0.5, 0.4]},
                                                      "elapsed": [10.0, 20.5, 31.0]}))
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": 2, "batch": 0}))
    progress = _progress(backup)
    assert progress.resumed_from == 2 and progress.history == {"loss": [0.9, 0.5]} and progress.elapsed == [10.0, 20.5]
    progress.on_train_begin()
    progress.on_epoch_end(2, {"loss": np.float32(0.25)})
    assert progress.history == {"loss": [0.9, 0.5, 0.25]}
    assert 20.5 <= progress.elapsed[-1] < 20.5 + 5 and 20.5 <= progress.seconds < 20.5 + 5
    assert json.loads((backup / "progress.json").read_text()) == {"history": progress.history,
                                                                   "elapsed": progress.elapsed}
    # A fresh run (no Keras metadata) ignores a stale record.
    (backup / "training_metadata.json").unlink()
    fresh = _progress(backup)
    assert fresh.resumed_from == 0 and fresh.history == {} and fresh.elapsed == []


@pytest.mark.slow
def test_pretrained_download_and_evaluate_by_name(tmp_path):
    from models import pretrained

    data = str(require_canonical_data())
    manifest = pretrained.manifest()
    name = "cnn_mnist"
    local = {pretrained.ENV_SAVED_MODELS: str(ROOT / "saved_models")}
    proc = run("pretrained", "download", name, "--cache-dir", str(tmp_path / "cache"), timeout=120, env=local)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(ROOT / "saved_models" / manifest[name]["file"])
    proc = run("evaluate", "--pretrained", name, "--data-dir", data, "--output-dir", str(tmp_path / "eval"),
               env=local)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "eval" / "evaluate.json").read_text())
    assert result["config"]["dataset"] == "mnist"  # the pretrained model's dataset by default
    assert not any(str(v).startswith("/") for v in result["config"].values() if v)  # no absolute paths
    assert abs(result["classification"]["accuracy"] - manifest[name]["metrics"]["accuracy"]) <= 1e-4
    proc = run("pretrained", "download", "cnn_mnist", "--base-url", "http://127.0.0.1:9/", timeout=60,
               env={pretrained.ENV_SAVED_MODELS: str(tmp_path / "none"), "KERAS_HOME": str(tmp_path / "k")})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "keraslosses pretrained: error: could not download 'cnn_mnist' from http://127.0.0.1:9/cnn_mnist.keras")


def test_training_that_diverges_stops_and_keeps_the_last_good_epoch(tmp_path, monkeypatch):
    import numpy as np
    import tensorflow as tf

    from models import training
    from models.families import registry

    create = registry.create

    def diverging(name, **kwargs):  # the loss becomes NaN in the second epoch (22 steps an epoch on digits)
        model = create(name, **kwargs)
        phase = model.phases()[0]

        def loss(x, y, training):
            terms = phase.loss(x, y, training)
            broken = model.player_optimizers["classifier"].iterations >= 30
            return {**terms, "total": terms["total"] + tf.where(broken, np.nan, 0.0)}

        model.phases = lambda: [type(phase)(phase.players, loss, phase.losses, phase.metrics)]
        return model

    monkeypatch.setattr(registry, "create", diverging)
    config = training.TrainConfig(model="cnn", epochs=4, output_dir=str(tmp_path), verbose=0)
    with pytest.raises(training.TrainingDivergedError, match=r"epoch 2; training stopped; .*model.keras holds epoch 1"):
        training.train(config)
    from models import pretrained

    kept = pretrained.load_model(tmp_path / "model.keras")
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    assert np.isfinite(kept.predict(x, verbose=0)).all()
    assert not (tmp_path / "backup").exists()


def _stored_row(name, settings, accuracy):
    from models.evaluation import paper

    return {"model": name, "settings": settings, "dtype_policy": "float32", "train_seconds": 1.0, "accuracy": accuracy, "f1": accuracy,
            "precision": accuracy, "recall": accuracy, "separability": 0.5, "separability_samples": 450,
            "linear_probe": 0.5, "silhouette": 0.1, "reconstruction": 0.01,
            "paper": paper.figures(settings["dataset"], name)}


def test_reproduce_skips_finished_models_and_rebuilds_the_tables_from_their_files(tmp_path, monkeypatch):
    from models.cli import reproduce

    config = reproduce.ReproduceConfig(dataset="digits", models=("se_nc", "ac_nc_v2_mse"), output_dir=str(tmp_path))
    for name, accuracy in (("se_nc", 0.25), ("ac_nc_v2_mse", 0.75)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(json.dumps(_stored_row(name, config.settings(), accuracy)))
    trained = []
    monkeypatch.setattr(reproduce, "_score", lambda name, *a: trained.append(name) or _stored_row(
        name, config.settings(), 0.5))
    payload = reproduce.run(config)
    assert trained == [] and [r["accuracy"] for r in payload["rows"]] == [0.25, 0.75]
    table = (tmp_path / "reproduce_digits.md").read_text()
    assert "| se_nc | 0.5000 | - |" in table and "| ac_nc_v2_mse | 0.7500 | - |" in table  # digits: no paper figure
    # other settings (more epochs) or --force: trained again
    reproduce.run(dataclasses.replace(config, epochs=31))
    reproduce.run(dataclasses.replace(config, force=True))
    assert trained == ["se_nc", "ac_nc_v2_mse"] * 2


def test_reproduce_retrains_a_result_whose_recipe_changed_and_tables_only_trains_nothing(tmp_path, monkeypatch):
    from models.cli import reproduce
    from models.training import record

    config = reproduce.ReproduceConfig(dataset="fashion_mnist", recipe="paper", models=("se_nc", "se_co", "cnn"),
                                       output_dir=str(tmp_path))
    current = {name: record(reproduce._train_config(name, config, tmp_path)) for name in config.models}
    assert current["se_nc"]["discriminator_batch_norm"] is True  # the recipe's, on Fashion-MNIST
    rows = {
        # trained before the recipe gave D its BatchNorm
        "se_nc": {**_stored_row("se_nc", config.settings(), 0.25),
                  "train": {**current["se_nc"], "discriminator_batch_norm": False, "data_dir": "elsewhere"}},
        # written before the game fields existed: they count as their defaults, which the recipe keeps for se_co
        "se_co": {**_stored_row("se_co", config.settings(), 0.75),
                  "train": {k: v for k, v in current["se_co"].items()
                            if k not in ("adversarial_weight", "joint_batch", "discriminator_batch_norm")}},
    }
    for name, row in rows.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(json.dumps(row))
    assert reproduce.stale_fields(rows["se_nc"], config, tmp_path) == {"discriminator_batch_norm": (False, True)}
    assert reproduce.stale_fields(rows["se_co"], config, tmp_path) == {}
    assert reproduce.stale_fields(rows["se_co"], dataclasses.replace(config, epochs=3), tmp_path) == {
        "epochs": (current["se_co"]["epochs"], 3)}
    # run with the recipe's epochs given explicitly (--epochs 25 for SE(co) on Fashion-MNIST): the same training,
    # reused by a plain run; a row without a record is judged on the run's settings
    epochs = current["se_co"]["epochs"]
    explicit = dataclasses.replace(config, epochs=epochs)
    assert reproduce.stale_fields({**rows["se_co"], "settings": explicit.settings()}, config, tmp_path) == {}
    assert reproduce.stale_fields(_stored_row("se_co", explicit.settings(), 0.75), config, tmp_path) == {
        "settings.epochs": (epochs, None)}

    # tables only: no data is loaded (there is none for Fashion-MNIST here), nothing is trained, the stale row is
    # tabled as it is and the model without a result is left out
    monkeypatch.setattr(reproduce, "_score", lambda *a: pytest.fail("tables_only trained"))
    monkeypatch.setattr(reproduce.data, "load_arrays", lambda *a: pytest.fail("tables_only loaded data"))
    from models.cli import main

    assert main(["reproduce", "--dataset", "fashion_mnist", "--recipe", "paper", "--models", "se_nc,se_co,cnn",
                 "--tables-only", "--output-dir", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "reproduce_fashion_mnist.json").read_text())
    assert [(r["model"], r["accuracy"]) for r in payload["rows"]] == [("se_nc", 0.25), ("se_co", 0.75)]
    assert payload["missing"] == ["cnn"]
    table = (tmp_path / "reproduce_fashion_mnist.md").read_text()
    assert "| se_nc | 0.5000 | 0.9161 |" in table
    assert table.rstrip().endswith("\n\nNot trained yet (no result file): cnn.")

    trained = []
    monkeypatch.setattr(reproduce.data, "load_arrays", lambda *a: (None, None))
    monkeypatch.setattr(reproduce, "_score", lambda name, *a: trained.append(name) or _stored_row(
        name, config.settings(), 0.5))
    payload = reproduce.run(config)
    assert trained == ["se_nc", "cnn"] and [r["accuracy"] for r in payload["rows"]] == [0.5, 0.75, 0.5]
    assert payload["missing"] == [] and "Not trained yet" not in (tmp_path / "reproduce_fashion_mnist.md").read_text()
    with pytest.raises(ValueError, match="received force=True, tables_only=True"):
        dataclasses.replace(config, force=True, tables_only=True)


def test_the_tables_list_their_rows_in_the_papers_order():
    from models.cli import reproduce

    settings = reproduce.ReproduceConfig(dataset="mnist").settings()
    names = ("cnn", "ae", "ac_nc_v1_mse", "se_nc", "dae", "ac_co_v2_mse", "se_co")
    table = reproduce.format_table({"config": {"dataset": "mnist"}, "wall_seconds": 1.0,
                                    "rows": [_stored_row(n, settings, 0.5) for n in names]})
    listed = [line.split(" | ")[0][2:] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert listed == ["model", "se_co", "se_nc", "ae", "dae", "model", "ac_co_v2_mse", "ac_nc_v1_mse", "cnn"]


def test_the_tables_bold_the_cells_met_and_list_the_missed_ones_by_how_much():
    from models.cli import reproduce
    from models.evaluation import paper

    settings = reproduce.ReproduceConfig(dataset="fashion_mnist").settings()
    # Fashion-MNIST's paper cells: se_nc separability 0.9161, reconstruction 0.0129; ac_nc_v2_mae accuracy 0.9241
    # (no Table 3 figures: Table 3 has the MSE variants only); cnn accuracy 0.9360, F1 / precision / recall
    # 0.9360 / 0.9360 / 0.9362
    se_nc = {**_stored_row("se_nc", settings, 0.9), "separability": 0.9235, "reconstruction": 0.0157}
    tie = _stored_row("ac_nc_v2_mae", settings, 0.92414)  # 0.9241 to the paper's 4 decimals: met
    cnn = {**_stored_row("cnn", settings, 0.936), "recall": 0.93615}  # 0.9362 to 4 decimals: met
    cnn["f1"] = cnn["precision"] = 0.93594  # 0.9359: missed by 0.0001
    payload = {"config": {"dataset": "fashion_mnist"}, "wall_seconds": 1.0, "rows": [cnn, tie, se_nc]}
    table = reproduce.format_table(payload)
    assert "| se_nc | **0.9235** | 0.9161 |" in table and "| 0.0157 | 0.0129 |" in table
    assert "| ac_nc_v2_mae | **0.9241** | 0.9241 | 0.9241 | - |" in table
    assert "| cnn | **0.9360** | 0.9360 | 0.9359 | 0.9360 | 0.9359 | 0.9360 | **0.9362** | 0.9362 |" in table
    assert table.endswith("The paper's cells: 4 of 7 met (in bold: at or above the paper's figure, at or below it "
                          "for the reconstruction error, to its 4 decimals), missed:\n\n"
                          "- se_nc reconstruction: 0.0157 against 0.0129 (+0.0028)\n"
                          "- cnn f1: 0.9359 against 0.9360 (-0.0001)\n"
                          "- cnn precision: 0.9359 against 0.9360 (-0.0001)")
    assert reproduce.paper_cells(payload["rows"]) == {"cells": 7, "met": 4, "missed": [
        {"model": "se_nc", "metric": "reconstruction", "ours": 0.0157, "paper": 0.0129},
        {"model": "cnn", "metric": "f1", "ours": 0.93594, "paper": 0.936},
        {"model": "cnn", "metric": "precision", "ours": 0.93594, "paper": 0.936}]}
    # every cell met: the count alone; no paper figures (digits): no line at all
    met = {**se_nc, "reconstruction": 0.0129}
    assert reproduce.format_table({**payload, "rows": [met]}).endswith(
        "The paper's cells: 2 of 2 met (in bold: at or above the paper's figure, at or below it for the "
        "reconstruction error, to its 4 decimals).")
    digits = {**se_nc, "paper": paper.figures("digits", "se_nc")}
    assert "cells" not in reproduce.format_table({**payload, "rows": [digits]})
    assert reproduce.paper_cells([digits]) == {"cells": 0, "met": 0, "missed": []}


def test_meeting_a_paper_cell_depends_on_the_metrics_direction():
    from models.evaluation import paper

    assert paper.meets("separability", 0.9161, 0.9161) and not paper.meets("separability", 0.91604, 0.9161)
    assert paper.meets("reconstruction", 0.01294, 0.0129) and not paper.meets("reconstruction", 0.01296, 0.0129)
    assert not paper.meets("accuracy", 0.0129, 0.9390) and not paper.meets("reconstruction", 0.9390, 0.0129)


def test_the_paper_figures_ship_with_the_package():
    from models.evaluation import paper

    assert paper.figures("mnist", "se_nc") == {"separability": 0.9898, "reconstruction": 0.0132}
    assert paper.figures("fashion_mnist", "ac_nc_v2_mse") == {"accuracy": 0.939, "f1": 0.9389, "precision": 0.939,
                                                              "recall": 0.9391}
    assert paper.figures("mnist", "cnn")["accuracy"] == 0.9951 and paper.figures("digits", "se_nc") == {}


def test_the_shipped_paper_tables_are_the_shared_copy():
    from models.evaluation import paper

    shared = ROOT.parent / "shared" / "paper" / "autonets_tables.json"
    if not shared.is_file():  # a user's fresh clone; CI has ../shared and must compare
        if os.environ.get("CI") == "true":
            pytest.fail(f"{shared} is expected under CI")
        pytest.skip(f"no {shared} beside the clone")
    assert json.loads(shared.read_text()) == paper.tables()


def test_precision_auto_picks_bfloat16_only_where_the_cpu_has_it(tmp_path, caplog):
    from models import training

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n\nprocessor\t: 1\n")
    assert training.cpu_flags(cpuinfo) >= {"avx2", "avx512_bf16"}
    assert training.cpu_flags(tmp_path / "absent") == set()
    with caplog.at_level("INFO", logger="keraslosses.training"):
        assert training.resolve_precision("auto", {"avx2", "avx512_bf16"}) == "mixed_bfloat16"
        assert training.resolve_precision("auto", {"avx2", "amx_bf16"}) == "mixed_bfloat16"
        assert training.resolve_precision("auto", {"avx2", "avx512f"}) == "float32"
        # the small networks train slower in bfloat16 even with the hardware (training.json)
        assert training.resolve_precision("auto", {"avx512_bf16"}, size="small") == "float32"
        assert training.resolve_precision("auto", {"avx512_bf16"}, size="paper") == "mixed_bfloat16"
    assert "mixed_bfloat16 (the CPU has avx512_bf16)" in caplog.text and "no bfloat16 hardware" in caplog.text
    assert "float32 (the small networks are slower in bfloat16)" in caplog.text
    assert training.resolve_precision("mixed_float16", set()) == "mixed_float16"
    assert training.TrainConfig(model="cnn").precision == "auto"


def test_the_cosine_schedule_warms_up_then_decays_and_weight_decay_means_adamw():
    import keras

    from models import training

    config = training.TrainConfig(model="cnn", epochs=4, learning_rate=2e-3, schedule="cosine", warmup_epochs=1,
                                  weight_decay=1e-4)
    optimizer = training._optimizer(config, steps_per_epoch=10)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 1e-4
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(5)) == pytest.approx(1e-3, rel=1e-5)  # half-way through the warm-up
    assert float(schedule(10)) == pytest.approx(2e-3, rel=1e-5)
    assert float(schedule(25)) == pytest.approx(1e-3, rel=1e-5)  # half-way through the cosine
    assert float(schedule(40)) == pytest.approx(0.0, abs=1e-9)
    constant = training._optimizer(training.TrainConfig(model="cnn"), steps_per_epoch=10)
    assert type(constant) is keras.optimizers.Adam and float(constant.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize("field, value", [("schedule", "linear"), ("weight_decay", -1.0), ("label_smoothing", 1.5),
                                          ("validation", 0.9), ("size", "huge"), ("label_loss", "cce"),
                                          ("adversarial_weight", -0.1), ("joint_batch", "yes"),
                                          ("discriminator_batch_norm", "yes"), ("reconstruction_weight", -1.0),
                                          ("reconstruction_loss", "l2")])
def test_bad_recipe_settings_are_value_errors_naming_them(field, value):
    from models import training

    with pytest.raises(ValueError, match=f"`{field}`"):
        training.TrainConfig(model="cnn", **{field: value})


def test_label_smoothing_on_a_model_without_cross_entropy_is_a_value_error(tmp_path):
    from models import training

    with pytest.raises(ValueError, match="label_smoothing.*ae"):
        training._model_arguments(training.TrainConfig(model="ae", label_smoothing=0.1))
    assert training._model_arguments(training.TrainConfig(model="cnn", label_smoothing=0.1))["label_smoothing"] == 0.1


def test_label_loss_reaches_the_super_encoders_only(tmp_path):
    from models import training

    from models.core.labels import ERRORS

    assert training.LABEL_LOSSES == ERRORS  # the copy kept out of TensorFlow's import
    with pytest.raises(ValueError, match=r"`label_loss` applies to the Super-encoders.*label_loss='mse' for cnn"):
        training._model_arguments(training.TrainConfig(model="cnn", label_loss="mse"))
    assert "label_loss" not in training._model_arguments(training.TrainConfig(model="se_star"))
    cfg = training.TrainConfig(model="se_star", epochs=1, label_loss="mse", output_dir=str(tmp_path), verbose=0)
    model, _ = training.train(cfg)
    assert model.config["label_loss"] == "mse" and model.config["labelled_fraction"] == 0.2
    assert " --label-loss mse " in training.train_command(json.loads((tmp_path / "train.json").read_text())["config"])


def test_game_settings_reach_the_auto_classifiers_only_and_the_recorded_command(tmp_path, monkeypatch):
    from models import training
    from models.cli import main
    from models.cli import train as train_cli

    default = training._model_arguments(training.TrainConfig(model="ac_nc_v1_mse"))
    assert "joint_batch" not in default and "adversarial_weight" not in default
    # 0 is a setting (C alone), not "unset": only the default None leaves the model's weight
    zero = training._model_arguments(training.TrainConfig(model="ac_nc_v1_mse", adversarial_weight=0.0))
    assert zero["adversarial_weight"] == 0.0
    for field, value in (("joint_batch", True), ("adversarial_weight", 0.1)):
        with pytest.raises(ValueError, match=rf"`{field}` applies to the Auto-classifiers.*{field}={value!r} for se_nc"):
            training._model_arguments(training.TrainConfig(model="se_nc", **{field: value}))
    seen = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    assert main(["train", "--model", "ac_nc_v1_mae", "--joint-batch", "--adversarial-weight", "0.1",
                 "--output-dir", str(tmp_path)]) == 0
    config = seen["config"]
    assert (config.joint_batch, config.adversarial_weight) == (True, 0.1)
    assert training._model_arguments(config) == {"size": "small", "joint_batch": True, "adversarial_weight": 0.1}
    command = training.train_command(training.record(config))
    assert command.endswith(" --adversarial-weight 0.1 --joint-batch --data-dir DATA_DIR")
    # the recorded command parses back to the same settings
    args = argparse.ArgumentParser()
    train_cli.add_train_arguments(args)
    again = args.parse_args(command.split()[2:-2] + ["--output-dir", str(tmp_path)])
    assert (again.joint_batch, again.adversarial_weight) == (True, 0.1)
    plain = training.train_command(training.record(training.TrainConfig(model="ac_nc_v1_mae")))
    assert "--joint-batch" not in plain and "--adversarial-weight" not in plain
    # BatchNorm in the image-label D: the Super-encoders and Auto-classifiers take it, cnn refuses it
    for name in ("se_nc", "ac_nc_v2_mse"):
        config = training.TrainConfig(model=name, discriminator_batch_norm=True)
        assert training._model_arguments(config)["discriminator_batch_norm"] is True
        command = training.train_command(training.record(config))
        assert command.endswith(" --discriminator-batch-norm --data-dir DATA_DIR")
    with pytest.raises(ValueError, match="`discriminator_batch_norm` applies to the Autonets"):
        training._model_arguments(training.TrainConfig(model="cnn", discriminator_batch_norm=True))
    seen.clear()
    assert main(["train", "--model", "se_nc", "--discriminator-batch-norm", "--output-dir", str(tmp_path)]) == 0
    assert seen["config"].discriminator_batch_norm is True and seen["config"].joint_batch is False


def test_reconstruction_settings_are_the_super_encoders_beta_and_loss_and_no_other_models(tmp_path, monkeypatch):
    from models import training
    from models.cli import main

    assert training._model_arguments(training.TrainConfig(
        model="se_co", reconstruction_weight=10.0, reconstruction_loss="mse")) == {
        "size": "small", "beta": 10.0, "reconstruction": "mse"}
    assert training._model_arguments(training.TrainConfig(model="se_nc")) == {"size": "small"}
    # a beta-VAE's `beta` is its KL weight, an Auto-classifier's loss is in its name: neither may be reached
    for name in ("beta_vae", "ae", "ac_co_v1_mse"):
        with pytest.raises(ValueError, match=rf"`reconstruction_weight` applies to the Super-encoders.*=3.0 for {name}"):
            training._model_arguments(training.TrainConfig(model=name, reconstruction_weight=3.0))
        with pytest.raises(ValueError, match=rf"`reconstruction_loss` applies to the Super-encoders.*'mae' for {name}"):
            training._model_arguments(training.TrainConfig(model=name, reconstruction_loss="mae"))
    seen = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    assert main(["train", "--model", "se_star", "--reconstruction-weight", "3", "--reconstruction-loss", "mse",
                 "--output-dir", str(tmp_path)]) == 0
    assert (seen["config"].reconstruction_weight, seen["config"].reconstruction_loss) == (3.0, "mse")
    command = training.train_command(training.record(seen["config"]))
    assert " --reconstruction-loss mse " in command
    assert command.endswith(" --reconstruction-weight 3.0 --data-dir DATA_DIR")
    plain = training.train_command(training.record(training.TrainConfig(model="se_co")))
    assert "--reconstruction" not in plain
    monkeypatch.undo()
    model, _ = training.train(training.TrainConfig(model="se_co", epochs=1, reconstruction_weight=3.0,
                                                   reconstruction_loss="mse", verbose=0,
                                                   output_dir=str(tmp_path / "run")))
    assert (model.config["beta"], model.config["reconstruction"]) == (3.0, "mse")


def test_reproduce_trains_each_model_with_its_recipe_and_explicit_settings_win(tmp_path, monkeypatch):
    from models.cli import reproduce

    seen = {}

    class Stop(Exception):
        pass

    def fake_train(config):
        seen[config.model] = config
        raise Stop

    monkeypatch.setattr(reproduce, "train", fake_train)
    paper = reproduce.ReproduceConfig(dataset="mnist", recipe="paper", output_dir=str(tmp_path))
    assert (paper.epochs, paper.batch_size, paper.size) == (None, None, None)
    assert paper.settings()["recipe"] == "paper"
    for name in ("cnn", "ac_co_v1_mse", "se_nc", "se_co", "se_star"):
        with pytest.raises(Stop):
            reproduce._score(name, paper, tmp_path, None, None)
    cnn, ac, se = seen["cnn"], seen["ac_co_v1_mse"], seen["se_nc"]
    # the cooperative Super-encoders' label term is the squared error (recipes' docstring)
    assert (seen["se_co"].label_loss, seen["se_star"].label_loss, se.label_loss, cnn.label_loss) == ("mse", "mse", None, None)
    # SE* and, on MNIST, SE(co) train at half the recipe's peak rate (recipes' docstring)
    assert (seen["se_star"].learning_rate, seen["se_co"].learning_rate, se.learning_rate) == (1e-3, 1e-3, 2e-3)
    assert (cnn.size, cnn.batch_size, cnn.epochs, cnn.label_smoothing, cnn.augment) == ("paper", 128, 8, 0.1, True)
    assert (cnn.schedule, cnn.weight_decay, cnn.learning_rate, cnn.validation) == ("cosine", 5e-4, 2e-3, 0.1)
    assert (ac.epochs, ac.label_smoothing) == (12, 0.0) and (se.epochs, se.label_smoothing) == (6, 0.0)
    # the games' settings: on Fashion-MNIST only (the recipes' docstring)
    for dataset, name, expected in (("mnist", "ac_nc_v1_mse", (False, None, False)),
                                    ("fashion_mnist", "ac_nc_v1_mse", (True, 0.1, False)),
                                    ("fashion_mnist", "ac_nc_v1_mae", (True, 0.1, False)),
                                    ("fashion_mnist", "ac_nc_v2_mse", (False, None, True)),
                                    ("fashion_mnist", "ac_nc_v2_mae", (False, None, True)),
                                    ("mnist", "ac_nc_v2_mse", (False, None, False)),
                                    ("fashion_mnist", "se_nc", (False, None, True)),
                                    ("fashion_mnist", "se_star_nc", (False, None, False)),
                                    ("fashion_mnist", "ac_co_v1_mse", (False, None, False))):
        with pytest.raises(Stop):
            reproduce._score(name, dataclasses.replace(paper, dataset=dataset), tmp_path, None, None)
        config = seen[name]
        assert (config.joint_batch, config.adversarial_weight, config.discriminator_batch_norm) == expected, (
            dataset, name)
    with pytest.raises(Stop):
        reproduce._score("cnn", dataclasses.replace(paper, dataset="fashion_mnist", epochs=3, size="small"),
                         tmp_path, None, None)
    assert (seen["cnn"].epochs, seen["cnn"].size, seen["cnn"].batch_size) == (3, "small", 128)
    default = reproduce.ReproduceConfig(dataset="mnist", output_dir=str(tmp_path))
    assert (default.epochs, default.batch_size, default.size) == (5, 64, "small")
    with pytest.raises(ValueError, match="recipe"):
        reproduce.ReproduceConfig(recipe="fast")


@pytest.mark.slow
def test_robustness_command_on_a_shipped_model(tmp_path):
    data_dir = require_canonical_data()
    # 2,000 of the 10,000 test images: the eight perturbed copies of the full split took 165 s of CI.
    proc = run("robustness", "cnn_mnist", "--data-dir", str(data_dir), "--output-dir", str(tmp_path),
               "--max-samples", "2000")
    assert proc.returncode == 0, proc.stderr[-3000:]
    accuracy = json.loads((tmp_path / "robustness_mnist.json").read_text())["accuracy"]["cnn_mnist"]
    from models import data, evaluation, pretrained

    x, y = data.load_arrays("mnist", "test", data_dir)
    index = evaluation.stratified_subset(y, 2000, seed=0)
    assert len(index) == 2000 and np.abs(np.bincount(y[index]) - 0.2 * np.bincount(y)).max() <= 1  # stratified
    clean = (pretrained.load_pretrained("cnn_mnist").predict(x[index], verbose=0).argmax(-1) == y[index]).mean()
    assert accuracy["clean"] == pytest.approx(clean, abs=1e-12)
    assert accuracy["noise_0.3"] < accuracy["noise_0.1"] <= accuracy["clean"] + 0.005
    assert (tmp_path / "robustness_mnist.png").stat().st_size > 10_000


def test_subset_trains_on_a_stratified_part_of_the_training_split(tmp_path, caplog):
    import numpy as np

    from models import data, training

    with pytest.raises(ValueError, match=r"subset.*19"):
        training.TrainConfig(model="cnn", subset=19)  # digits has 10 classes: at least 20
    cfg = training.TrainConfig(model="cnn", epochs=1, subset=400, validation=0.25, output_dir=str(tmp_path), verbose=0)
    with caplog.at_level("INFO", logger="keraslosses.training"):
        training.train(cfg)
    assert "digits: 300 training images of shape (8, 8, 1), 100 held out for validation" in caplog.text
    assert training.train_command(json.loads((tmp_path / "train.json").read_text())["config"]).endswith(
        " --validation 0.25 --subset 400 --data-dir DATA_DIR")
    x, y = data.load_arrays("digits", "train")
    kept = data.validation_split(x, y, len(x) - 400, seed=0)[1]
    assert len(kept) == 400 and np.bincount(kept).min() >= 38  # every class, in proportion


def test_the_recipe_ablation_changes_one_setting_per_variant():
    from benchmarks.suite import recipe
    from models.training import recipes

    paper = recipes.settings("paper", "cnn", "fashion_mnist")
    configs = {v: recipe.config(v, "fashion_mnist", 1, subset=15_000, epochs=8, data_dir=None, runs_dir="runs/x")
               for v in recipe.VARIANTS}
    base = dataclasses.asdict(configs["recipe"])
    assert base["subset"] == 15_000 and base["epochs"] == 8 and base["seed"] == 1 and base["validation"] == 1 / 3
    assert all(base[k] == v for k, v in paper.items() if k not in ("epochs", "validation"))
    for variant, cfg in configs.items():
        changed = {k for k, v in dataclasses.asdict(cfg).items() if v != base[k]} - {"output_dir"}
        assert changed == set(recipe.VARIANTS[variant]), variant
        assert cfg.output_dir == f"runs/x/fashion_mnist/{variant}/seed1"


def test_the_recipe_ablation_reads_finished_runs_back(tmp_path, monkeypatch):
    from benchmarks.suite import recipe
    from models import training

    cfg = recipe.config("no_augment", "mnist", 0, subset=1000, epochs=2, data_dir=None, runs_dir=str(tmp_path))
    Path(cfg.output_dir).mkdir(parents=True)
    (Path(cfg.output_dir) / "history.json").write_text('{"val_accuracy": [0.5, 0.6]}')
    (Path(cfg.output_dir) / "train.json").write_text(json.dumps({"config": training.record(cfg), "train_seconds": 1}))
    calls = []
    monkeypatch.setattr(training, "train", lambda c: calls.append(c) or (None, {"train_seconds": 2}))
    assert recipe.trained(cfg) == {"config": training.record(cfg), "train_seconds": 1} and calls == []
    assert recipe.trained(dataclasses.replace(cfg, epochs=3)) == {"train_seconds": 2} and len(calls) == 1
