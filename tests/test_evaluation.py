"""Evaluation metrics and the separability protocol."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from models import evaluation


def test_classification_metrics_hand_computed():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0]
    got = evaluation.classification_metrics(y_true, y_pred, num_classes=3)
    assert got["accuracy"] == pytest.approx(4 / 6)
    # precision per class: 1/2, 2/3, 1; recall: 1/2, 1, 1/2
    assert got["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert got["recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    f1 = [2 * p * r / (p + r) for p, r in ((1 / 2, 1 / 2), (2 / 3, 1), (1, 1 / 2))]
    assert got["macro_f1"] == pytest.approx(np.mean(f1))
    assert got["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    scores = np.eye(3)[y_pred] * 0.9 + 0.05
    assert evaluation.classification_metrics(y_true, scores, 3) == got
    assert got["macro_f1"] == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro"))


def test_reconstruction_error():
    x = np.zeros((2, 2, 2, 1))
    r = np.full_like(x, 0.5)
    r[0, 0, 0, 0] = 1.0
    got = evaluation.reconstruction_error(x, r)
    assert got["mse"] == pytest.approx((7 * 0.25 + 1.0) / 8)
    assert got["mae"] == pytest.approx((7 * 0.5 + 1.0) / 8)


def test_separability_high_for_separated_clusters_and_chance_for_overlap():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 60)
    centers = rng.normal(size=(5, 16)) * 10
    separated = centers[labels] + rng.normal(size=(300, 16))
    scores, embedding, index = evaluation.separability(separated, labels, seed=0)
    assert embedding.shape == (300, 2) and len(index) == 300
    assert scores["knn_accuracy"] > 0.98 and scores["linear_probe_accuracy"] > 0.98
    assert scores["silhouette"] > 0.5
    overlapping = rng.normal(size=(300, 16))
    scores, _, _ = evaluation.separability(overlapping, labels, seed=0)
    assert abs(scores["knn_accuracy"] - 0.2) < 0.1 and abs(scores["linear_probe_accuracy"] - 0.2) < 0.1
    assert abs(scores["silhouette"]) < 0.1


def test_separability_needs_every_class_in_every_fold(monkeypatch):
    monkeypatch.setattr(evaluation, "tsne_embedding", lambda codes, seed: codes[:, :2])  # the check, not t-SNE
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), [50] * 9 + [8])  # class 9 is rare: 8 of 458 codes
    codes = rng.normal(size=(len(y), 4)) + y[:, None]
    # 100 codes keep one of class 9 (8 * 100 / 458, rounded down): a 5-fold CV cannot place it in every fold
    with pytest.raises(ValueError, match=r"`max_samples`=100 keeps only 1 of class 9's codes; the 5-fold"):
        evaluation.separability(codes, y, max_samples=100)
    scores, _, index = evaluation.separability(codes, y, max_samples=300)
    assert scores["samples"] == 300 and (y[index] == 9).sum() == 5  # five of class 9: enough
    evaluation.check_max_samples(None)  # every code
    evaluation.check_max_samples(evaluation.MIN_SEPARABILITY_SAMPLES)
    with pytest.raises(ValueError, match=r"`max_samples` must be an integer >= 100; received max_samples=99"):
        evaluation.check_max_samples(99)


def test_stratified_subset_keeps_class_proportions():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    index = evaluation.stratified_subset(labels, 100, seed=0)
    assert len(index) == 100 and np.bincount(labels[index]).tolist() == [10, 20, 30, 40]


def test_plots_are_written(tmp_path):
    rng = np.random.default_rng(0)
    evaluation.plot_embedding(rng.normal(size=(50, 2)), rng.integers(0, 3, 50), tmp_path / "tsne.png")
    images = rng.uniform(size=(4, 8, 8, 1))
    evaluation.plot_image_rows([images, images], tmp_path / "grid.png", ["input", "reconstruction"])
    evaluation.plot_history({"loss": [3, 2, 1]}, tmp_path / "curves.png")
    for name in ("tsne.png", "grid.png", "curves.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_perturbations_move_every_pixel_by_the_shift_and_add_clipped_seeded_noise():
    rng = np.random.default_rng(0)
    x = rng.random((3, 6, 5, 1), dtype=np.float32)
    found = evaluation.perturbations(x, sigmas=(0.2,), shift=2, seed=7)
    assert list(found) == ["clean", "noise_0.2", "shift_up", "shift_down", "shift_left", "shift_right"]
    # brute force: pixel (i, j) lands at (i + di, j + dj); what enters from the edge is 0
    for name, (di, dj) in {"shift_up": (-2, 0), "shift_down": (2, 0), "shift_left": (0, -2),
                           "shift_right": (0, 2)}.items():
        expected = np.zeros_like(x)
        for i in range(6):
            for j in range(5):
                if 0 <= i + di < 6 and 0 <= j + dj < 5:
                    expected[:, i + di, j + dj] = x[:, i, j]
        np.testing.assert_array_equal(found[name], expected, err_msg=name)
    noisy = found["noise_0.2"]
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and not np.array_equal(noisy, x)
    np.testing.assert_array_equal(noisy, evaluation.perturbations(x, sigmas=(0.2,), seed=7)["noise_0.2"])
    big = evaluation.perturbations(np.full((200, 10, 10, 1), 0.5, np.float32), sigmas=(0.1,))["noise_0.1"]
    assert abs(float(big.std()) - 0.1) < 0.002  # 0.5 +- 5 sigma never clips


class _Thresholds:
    """A stand-in classifier: class 1 when the mean pixel is above 0.5."""

    classifies = True

    def predict(self, x, batch_size=None, verbose=0):
        above = np.asarray(x).mean(axis=(1, 2, 3)) > 0.5
        return np.stack([~above, above], axis=-1).astype(np.float32)


def test_robustness_scores_each_perturbation_and_averages_the_shifts():
    x = np.zeros((4, 4, 4, 1), np.float32)
    x[:2] = 1.0  # bright images: class 1; their mean drops to 0.5 when two rows of zeros enter
    y = np.array([1, 1, 0, 0])
    accuracy = evaluation.robustness(_Thresholds(), x, y, sigmas=(0.1,), shift=2)
    assert accuracy["clean"] == 1.0
    assert accuracy["shift_up"] == accuracy["shift_left"] == 0.5  # the shifted bright images read 0.5: class 0
    assert accuracy["shift"] == 0.5 and 0.5 <= accuracy["noise_0.1"] <= 1.0


def test_the_robustness_command_refuses_unknown_models_and_models_that_do_not_classify(tmp_path):
    from models.cli import robustness

    with pytest.raises(FileNotFoundError, match="neither a pretrained name"):
        robustness.RobustnessConfig(models=("no_such_model",))
    with pytest.raises(ValueError, match="sigma"):
        robustness.RobustnessConfig(models=("cnn_mnist",), sigmas=(0.0,))
    with pytest.raises(ValueError, match=r"`max_samples` must be at least 10.*received max_samples=3"):
        robustness.RobustnessConfig(models=("cnn_mnist",), max_samples=3)
    assert robustness.RobustnessConfig(models=("cnn_fashion_mnist",)).dataset == "fashion_mnist"
    table = robustness.format_table({"m": {"clean": 0.9, "noise_0.1": 0.8, "shift": 0.85}})
    assert table.splitlines()[-1] == "| m | 0.9000 | 0.8000 (-0.1000) | 0.8500 (-0.0500) |"


@pytest.mark.parametrize("name, figures", [("ac_co_v1_mse", {"classification", "reconstruction"}),
                                           ("se_nc", {"classification", "reconstruction"}),
                                           ("vae", {"reconstruction"}), ("cnn", {"classification"})])
def test_score_runs_the_encoder_once_and_equals_the_models_own_predictions(name, figures, monkeypatch):
    """One pass of the encoder gives the codes, the classes and the
    reconstructions; the figures equal those of `predict` and `reconstruct`
    run separately (a brute-force reference)."""
    import keras

    import models
    from tests.test_models import CLASSES, SHAPE, toy_data

    keras.utils.set_random_seed(0)
    x, y = toy_data(48)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    expected = {}
    if model.classifies:
        expected["accuracy"] = float((model.predict(x, verbose=0).argmax(-1) == y).mean())
    if model.reconstructs:
        expected["mse"] = float(np.mean((model.reconstruct(x) - x) ** 2))
    calls = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda *args, **kwargs: calls.append(1) or encode(*args, **kwargs))
    result = evaluation.score(model, x, y)
    assert len(calls) == 1 and set(result) == figures
    if model.classifies:
        assert result["classification"]["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-12)
    if model.reconstructs:
        assert result["reconstruction"]["mse"] == pytest.approx(expected["mse"], rel=1e-5)
