"""keraslosses: correct, numerically safe Keras 3 losses.

Every loss is a pure function on `keras.ops` returning per-sample values and
a registered `keras.losses.Loss` subclass whose `call` returns the same
per-sample values (the Keras base class reduces them).

    >>> import keraslosses
    >>> loss = keraslosses.Huber(delta=1.0)
    >>> round(float(loss([[0.0]], [[3.0]])), 4)
    2.5

Bad input never becomes a silent number. The rule, applied by every public
loss (function and class), in eager mode and inside `tf.function` / `fit`
(and `jax.jit`):

* NaN or +-inf anywhere in a float input gives a non-finite loss (NaN, or
  +-inf where the arithmetic says so), never a finite number, so
  `keras.callbacks.TerminateOnNaN` and the logs see it. Eager mode may raise
  a `ValueError` first where the input must lie in a range (probabilities,
  positive scales): NaN lies in none.
* An out-of-range class label is an error: a `ValueError` in eager mode; in a
  TensorFlow graph an assertion fails the step (`InvalidArgumentError`);
  where no runtime assertion exists (XLA, `jax.jit`) the sample's loss is
  NaN.
* A shape mismatch is a `ValueError` naming both shapes (losses that ignore
  `y_true`, such as `GeneratorLoss`, `NTXent` and `Entropy`, take any).
* An empty batch gives 0 with a zero gradient (a reduced loss; with
  `reduction="none"`, an empty array).

`tests/test_fuzz.py` checks the rule for every case of the loss registry
with Hypothesis (random batch sizes, dtypes, positions and kinds of bad
values, eager and compiled).

    >>> import math
    >>> math.isnan(float(keraslosses.RootMeanSquaredError()([[0.0, 0.0]], [[math.nan, 1.0]])))
    True
"""

import keras as keras_module

from keraslosses._base import LossFunctionWrapper
from keraslosses.classification import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
from keraslosses.games import (
    AdjustedCooperativeLoss,
    DiscriminatorLoss,
    GeneratorLoss,
    MatchingDiscriminatorLoss,
    StrictCooperativeLoss,
    adjusted_cooperative,
    cooperative_terms,
    discriminator_loss,
    generator_loss,
    matching_discriminator_loss,
    strict_cooperative,
)
from keraslosses.information import (
    CrossEntropy,
    Entropy,
    KLDivergence,
    cross_entropy,
    entropy,
    kl_divergence,
)
from keraslosses.margin import (
    CrammerSingerHinge,
    MultiLabelMargin,
    WestonWatkinsHinge,
    crammer_singer_hinge,
    multilabel_margin,
    weston_watkins_hinge,
)
from keraslosses.metric import (
    ActiveTripletFraction,
    ContrastiveEmbeddingLoss,
    ContrastiveLoss,
    CosineEmbedding,
    CosineSimilarity,
    NTXent,
    TripletLoss,
    TripletMarginLoss,
    active_triplet_fraction,
    contrastive,
    contrastive_embedding,
    cosine_embedding,
    cosine_similarity_loss,
    nt_xent,
    pairwise_distances,
    triplet_loss,
    triplet_margin,
)
from keraslosses.probabilistic import (
    GaussianKL,
    GaussianNLL,
    LaplaceMixtureNLL,
    LaplaceNLL,
    gaussian_kl,
    gaussian_nll,
    laplace_mixture_nll,
    laplace_nll,
)
from keraslosses.regression import (
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    Pinball,
    RootMeanSquaredError,
    SquaredLogError,
    huber,
    mean_absolute_error,
    mean_squared_error,
    pinball,
    root_mean_squared_error,
    squared_log_error,
)
from keraslosses.robust import AdaptiveRobustLoss, GeneralRobust, adaptive_nll, general_robust, log_partition

__version__ = "0.1.0"

__all__ = sorted(
    name for name, value in globals().items()
    if not name.startswith("_") and not isinstance(value, type(keras_module))
)
