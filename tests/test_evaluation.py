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
