"""The benchmarks' reference formulation is right, and the scripts run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import keraslosses as kl
from benchmarks.suite.losses import format_table
from tests import reference as ref
from tests.conftest import ROOT
from tests.reference import cubic_semi_hard


def tfa_semantics(labels, emb, margin):
    """tensorflow-addons' semi-hard loss by loops: the farther negative with
    the smallest distance, else the *largest* negative distance (or the row
    minimum, 0, for anchors without negatives); mean over all positive pairs."""
    b = len(labels)
    d = np.array([[ref.distance(emb[i], emb[j], squared=False) for j in range(b)] for i in range(b)])
    total, pairs = 0.0, 0
    for a in range(b):
        negatives = [d[a, n] for n in range(b) if labels[n] != labels[a]]
        for p in range(b):
            if p == a or labels[p] != labels[a]:
                continue
            farther = [v for v in negatives if v > d[a, p]]
            chosen = min(farther) if farther else (max(negatives) if negatives else d[a].min())
            total += max(margin + d[a, p] - chosen, 0.0)
            pairs += 1
    return total / pairs if pairs else 0.0


@pytest.mark.parametrize("labels", [[0, 0, 1, 1, 2, 2, 0, 1], [0, 0, 0, 1], [3, 3, 3, 3], [0, 1, 0, 2, 2]])
def test_cubic_reference_is_the_tensorflow_addons_definition(labels, rng):
    labels = np.array(labels)
    emb = rng.normal(size=(len(labels), 3))
    got = float(cubic_semi_hard(tf.constant(labels), tf.constant(emb), margin=0.5))
    assert got == pytest.approx(tfa_semantics(labels, emb, 0.5), rel=1e-9, abs=1e-12)


def test_ours_equals_the_cubic_formulation_when_no_fallback_is_needed():
    # Two tight, far-apart clusters: every anchor has a negative farther
    # than each of its positives, so the two definitions coincide.
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 6)
    emb = np.concatenate([rng.normal(size=(6, 4)) * 0.1, 5 + rng.normal(size=(6, 4)) * 0.1])
    ours = float(kl.TripletLoss(margin=10.0, mining="semi_hard", squared=False, dtype="float64")(labels, emb))
    cubic = float(cubic_semi_hard(tf.constant(labels), tf.constant(emb), margin=10.0))
    assert ours == pytest.approx(cubic, rel=1e-9)


def test_table_format():
    result = {"pairs": [{"name": "mse", "width": 128, "ours_ms": 1.0, "ref_ms": 2.0, "ratio": 0.5}],
              "triplet": [{"batch": 8, "ours_ms": 1.0, "ref_ms": None, "speedup": None, "ours_peak_mb": 3.0,
                           "ref_peak_mb": None, "note": "not run"}]}
    table = format_table(result)
    assert "| mse | 128 | 1.000 | 2.000 | 0.500 |" in table
    assert "| 8 | 1.0 | not run | - | 3 | not run |" in table


@pytest.mark.parametrize(("script", "option"), [("bench_losses.py", "--quick"), ("bench_training.py", "--quick"),
                                                 ("bench_recipe.py", "--subset"),
                                                 ("bench_reconstruction.py", "--variants"),
                                                 ("bench_inference.py", "--images")])
def test_script_wrappers_have_help(script, option, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0 and option in proc.stdout, proc.stderr[-2000:]


def test_the_harness_interleaves_and_takes_medians():
    from benchmarks.suite import harness

    calls = []
    a, b = harness.alternate(lambda: calls.append("a"), lambda: calls.append("b"), 4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"] and a >= 0 and b >= 0
    assert set(harness.cpu_features()) <= set(harness.FLOAT16_FEATURES)


def test_training_benchmark_twin_computes_the_same_summed_loss():
    import keras

    import models
    from benchmarks.suite.training import SHAPE, plain_fit_twin

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, *SHAPE)).astype("float32")
    y = rng.integers(0, 10, 16).astype("int32")
    game = models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=10)
    plain = plain_fit_twin(game)
    assert plain.count_params() == game.classifier.count_params() + game.generator.count_params()
    terms = game._cooperative(tf.constant(x), tf.constant(y), training=False)
    summed = float(terms["classifier_loss"]) + float(terms["generator_loss"])
    assert plain.evaluate(x, {"probs": y, "recon": x}, batch_size=16, verbose=0)[0] == pytest.approx(summed, rel=1e-5)


@pytest.mark.parametrize("name", ["se_nc", "ac_nc_v1_mse"])
def test_the_games_ablation_scores_d_only_where_it_judges_labels(name):
    # accuracy and entropy by hand from the model's probabilities; D's implied
    # classifier only for a D that scores (image, label) pairs
    import keras

    import models
    from benchmarks.suite.games import accuracies

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(size=(10, 8, 8, 1)).astype("float32")
    y = np.arange(10) % 3
    model = models.create(name, input_shape=(8, 8, 1), num_classes=3)
    found = accuracies(model, x, y)
    probs = np.asarray(model(x), np.float64)
    assert found["accuracy"] == pytest.approx(np.mean(probs.argmax(-1) == y))
    assert found["entropy"] == pytest.approx(np.mean(-np.sum(probs * np.log(probs), -1)), rel=1e-5)
    if name == "se_nc":
        d = np.asarray(model.discriminator(x)).argmax(-1)
        assert found["d_accuracy"] == pytest.approx(np.mean(d == y))
    else:
        assert "d_accuracy" not in found


def test_the_reconstruction_ablation_changes_only_the_term_the_epochs_and_the_rate_it_names():
    from benchmarks.suite import reconstruction
    from models.training import recipes

    cfg = reconstruction.config("se_star", "mnist", "mse:10:12", 1, subset=15_000, data_dir=None, runs_dir="r")
    assert (cfg.reconstruction_loss, cfg.reconstruction_weight, cfg.epochs) == ("mse", 10.0, 12)
    assert (cfg.subset, cfg.validation, cfg.seed) == (15_000, 1 / 3, 1)
    assert cfg.output_dir == "r/mnist/se_star/mse_beta10_e12/seed1"
    recipe = recipes.settings("paper", "se_star", "mnist")
    plain = reconstruction.config("se_star", "mnist", "mae:3", 0, subset=15_000, data_dir=None, runs_dir="r")
    assert plain.epochs == recipe["epochs"] == 6 and plain.output_dir == "r/mnist/se_star/mae_beta3_e6/seed0"
    assert (plain.learning_rate, plain.label_loss) == (recipe["learning_rate"], recipe["label_loss"])
    assert recipes.settings("paper", "se_co", "mnist")["learning_rate"] == 1e-3
    faster = reconstruction.config("se_co", "mnist", "mse:10:12:2e-3", 0, subset=15_000, data_dir=None, runs_dir="r")
    assert (faster.learning_rate, faster.epochs) == (2e-3, 12)
    assert faster.output_dir == "r/mnist/se_co/mse_beta10_e12_lr0.002/seed0"


def test_the_recipe_ablation_leaves_out_one_choice_and_runs_the_wide_networks_only_when_asked():
    import argparse

    from benchmarks.suite import recipe
    from models.training import recipes

    paper = recipes.settings("paper", "cnn", "fashion_mnist")
    wide = recipe.config("wide_no_augment", "fashion_mnist", 1, subset=15_000, epochs=8, data_dir=None, runs_dir="r")
    assert (wide.size, wide.augment, wide.epochs, wide.validation) == ("wide", False, 8, 1 / 3)
    assert (wide.learning_rate, wide.schedule, wide.label_smoothing) == (
        paper["learning_rate"], paper["schedule"], paper["label_smoothing"])
    assert wide.output_dir == "r/fashion_mnist/wide_no_augment/seed1"
    assert recipe.config("recipe", "fashion_mnist", 0, subset=15_000, epochs=8, data_dir=None,
                         runs_dir="r").size == paper["size"] == "paper"
    parser = argparse.ArgumentParser()
    recipe.add_arguments(parser)
    default = parser.parse_args(["--data-dir", "d"]).variants.split(",")
    assert "no_augment" in default and not any(v.startswith("wide") for v in default)
    with pytest.raises(ValueError, match="received variants='wider'"):  # refused before any training
        recipe.run(parser.parse_args(["--data-dir", "d", "--variants", "no_augment,wider"]))


def test_every_ablation_refuses_a_misspelt_variant_by_name_before_training():
    import argparse

    from benchmarks.suite import encoder, games

    parser = argparse.ArgumentParser()
    encoder.add_arguments(parser)
    with pytest.raises(ValueError, match=r"`variants` must be one of \['gap', .*received variants='gapp'"):
        encoder.run(parser.parse_args(["--data-dir", "d", "--variants", "gap,gapp"]))
    with pytest.raises(ValueError, match="received variants='se_nc:none'"):
        games.GamesBenchConfig(variants=(next(iter(games.VARIANTS)), "se_nc:none"))
    assert games.GamesBenchConfig(quick=True).variants == tuple(games.VARIANTS)


def test_the_inference_benchmark_times_both_policies_of_a_zoo_model(tmp_path):
    from benchmarks.suite import inference

    rows = {}
    for name in ("cnn_mnist", "se_nc_mnist"):  # one that only classifies, one that also reconstructs
        row = rows[name] = inference.measure(name, images=16, repeats=1)
        assert row["stored_policy"] == "mixed_bfloat16" and row["auto"] in ("mixed_bfloat16", "float32")
        assert min(row["encode_s"].values()) > 0 and row["speedup"] > 0
        assert 0.9 <= row["same_class"] <= 1.0 and 0.0 <= row["max_probability_difference"] < 0.05
    assert "decode_s" in rows["se_nc_mnist"] and "decode_s" not in rows["cnn_mnist"]
