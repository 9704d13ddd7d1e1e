"""Metric-learning losses against brute-force loops over every triplet/pair."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keraslosses as kl
from tests import backend as B
from tests import reference as ref

MINING = ["batch_all", "batch_hard", "semi_hard"]
DISTANCES = [("euclidean", True), ("euclidean", False), ("cosine", True)]


def label_batches(rng):
    """Random batches with singleton classes, a single class, and no pairs."""
    yield np.array([0, 0, 0, 0, 0])  # one class: no negatives, no valid triplet
    yield np.array([0, 1, 2, 3])  # all singletons: no positives
    yield np.array([0, 0, 1])  # the doctest batch
    yield np.array([5, 5, 9, 7, 7, 7, 2])  # singletons 9 and 2 among pairs
    for size in (6, 9, 12):
        yield rng.integers(0, 3, size=size)


@pytest.mark.parametrize("mining", MINING)
@pytest.mark.parametrize("distance, squared", DISTANCES)
def test_triplet_loss_equals_brute_force(mining, distance, squared, rng):
    for labels in label_batches(rng):
        emb = rng.normal(size=(len(labels), 3))
        for margin in (0.0, 0.3, 2.0):
            got = kl.triplet_loss(labels, emb, margin=margin, mining=mining, squared=squared, distance=distance)
            want = ref.triplet(labels, emb, margin, mining, squared, distance)
            np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{labels} margin={margin}")


@pytest.mark.parametrize("mining", MINING)
def test_no_valid_triplet_gives_zero_with_zero_gradient(mining):
    for labels in ([0, 0, 0], [0, 1, 2]):
        emb = np.random.default_rng(0).normal(size=(3, 4))
        loss, (gradient,) = B.value_and_grads(lambda e: kl.TripletLoss(mining=mining)(np.array(labels), e), [emb])
        assert loss == 0.0
        np.testing.assert_array_equal(gradient, np.zeros((3, 4)))


@pytest.mark.parametrize("mining", MINING)
@pytest.mark.parametrize("squared", [True, False])
def test_identical_embeddings_have_a_finite_gradient(mining, squared):
    emb = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    loss, (gradient,) = B.value_and_grads(
        lambda e: kl.TripletLoss(mining=mining, squared=squared)(np.array([0, 0, 1, 1]), e), [emb])
    assert loss == pytest.approx(1.0)  # every distance is 0: loss = margin
    assert np.isfinite(gradient).all()


def test_batch_all_reports_the_active_fraction(rng):
    for labels in label_batches(rng):
        emb = rng.normal(size=(len(labels), 3))
        got = float(kl.active_triplet_fraction(labels, emb, margin=0.5))
        assert got == pytest.approx(ref.active_fraction(labels, emb, 0.5), abs=1e-7)
    metric = kl.ActiveTripletFraction(margin=0.5)
    emb = rng.normal(size=(6, 3))
    labels = np.array([0, 0, 1, 1, 2, 2])
    metric.update_state(labels, emb)
    assert float(metric.result()) == pytest.approx(ref.active_fraction(labels, emb, 0.5), rel=1e-6)
    assert keras.metrics.deserialize(keras.metrics.serialize(metric)).get_config() == metric.get_config()


def test_semi_hard_differs_from_tensorflow_addons_only_in_the_fallback():
    # Anchor 0 (label 0) has positive 1 at d = 4 and negatives 2, 3 at d = 1
    # and 2.25: none farther than the positive. FaceNet/ours takes the
    # hardest negative (d = 1): loss 4 - 1 + 1 = 4; tensorflow-addons takes
    # the easiest (d = 2.25): 4 - 2.25 + 1 = 2.75.
    emb = np.array([[0.0], [2.0], [-1.0], [-1.5]])
    labels = np.array([0, 0, 1, 1])
    per_anchor = kl.triplet_loss(labels, emb, margin=1.0, mining="semi_hard")
    # per-anchor values are scaled by B / (number of positive pairs) = 4 / 4
    assert float(per_anchor[0]) == pytest.approx(4.0)


def test_triplet_training_separates_classes(rng):
    keras.utils.set_random_seed(0)
    centers = rng.normal(size=(3, 8)) * 2
    labels = rng.integers(0, 3, size=256)
    x = (centers[labels] + rng.normal(size=(256, 8))).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=kl.TripletLoss(mining="semi_hard", margin=0.5),
                  metrics=[kl.ActiveTripletFraction(margin=0.5)])
    history = model.fit(x, labels, batch_size=64, epochs=10, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["active_triplet_fraction"][-1] < history["active_triplet_fraction"][0]


def test_triplet_margin_brute_force_and_distances(rng):
    a, p, n = rng.normal(size=(3, 5, 4))
    for distance, squared in DISTANCES:
        got = kl.triplet_margin(a, p, n, margin=0.7, squared=squared, distance=distance)
        want = [max(ref.distance(a[i], p[i], squared, distance) - ref.distance(a[i], n[i], squared, distance) + 0.7,
                    0.0) for i in range(5)]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-10)


def test_contrastive_pairs_brute_force(rng):
    pairs = rng.normal(size=(7, 2, 3))
    y = rng.integers(0, 2, size=7).astype(float)
    for distance in ("euclidean", "cosine"):
        got = kl.contrastive_embedding(y, pairs, margin=1.3, distance=distance)
        d = [ref.distance(x[0], x[1], False, distance) for x in pairs]
        want = [yi * di**2 + (1 - yi) * max(1.3 - di, 0.0) ** 2 for yi, di in zip(y, d)]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-10)


def test_cosine_similarity_keras_convention():
    t, p = np.array([[1.0, 2.0]]), np.array([[2.0, -1.0]])
    assert float(kl.CosineSimilarity()(t, p)) == pytest.approx(1.0)  # orthogonal
    assert float(keras.losses.CosineSimilarity()(t, p)) == pytest.approx(0.0)  # Keras: -cos
    assert float(kl.CosineSimilarity()(t, -t)) == pytest.approx(2.0)


def test_nt_xent_brute_force_and_half_precision_stability(rng):
    z = rng.normal(size=(8, 5))
    for tau in (0.05, 0.5, 2.0):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(kl.nt_xent(None, z, temperature=tau)),
                                   ref.nt_xent(None, z, tau), rtol=1e-9)
    # float16 embeddings of large norm with a small temperature: exp(1/0.01)
    # overflows float16, and float32 softmax of raw logits would too; the
    # masked log_softmax in float32 stays finite and matches float64.
    big = (z * 1000).astype(np.float16)
    got = kl.NTXent(temperature=0.01)(None, big)
    assert B.dtype(got) == "float32" and np.isfinite(float(got))
    assert float(got) == pytest.approx(ref.nt_xent(None, big.astype(np.float64), 0.01).mean(), rel=1e-3)


def test_nt_xent_pairs_views_i_and_i_plus_n():
    # Views i and i + N identical, other examples orthogonal: loss -log(e^(1/t) / (e^(1/t) + 2 (N - 1) e^0)).
    n, tau = 3, 0.5
    base = np.eye(n)
    z = np.concatenate([base, base])
    expected = -np.log(np.exp(1 / tau) / (np.exp(1 / tau) + 2 * (n - 1)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl.nt_xent(None, z, temperature=tau)),
                               np.full(2 * n, expected), rtol=1e-12)
    shuffled = np.concatenate([base, base[[1, 2, 0]]])  # wrong pairing: higher loss
    assert float(kl.NTXent(temperature=tau)(None, shuffled)) > expected


@pytest.mark.parametrize("mining", MINING)
def test_triplet_loss_memory_is_quadratic_not_cubic(mining):
    # The graph of the loss holds no tensor with B^3 elements.
    b = 64
    largest = B.largest_intermediate(lambda y, e: kl.triplet_loss(y, e, mining=mining), ((b,), "int32"),
                                     ((b, 16), "float32"))
    assert b * b <= largest <= b * (b + 1), largest  # the distance matrix is there; nothing of B^3
