"""Cooperative and adversarial game losses (Kamal & Bae's Autonets; GANs).

Cooperative games combine a classifier's loss L_C and a generator's
reconstruction loss L_G:

* strict cooperation:   L = L_C + L_G + abs(L_C - L_G) = 2 max(L_C, L_G)
* adjusted cooperation: L = w L_C + L_G

The paper writes both on the *batch* losses. Adjusted cooperation is linear,
so it commutes with the batch mean: `AdjustedCooperativeLoss.call` returns
per-sample values and the Keras base class reduces them as usual. Strict
cooperation is not linear (2 max of the means is not the mean of the
per-sample maxima), so `StrictCooperativeLoss` reduces L_C and L_G
separately (sample weights, masks and `reduction` applied to each) and
combines the two batch losses; with `reduction="none"` it returns the
per-sample strict loss. Both combinations are positively homogeneous, so the
`tf.distribute` per-replica scaling of the two terms carries through.

The adversarial losses are the minimax GAN losses of Goodfellow et al.
(2014) on discriminator outputs (logits by default), and the matching-aware
discriminator loss of GAN-CLS (Reed et al. 2016) that the non-cooperative
Autonets' conditional discriminators learn with.
"""

from __future__ import annotations

from keras import ops

from keraslosses._base import LossFunctionWrapper, register
from keraslosses._utils import (
    binary_log_probs,
    check_choice,
    check_same_shape,
    check_scalar_range,
    class_labels,
    constant,
    floats,
    magnitude,
    mean,
    propagate_nonfinite,
    reduce_all_but_batch,
)
from keraslosses.classification import (
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)


@propagate_nonfinite()
def strict_cooperative(classifier_loss, generator_loss):
    """Strict cooperation: L_C + L_G + abs(L_C - L_G) (= 2 max(L_C, L_G)).

    Args:
        classifier_loss: L_C, the classifier's batch loss (or any tensor).
        generator_loss: L_G, the generator's batch loss, broadcastable.

    Returns:
        The combined loss, elementwise.

    Example:
        >>> float(strict_cooperative(0.3, 0.5))
        1.0

    Reference: S. Kamal and S. Bae, "Cooperative and Non-cooperative
    Autonets" (Auto-classifier, strict cooperation).
    """
    lc, lg = floats(classifier_loss, generator_loss)
    return lc + lg + magnitude(lc - lg)


@propagate_nonfinite()
def adjusted_cooperative(classifier_loss, generator_loss, weight=1.0):
    """Adjusted cooperation: weight * L_C + L_G.

    Example:
        >>> round(float(adjusted_cooperative(0.3, 0.5, weight=2.0)), 4)
        1.1
    """
    lc, lg = floats(classifier_loss, generator_loss)
    return constant(weight, lc.dtype) * lc + lg


_CLASSIFICATION = ("crossentropy", "mse", "mae")
_RECONSTRUCTION = ("mse", "mae")


def _classification_term(labels, outputs, kind, from_logits):
    """Per-sample classification loss; labels sparse (B,)/(B, 1) or one-hot."""
    (outputs,) = floats(outputs)
    labels = ops.convert_to_tensor(labels)
    sparse = len(labels.shape) < len(outputs.shape) or (
        labels.shape[-1] == 1 and outputs.shape[-1] != 1
    )
    if kind == "crossentropy":
        fn = sparse_categorical_crossentropy if sparse else categorical_crossentropy
        return fn(labels, outputs, from_logits=from_logits)
    if sparse:
        labels, outputs = class_labels(labels, outputs)
        labels = ops.one_hot(labels, outputs.shape[-1], dtype=outputs.dtype)
    probs = ops.softmax(outputs, axis=-1) if from_logits else outputs
    labels = ops.cast(labels, probs.dtype)
    check_same_shape(labels, probs)
    diff = probs - labels
    return mean(ops.square(diff) if kind == "mse" else magnitude(diff), axis=-1)


