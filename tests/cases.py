"""The test registry: one `Case` per public loss configuration.

The generic battery in `test_battery.py` iterates `CASES`; a public `Loss`
class without a case makes `test_every_public_loss_has_a_case` fail.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import keras
import numpy as np

import keraslosses as kl
from keraslosses.games import _matching_discriminator_loss
from keraslosses.metric import _triplet_loss_from_stacked
from keraslosses.probabilistic import _gaussian_kl_loss
from tests import reference as ref

B = 6  # batch size of the generic inputs


@dataclasses.dataclass
class Case:
    id: str
    cls: type
    kwargs: dict
    fn: Callable  # fn(y_true, y_pred, **kwargs) -> per-sample values
    make: Callable  # make(rng, batch) -> (y_true, y_pred) as NumPy (labels int)
    reference: Callable  # float64 per-sample reference(y_true, y_pred, **kwargs)
    twin: Callable | None = None  # Keras built-in: (y_true, y_pred) -> per-sample
    reduced: Callable | None = None  # (y_true, y_pred, weights, reduction) -> reduced reference
    int_labels: bool = False
    class_labels: bool = False  # y_true's (first) leaf holds class indices into y_pred's (first) leaf's last axis
    activation: str | None = None  # output activation for the fit test
    special: tuple = ()  # extra (y_true, y_pred) points for the gradient test
    kinks: tuple = ()  # non-differentiable points: the gradient must only be finite
    bad: tuple = ()  # (y_true, y_pred, kwargs, message regex)

    def loss(self, **extra):
        return self.cls(**self.kwargs, **extra)

    def __repr__(self):
        return self.id


def _twin(keras_cls, **kw):
    def per_sample(t, p):
        return keras.ops.convert_to_numpy(keras_cls(reduction=None, **kw)(t, p))

    return per_sample


# input makers ---------------------------------------------------------------------
def dense(d=4, low=None, high=None):
    def make(rng, b=B):
        if low is not None:
            return rng.uniform(low, high, (b, d)), rng.uniform(low, high, (b, d))
        return rng.normal(size=(b, d)), rng.normal(size=(b, d))

    return make


def params(d, parts):
    def make(rng, b=B):
        return rng.normal(size=(b, d)), rng.normal(size=(b, parts * d))

    return make


def sparse(k=5, probs=False):
    def make(rng, b=B):
        labels = rng.integers(0, k, size=(b,))
        logits = rng.normal(size=(b, k)) * 2
        if probs:
            e = np.exp(logits)
            return labels, e / e.sum(-1, keepdims=True)
        return labels, logits

    return make


def onehot(k=5, probs=False, soft=False):
    def make(rng, b=B):
        labels, pred = sparse(k, probs)(rng, b)
        if soft:
            t = rng.dirichlet(np.ones(k), size=b)
        else:
            t = np.eye(k)[labels]
        return t, pred

    return make


def binary(d=3, probs=False, soft=False):
    def make(rng, b=B):
        t = rng.uniform(size=(b, d)) if soft else rng.integers(0, 2, size=(b, d)).astype(float)
        logits = rng.normal(size=(b, d)) * 2
        return t, (1 / (1 + np.exp(-logits)) if probs else logits)

    return make


def distributions(k=5, zeros=False):
    def make(rng, b=B):
        p = rng.dirichlet(np.ones(k), size=b)
        if zeros:  # exact zeros in p exercise 0 log 0 = 0
            p[:, 0] = 0.0
            p /= p.sum(-1, keepdims=True)
        return p, rng.dirichlet(np.ones(k), size=b)

    return make


def multihot(k=5):
    def make(rng, b=B):
        t = rng.integers(0, 2, size=(b, k)).astype(float)
        t[:1] = 1.0  # a row without negatives: no constraint
        t[1:2] = 0.0  # a row without positives
        return t, rng.normal(size=(b, k))

    return make


def game(k=4, image=(3, 3, 1)):
    def make(rng, b=B):
        labels = rng.integers(0, k, size=(b,))
        images = rng.uniform(size=(b, *image))
        probs = rng.dirichlet(np.ones(k), size=b)
        recon = rng.uniform(size=(b, *image))
        return (labels, images), (probs, recon)

    return make


def gan_pair(d=1):
    def make(rng, b=B):
        return rng.normal(size=(b, d)) * 3, rng.normal(size=(b, d)) * 3

    return make


# reduced references for the losses that are not a plain reduction ---------------------
def _rmse_reduced(t, p, w, reduction):
    return np.sqrt(ref.reduce(ref.mse(t, p), w, reduction))


def _strict_reduced(t, p, w, reduction, **kw):
    lc, lg = (ref.reduce(term, w, reduction) for term in ref.cooperative_terms(t, p, **kw))
    return lc + lg + np.abs(lc - lg)


def _strict_reference(t, p, **kw):
    lc, lg = ref.cooperative_terms(t, p, **kw)
    return lc + lg + np.abs(lc - lg)


def _adjusted_reference(t, p, weight=1.0, **kw):
    lc, lg = ref.cooperative_terms(t, p, **kw)
    return weight * lc + lg


def _onehot_twin(keras_cls, k, **kw):
    def per_sample(t, p):
        return _twin(keras_cls, **kw)(np.eye(k)[np.asarray(t)], p)

    return per_sample


def _discriminator_twin(real, fake):
    # NumPy first: the logits may be device tensors (torch on a GPU).
    real, fake = keras.ops.convert_to_numpy(real), keras.ops.convert_to_numpy(fake)
    bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)
    return keras.ops.convert_to_numpy(bce(np.ones_like(real), real) + bce(np.zeros_like(fake), fake))


def _generator_twin(t, fake):
    fake = keras.ops.convert_to_numpy(fake)
    bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)
    return keras.ops.convert_to_numpy(bce(np.ones_like(fake), fake))


SHAPE = r"same shape|must have the shape|shape"
BIG = 1e4

CASES = [
    Case("mae", kl.MeanAbsoluteError, {}, kl.mean_absolute_error, dense(), ref.mae,
         twin=_twin(keras.losses.MeanAbsoluteError),
         special=((np.zeros((2, 3)), np.zeros((2, 3))),),
         bad=((np.zeros((2, 3)), np.zeros((2, 4)), {}, SHAPE),)),
    Case("mse", kl.MeanSquaredError, {}, kl.mean_squared_error, dense(), ref.mse,
         twin=_twin(keras.losses.MeanSquaredError),
         bad=((np.zeros((2, 3)), np.zeros((3, 3)), {}, SHAPE),)),
    Case("rmse", kl.RootMeanSquaredError, {}, kl.root_mean_squared_error, dense(), ref.rmse_per_sample,
         reduced=_rmse_reduced,
         special=((np.ones((2, 3)), np.ones((2, 3))),)),
    Case("huber", kl.Huber, {"delta": 0.7}, kl.huber, dense(), ref.huber,
         twin=_twin(keras.losses.Huber, delta=0.7),
         special=((np.zeros((1, 2)), np.array([[0.0, 0.7 + 1e-3]])),),
         bad=((np.zeros((2, 3)), np.zeros((2, 3)), {"delta": -1.0}, "delta"),)),
    Case("squared_log_error", kl.SquaredLogError, {}, kl.squared_log_error, dense(low=0.0, high=3.0),
         ref.squared_log_error, twin=_twin(keras.losses.MeanSquaredLogarithmicError),
         activation="softplus",
         bad=((np.ones((2, 2)), -2 * np.ones((2, 2)), {}, r"y_pred \+ offset"),)),
    Case("squared_log_ratio", kl.SquaredLogError, {"offset": 0.0}, kl.squared_log_error,
         dense(low=0.1, high=3.0), ref.squared_log_error, activation="softplus",
         bad=((np.ones((2, 2)), np.zeros((2, 2)), {"offset": 0.0}, r"y_pred \+ offset"),)),
    Case("pinball", kl.Pinball, {"tau": 0.8}, kl.pinball, dense(), ref.pinball,
         bad=((np.zeros((2, 3)), np.zeros((2, 3)), {"tau": 1.5}, "tau"),)),
    Case("general_robust", kl.GeneralRobust, {"alpha": 0.5, "scale": 0.7}, kl.general_robust, dense(),
         ref.general_robust,
         special=((np.zeros((2, 3)), np.zeros((2, 3))),),
         bad=((np.zeros((2, 3)), np.zeros((2, 3)), {"scale": 0.0}, "scale"),)),
    Case("general_robust_cauchy", kl.GeneralRobust, {"alpha": 0.0}, kl.general_robust, dense(), ref.general_robust),
    Case("general_robust_welsch", kl.GeneralRobust, {"alpha": -math.inf, "scale": 2.0}, kl.general_robust,
         dense(), ref.general_robust),
    Case("gaussian_nll", kl.GaussianNLL, {}, kl.gaussian_nll, params(3, 2), ref.gaussian_nll,
         bad=((np.zeros((2, 3)), np.zeros((2, 5)), {}, "y_pred"),)),
    Case("laplace_nll", kl.LaplaceNLL, {}, kl.laplace_nll, params(3, 2), ref.laplace_nll,
         bad=((np.zeros((2, 3)), np.zeros((2, 3)), {}, "y_pred"),)),
    Case("laplace_mixture_nll", kl.LaplaceMixtureNLL, {}, kl.laplace_mixture_nll, params(1, 9),
         ref.laplace_mixture_nll,
         special=((np.array([[0.0]]), np.array([[0.0, 50.0, -50.0, 0.0, 30.0, 0.0, 0.0, -3.0, 2.0]])),),
         bad=((np.zeros((2, 1)), np.zeros((2, 7)), {}, "3K"),)),
    Case("gaussian_kl", kl.GaussianKL, {}, _gaussian_kl_loss,
         params(3, 2), ref.gaussian_kl_from_pred,
         bad=((np.zeros((2, 1)), np.zeros((2, 5)), {}, "even"),)),
    Case("bce_logits", kl.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1},
         kl.binary_crossentropy, binary(soft=True), ref.bce,
         twin=_twin(keras.losses.BinaryCrossentropy, from_logits=True, label_smoothing=0.1),
         special=((np.array([[1.0, 0.0]]), np.array([[-BIG, BIG]])),),
         bad=((np.array([[2.0]]), np.array([[0.0]]), {"from_logits": True}, "y_true"),
              (np.zeros((2, 2)), np.zeros((2, 2)), {"label_smoothing": 2.0}, "label_smoothing"))),
    Case("bce_probs", kl.BinaryCrossentropy, {}, kl.binary_crossentropy, binary(probs=True), ref.bce,
         twin=_twin(keras.losses.BinaryCrossentropy), activation="sigmoid",
         bad=((np.array([[1.0]]), np.array([[1.5]]), {}, r"y_pred.*probabilities"),)),
    Case("cce_logits", kl.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.2},
         kl.categorical_crossentropy, onehot(soft=True), ref.cce,
         twin=_twin(keras.losses.CategoricalCrossentropy, from_logits=True, label_smoothing=0.2),
         special=((np.array([[1.0, 0.0, 0.0]]), np.array([[-BIG, BIG, 0.0]])),),
         bad=((np.eye(3)[:2], np.zeros((2, 4)), {"from_logits": True}, SHAPE),)),
    Case("cce_probs", kl.CategoricalCrossentropy, {}, kl.categorical_crossentropy, onehot(probs=True), ref.cce,
         twin=_twin(keras.losses.CategoricalCrossentropy), activation="softmax",
         bad=((np.eye(2), np.array([[-0.5, 1.5], [0.5, 0.5]]), {}, r"y_pred.*-0.5"),)),
    Case("scce_logits", kl.SparseCategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.1},
         kl.sparse_categorical_crossentropy, sparse(), ref.scce, int_labels=True, class_labels=True,
         special=((np.array([0, 1]), np.array([[-BIG, BIG, 0.0], [0.0, BIG, -BIG]])),),
         bad=((np.array([0, 5]), np.zeros((2, 5)), {"from_logits": True}, r"\[0, 5\).*5"),
              (np.array([0, 1, 2]), np.zeros((2, 5)), {"from_logits": True}, "y_true"))),
    Case("scce_probs", kl.SparseCategoricalCrossentropy, {}, kl.sparse_categorical_crossentropy,
         sparse(probs=True), ref.scce, twin=_twin(keras.losses.SparseCategoricalCrossentropy),
         int_labels=True, class_labels=True, activation="softmax",
         bad=((np.array([-1, 0]), np.full((2, 3), 1 / 3), {}, "-1"),)),
    Case("binary_focal", kl.BinaryFocalCrossentropy, {"alpha": 0.3, "gamma": 1.5, "from_logits": True},
         kl.binary_focal_crossentropy, binary(), ref.binary_focal,
         twin=_twin(keras.losses.BinaryFocalCrossentropy, apply_class_balancing=True, alpha=0.3, gamma=1.5,
                    from_logits=True),
         special=((np.array([[1.0, 0.0]]), np.array([[-BIG, BIG]])),),
         bad=((np.zeros((1, 1)), np.zeros((1, 1)), {"gamma": -1.0}, "gamma"),)),
    Case("categorical_focal", kl.CategoricalFocalCrossentropy, {"alpha": 0.4, "gamma": 2.0, "from_logits": True},
         kl.categorical_focal_crossentropy, onehot(), ref.categorical_focal,
         twin=_twin(keras.losses.CategoricalFocalCrossentropy, alpha=0.4, gamma=2.0, from_logits=True),
         special=((np.array([[1.0, 0.0, 0.0]]), np.array([[-BIG, BIG, 0.0]])),)),
    Case("categorical_focal_probs", kl.CategoricalFocalCrossentropy, {}, kl.categorical_focal_crossentropy,
         onehot(probs=True), ref.categorical_focal, activation="softmax",
         twin=_twin(keras.losses.CategoricalFocalCrossentropy)),
    Case("kl_divergence", kl.KLDivergence, {}, kl.kl_divergence, distributions(zeros=True), ref.kl,
         activation="softmax",
         bad=((np.array([[0.5, 0.5]]), np.array([[-0.1, 1.1]]), {}, "y_pred"),)),
    Case("kl_divergence_logits", kl.KLDivergence, {"from_logits": True}, kl.kl_divergence,
         lambda rng, b=B: (distributions()(rng, b)[0], rng.normal(size=(b, 5))), ref.kl),
    Case("entropy_bits", kl.Entropy, {"base": 2.0}, lambda t, p, **kw: kl.entropy(p, **kw),
         distributions(zeros=True), lambda t, p, base: ref.entropy(p, base), activation="softmax",
         bad=((np.zeros((1, 2)), np.array([[0.5, 0.5]]), {"base": 1.0}, "base"),)),
    Case("cross_entropy_bits", kl.CrossEntropy, {"base": 2.0}, kl.cross_entropy, distributions(zeros=True),
         ref.cross_entropy, activation="softmax"),
    Case("weston_watkins", kl.WestonWatkinsHinge, {"margin": 1.0}, kl.weston_watkins_hinge, sparse(),
         ref.weston_watkins, int_labels=True, class_labels=True,
         bad=((np.array([0, 7]), np.zeros((2, 3)), {}, "7"),)),
    Case("crammer_singer", kl.CrammerSingerHinge, {"margin": 0.5}, kl.crammer_singer_hinge, sparse(),
         ref.crammer_singer, int_labels=True, class_labels=True,
         twin=None,  # Keras' CategoricalHinge is compared on positive scores in test_values
         bad=((np.array([0]), np.zeros((1, 1)), {}, "K >= 2"),)),
    Case("multilabel_margin", kl.MultiLabelMargin, {"margin": 1.0}, kl.multilabel_margin, multihot(),
         ref.multilabel_margin,
         bad=((np.array([[1.0, 3.0]]), np.zeros((1, 2)), {}, "y_true"),)),
    Case("strict_cooperative", kl.StrictCooperativeLoss, {"classification": "crossentropy", "reconstruction": "mse"},
         lambda t, p, **kw: kl.strict_cooperative(*kl.cooperative_terms(t, p, **kw)), game(),
         _strict_reference, class_labels=True,
         reduced=lambda t, p, w, r: _strict_reduced(t, p, w, r, classification="crossentropy",
                                                                        reconstruction="mse"),
         bad=(((np.zeros(2), np.zeros((2, 2))), (np.zeros((2, 3)), np.zeros((2, 2))),
               {"classification": "hinge"}, "classification"),)),
    Case("strict_cooperative_mae", kl.StrictCooperativeLoss, {"classification": "mae", "reconstruction": "mae"},
         lambda t, p, **kw: kl.strict_cooperative(*kl.cooperative_terms(t, p, **kw)), game(),
         _strict_reference, class_labels=True,
         reduced=lambda t, p, w, r: _strict_reduced(t, p, w, r, classification="mae",
                                                                        reconstruction="mae")),
    Case("adjusted_cooperative", kl.AdjustedCooperativeLoss,
         {"weight": 0.5, "classification": "mse", "reconstruction": "mae"},
         lambda t, p, weight, **kw: kl.adjusted_cooperative(*kl.cooperative_terms(t, p, **kw), weight=weight),
         game(), _adjusted_reference, class_labels=True,
         bad=(((np.zeros(2), np.zeros((2, 2))), (np.zeros((2, 3)), np.zeros((2, 2))),
               {"reconstruction": "l3"}, "reconstruction"),)),
    Case("discriminator", kl.DiscriminatorLoss, {"from_logits": True}, kl.discriminator_loss, gan_pair(),
         ref.discriminator, twin=_discriminator_twin,
         special=((np.array([[BIG], [-BIG]]), np.array([[-BIG], [BIG]])),),
         bad=((np.zeros((2, 1)), np.zeros((3, 1)), {}, "real_output"),)),
    Case("matching_discriminator", kl.MatchingDiscriminatorLoss, {"from_logits": True, "mismatch_weight": 0.3},
         _matching_discriminator_loss,
         lambda rng, b=B: (rng.normal(size=(b, 1)) * 3, rng.normal(size=(b, 2, 1)) * 3), ref.matching_discriminator,
         special=((np.array([[BIG], [-BIG]]), np.array([[[-BIG], [BIG]], [[BIG], [-BIG]]])),),
         bad=((np.zeros((2, 1)), np.zeros((2, 3, 1)), {}, "y_pred"),
              (np.zeros((2, 1)), np.zeros((2, 2, 1)), {"mismatch_weight": 1.5}, "mismatch_weight"))),
    Case("generator_non_saturating", kl.GeneratorLoss, {"from_logits": True, "non_saturating": True},
         lambda t, p, **kw: kl.generator_loss(p, **kw), gan_pair(), ref.generator, twin=_generator_twin,
         special=((np.zeros((2, 1)), np.array([[-BIG], [BIG]])),)),
    Case("generator_saturating", kl.GeneratorLoss, {"from_logits": False, "non_saturating": False},
         lambda t, p, **kw: kl.generator_loss(p, **kw),
         lambda rng, b=B: (np.zeros((b, 1)), rng.uniform(0.05, 0.95, (b, 1))), ref.generator, activation="sigmoid"),
]



# metric learning ----------------------------------------------------------------------
def labelled(k=3, d=4):
    def make(rng, b=B):
        return rng.integers(0, k, size=(b,)), rng.normal(size=(b, d))

    return make


def stacked(n, d=3, labels=None):
    def make(rng, b=B):
        t = rng.integers(0, 2, size=(b,)).astype(float) if labels == "binary" else np.zeros((b,))
        if labels == "signed":
            t = rng.choice([-1.0, 1.0], size=(b,))
        return t, rng.normal(size=(b, n, d))

    return make


def _triplet_case(mining, squared=True, distance="euclidean", margin=0.5):
    kwargs = {"margin": margin, "mining": mining, "squared": squared, "distance": distance}
    return Case(f"triplet_{mining}_{distance}{'_squared' if squared and distance == 'euclidean' else ''}",
                kl.TripletLoss, kwargs, kl.triplet_loss, labelled(),
                lambda t, p, margin, mining, squared, distance: ref.triplet(t, p, margin, mining, squared, distance),
                int_labels=True,  # identical embeddings: d = 0 is a kink of the unsquared distance
                kinks=((np.array([0, 0, 1, 1]), np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])),),
                bad=((np.array([0, 1]), np.zeros((2, 3)), {"mining": "hardest"}, "mining"),
                     (np.array([0, 1, 2]), np.zeros((2, 3)), {}, "y_true"),
                     (np.array([0, 1]), np.zeros((2, 3)), {"distance": "manhattan"}, "distance")))


def _cosine_twin(t, p):
    return 1.0 + _twin(keras.losses.CosineSimilarity)(t, p)


CASES += [
    Case("triplet_margin", kl.TripletMarginLoss, {"margin": 0.8, "squared": False, "distance": "euclidean"},
         _triplet_loss_from_stacked,
         stacked(3), lambda t, p, margin, squared, distance: ref.triplet_margin_stacked(t, p, margin, squared,
                                                                                      distance),
         special=((np.zeros((1,)), np.array([[[1.0, 1.0], [1.0, 1.0], [2.0, 1.0]]])),),
         bad=((np.zeros((2,)), np.zeros((2, 2, 3)), {}, r"\(B, 3, D\)"),)),
    _triplet_case("batch_all"),
    _triplet_case("batch_all", squared=False),
    _triplet_case("batch_hard", squared=False, margin=1.0),
    _triplet_case("semi_hard"),
    _triplet_case("semi_hard", distance="cosine", margin=0.2),
    Case("contrastive", kl.ContrastiveLoss, {"margin": 1.5},
         kl.contrastive, lambda rng, b=B: (rng.integers(0, 2, (b, 1)).astype(float), rng.uniform(0, 2, (b, 1))),
         ref.contrastive, activation="softplus",
         bad=((np.array([[2.0]]), np.array([[1.0]]), {}, "y_true"),)),
    Case("contrastive_embedding", kl.ContrastiveEmbeddingLoss, {"margin": 2.0, "distance": "euclidean"},
         kl.contrastive_embedding, stacked(2, labels="binary"),
         lambda t, p, margin, distance: ref.contrastive_embedding(t, p, margin, distance),
         kinks=((np.array([1.0]), np.array([[[1.0, 2.0], [1.0, 2.0]]])),),
         bad=((np.zeros((2,)), np.zeros((2, 3, 3)), {}, r"\(B, 2, D\)"),)),
    Case("cosine_similarity", kl.CosineSimilarity, {"axis": -1}, kl.cosine_similarity_loss, dense(),
         ref.cosine_similarity_loss, twin=_cosine_twin),
    Case("cosine_embedding", kl.CosineEmbedding, {"margin": 0.1}, kl.cosine_embedding, stacked(2, labels="signed"),
         ref.cosine_embedding),
    Case("nt_xent", kl.NTXent, {"temperature": 0.3}, kl.nt_xent,
         lambda rng, b=B: (np.zeros((b + b % 2,)), rng.normal(size=(b + b % 2, 4))),  # 2N views
         ref.nt_xent,
         bad=((np.zeros((3,)), np.zeros((3, 2)), {}, "2N"),
              (np.zeros((2,)), np.zeros((2, 2)), {"temperature": 0.0}, "temperature"))),
]

BY_ID = {case.id: case for case in CASES}