def _reconstruction_term(images, reconstructions, kind):
    """Per-sample reconstruction error, the mean over every non-batch axis."""
    images, reconstructions = floats(images, reconstructions)
    check_same_shape(images, reconstructions, "images", "reconstructions")
    diff = reconstructions - images
    return reduce_all_but_batch(ops.square(diff) if kind == "mse" else magnitude(diff))


def cooperative_terms(y_true, y_pred, classification="crossentropy", reconstruction="mse", from_logits=False):
    """Per-sample (L_C, L_G) of a cooperative game.

    Args:
        y_true: `(labels, images)`: integer labels (B,) / (B, 1) or one-hot
            (B, K), and the images (B, ...) to reconstruct.
        y_pred: `(class_outputs, reconstructions)`: (B, K) probabilities (or
            logits with `from_logits=True`) and (B, ...) reconstructions.
        classification: "crossentropy", "mse" or "mae" (on probabilities
            against one-hot labels).
        reconstruction: "mse" or "mae", averaged over every non-batch axis.
        from_logits: whether the class outputs are logits.

    Returns:
        `(classifier_loss, generator_loss)`, each of shape (B,).
    """
    check_choice(classification, "classification", _CLASSIFICATION)
    check_choice(reconstruction, "reconstruction", _RECONSTRUCTION)
    labels, images = _pair(y_true, "y_true", "(labels, images)")
    outputs, reconstructions = _pair(y_pred, "y_pred", "(class_outputs, reconstructions)")
    return (
        _classification_term(labels, outputs, classification, from_logits),
        _reconstruction_term(images, reconstructions, reconstruction),
    )


def _pair(value, name, layout):
    if isinstance(value, dict) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"`{name}` must be a pair {layout}; received {type(value).__name__}.")
    return value


def _strict_per_sample(y_true, y_pred, **kwargs):
    return strict_cooperative(*cooperative_terms(y_true, y_pred, **kwargs))


def _adjusted_per_sample(y_true, y_pred, weight=1.0, **kwargs):
    return adjusted_cooperative(*cooperative_terms(y_true, y_pred, **kwargs), weight=weight)


def _term(y_true, y_pred, index=0, **kwargs):
    return cooperative_terms(y_true, y_pred, **kwargs)[index]


@register
class StrictCooperativeLoss(LossFunctionWrapper):
    """Strict cooperation L_C + L_G + abs(L_C - L_G) on the batch losses.

    `y_true = (labels, images)`, `y_pred = (class_outputs, reconstructions)`
    (see `cooperative_terms`). L_C and L_G are each reduced over the batch
    (sample weights, masks and `reduction` applied), then combined; so the
    result is 2 max(mean L_C, mean L_G), as in the paper.

    Args:
        classification: "crossentropy" (default), "mse" or "mae".
        reconstruction: "mse" (default) or "mae".
        from_logits: whether the class outputs are logits.

    Example:
        >>> loss = StrictCooperativeLoss(classification="mse")
        >>> round(float(loss(([0], [[0.0, 0.0]]), ([[1.0, 0.0]], [[0.5, 0.5]]))), 4)  # 2 max(0, 0.25) = 0.5
        0.5
    """

    def __init__(self, classification="crossentropy", reconstruction="mse", from_logits=False,
                 reduction="sum_over_batch_size", name="strict_cooperative", dtype=None):
        check_choice(classification, "classification", _CLASSIFICATION)
        check_choice(reconstruction, "reconstruction", _RECONSTRUCTION)
        super().__init__(_strict_per_sample, reduction=reduction, name=name, dtype=dtype,
                         classification=classification, reconstruction=reconstruction, from_logits=from_logits)
        # One reducer per term, so each batch loss gets exactly the base
        # class's weighting, masking and distribution scaling.
        self._terms = [
            LossFunctionWrapper(_term, reduction=reduction, name=f"{name}_{part}", dtype=dtype, index=i,
                                **self._fn_kwargs)
            for i, part in enumerate(("classifier", "generator"))
        ]

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.reduction in (None, "none"):
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        classifier_loss, generator_loss = (t(y_true, y_pred, sample_weight) for t in self._terms)
        return strict_cooperative(classifier_loss, generator_loss)


@register
class AdjustedCooperativeLoss(LossFunctionWrapper):
    """Adjusted cooperation weight * L_C + L_G (linear: reduced per sample).

    Same inputs and options as `StrictCooperativeLoss`, plus `weight`
    (the paper's lambda).

    Example:
        >>> loss = AdjustedCooperativeLoss(weight=2.0, classification="mse")
        >>> round(float(loss(([0], [[0.0, 0.0]]), ([[1.0, 0.0]], [[0.5, 0.5]]))), 4)  # 0.25
        0.25
    """

    def __init__(self, weight=1.0, classification="crossentropy", reconstruction="mse", from_logits=False,
                 reduction="sum_over_batch_size", name="adjusted_cooperative", dtype=None):
        check_choice(classification, "classification", _CLASSIFICATION)
        check_choice(reconstruction, "reconstruction", _RECONSTRUCTION)
        super().__init__(_adjusted_per_sample, reduction=reduction, name=name, dtype=dtype, weight=weight,
                         classification=classification, reconstruction=reconstruction, from_logits=from_logits)


# --------------------------------------------------------------------------
# Adversarial (GAN) losses
# --------------------------------------------------------------------------
@propagate_nonfinite()
def discriminator_loss(real_output, fake_output, from_logits=True):
    """The discriminator's minimax loss per sample (Goodfellow et al. 2014).

    .. math:: \\ell_D = -\\log D(x) - \\log(1 - D(G(z)))

    i.e. D maximises log D(x) + log(1 - D(G(z))). With logits this is
    softplus(-r) + softplus(f), exact for any logit.

    Args:
        real_output: D's outputs on real samples, shape (B, ..., 1).
        fake_output: D's outputs on generated samples, same shape.
        from_logits: whether the outputs are logits (else probabilities).

    Returns:
        Per-sample losses, shape (B, ...) (mean over the last axis).

    Example:
        >>> round(float(discriminator_loss([[0.0]], [[0.0]])[0]), 6)  # 2 log 2
        1.386294
    """
    real_output, fake_output = floats(real_output, fake_output)
    check_same_shape(real_output, fake_output, "real_output", "fake_output")
    log_d_real, _ = binary_log_probs(real_output, from_logits)
    _, log_one_minus_d_fake = binary_log_probs(fake_output, from_logits)
    return -mean(log_d_real + log_one_minus_d_fake, axis=-1)


@propagate_nonfinite()
def generator_loss(fake_output, from_logits=True, non_saturating=True):
    """The generator's GAN loss per sample.

    * non-saturating (default): -log D(G(z)), strong gradients early on;
    * saturating (the original minimax form): log(1 - D(G(z))), minimised.

    Args:
        fake_output: D's outputs on generated samples, shape (B, ..., 1).
        from_logits: whether the outputs are logits.
        non_saturating: which of the two forms.

    Returns:
        Per-sample losses, shape (B, ...).

    Example:
        >>> round(float(generator_loss([[0.0]])[0]), 6)  # log 2
        0.693147
        >>> round(float(generator_loss([[0.0]], non_saturating=False)[0]), 6)
        -0.693147
    """
    (fake_output,) = floats(fake_output)
    log_d, log_one_minus_d = binary_log_probs(fake_output, from_logits)
    return mean(-log_d if non_saturating else log_one_minus_d, axis=-1)


@propagate_nonfinite()
def matching_discriminator_loss(real_output, fake_output, mismatched_output, from_logits=True, mismatch_weight=0.5):
    """The matching-aware discriminator loss of GAN-CLS (Reed et al. 2016), per sample.

    .. math:: \\ell_D = -\\log D(x, y) - (1 - w)\\log(1 - D(x, \\hat y)) - w \\log(1 - D(x, \\bar y))

    A conditional discriminator D judges (input, label) pairs: real pairs
    carry the true label y, fake pairs the model's prediction y-hat, and
    mismatched pairs a wrong but real-looking label y-bar (weight w). The
    mismatched pairs make D learn *which* label belongs to an input, not only
    whether a label looks real; without them a label-producing player
    collapses to confident but arbitrary classes. With w = 1/2 (default) this
    is ½[discriminator_loss(real, fake) + discriminator_loss(real, mismatched)];
    w = 0 is `discriminator_loss(real, fake)`.

    Args:
        real_output: D's outputs on (input, true label) pairs, shape (B, ..., 1).
        fake_output: D's outputs on (input, predicted label) pairs, same shape.
        mismatched_output: D's outputs on (input, wrong label) pairs, same shape.
        from_logits: whether the outputs are logits (else probabilities).
        mismatch_weight: w in [0, 1], the share of the fake term given to the
            mismatched pairs.

    Returns:
        Per-sample losses, shape (B, ...) (mean over the last axis).

    Example:
        >>> round(float(matching_discriminator_loss([[0.0]], [[0.0]], [[0.0]])[0]), 6)  # 2 log 2
        1.386294

    Reference: S. Reed et al., "Generative Adversarial Text to Image
    Synthesis", ICML 2016 (GAN-CLS).
    """
    check_scalar_range(mismatch_weight, "mismatch_weight", 0.0, 1.0)
    real_output, fake_output, mismatched_output = floats(real_output, fake_output, mismatched_output)
    check_same_shape(real_output, fake_output, "real_output", "fake_output")
    check_same_shape(real_output, mismatched_output, "real_output", "mismatched_output")
    log_d_real, _ = binary_log_probs(real_output, from_logits)
    _, log_not_fake = binary_log_probs(fake_output, from_logits)
    _, log_not_mismatched = binary_log_probs(mismatched_output, from_logits)
    w = constant(mismatch_weight, log_d_real.dtype)
    return -mean(log_d_real + (1 - w) * log_not_fake + w * log_not_mismatched, axis=-1)


def _matching_discriminator_loss(y_true, y_pred, **kwargs):
    (y_pred,) = floats(y_pred)
    if len(y_pred.shape) < 2 or y_pred.shape[1] != 2:
        raise ValueError("`y_pred` must stack the fake and mismatched outputs on axis 1, shape (B, 2, ...); "
                         f"received shape {tuple(y_pred.shape)}.")
    return matching_discriminator_loss(y_true, y_pred[:, 0], y_pred[:, 1], **kwargs)


def _generator_loss(y_true, y_pred, **kwargs):
    return generator_loss(y_pred, **kwargs)


@register
class DiscriminatorLoss(LossFunctionWrapper):
    """The discriminator's minimax loss: call it as `loss(real_output,
    fake_output)`; see `discriminator_loss`.

    Example:
        >>> round(float(DiscriminatorLoss()([[0.0]], [[0.0]])), 4)  # 2 log 2
        1.3863
    """

    def __init__(self, from_logits=True, reduction="sum_over_batch_size", name="discriminator_loss", dtype=None):
        super().__init__(discriminator_loss, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits)


@register
class GeneratorLoss(LossFunctionWrapper):
    """The generator's GAN loss: `loss(y_true, fake_output)` with y_true
    ignored (pass zeros); see `generator_loss`.

    Example:
        >>> round(float(GeneratorLoss()([[0.0]], [[0.0]])), 4)  # log 2
        0.6931
    """

    ignores_y_true = True

    def __init__(self, from_logits=True, non_saturating=True, reduction="sum_over_batch_size",
                 name="generator_loss", dtype=None):
        super().__init__(_generator_loss, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, non_saturating=non_saturating)


@register
class MatchingDiscriminatorLoss(LossFunctionWrapper):
    """The matching-aware discriminator loss of GAN-CLS: call it as
    `loss(real_output, stack([fake_output, mismatched_output], axis=1))`;
    see `matching_discriminator_loss`.

    Example:
        >>> round(float(MatchingDiscriminatorLoss()([[0.0]], [[[0.0], [0.0]]])), 4)  # 2 log 2
        1.3863
    """

    def __init__(self, from_logits=True, mismatch_weight=0.5, reduction="sum_over_batch_size",
                 name="matching_discriminator_loss", dtype=None):
        check_scalar_range(mismatch_weight, "mismatch_weight", 0.0, 1.0)
        super().__init__(_matching_discriminator_loss, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, mismatch_weight=mismatch_weight)
