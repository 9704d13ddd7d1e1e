"""Network builders for every model of the zoo, for any image shape.

Each builder returns a functional `keras.Model` (a "player"). The sizes:

* "small" (default): two stride-2 convolutions (16, 32 filters), fast on a
  CPU; about 30k-60k parameters per network at 28x28.
* "large": three stride-2 stages of two convolutions (32, 64, 128 filters)
  and a 256-unit hidden layer.
* "paper": the paper-grade size: three stages of two 3x3 convolutions (32,
  64, 128 filters) with BatchNorm, max-pooling between stages, global
  average pooling and dropout 0.3, then the 256-unit hidden layer (322k
  trainable parameters as a classifier at 28x28); encoders read their code
  from the spatial map instead (see `encoder`); the decoder mirrors it with
  BatchNorm. Discriminators get the same
  convolutions *without* BatchNorm (LeakyReLU, dropout): inside a GAN's
  discriminator, BatchNorm couples the real and fake samples of a batch and
  lets D judge batch statistics instead of samples. The image-label D of
  SE(nc) and AC(nc) v2, which reads only real images, may take the
  classifier's trunk instead (`image_label_discriminator`'s `batch_norm`).
* "wide": the "paper" networks at twice the width (64, 128, 256 filters, a
  512-unit hidden layer: 1.28M trainable parameters as a classifier at
  28x28, 4 times the "paper" size's, and 2.9 times its training time on a
  2-core CPU in float32). On a Fashion-MNIST subset it raised the CNN's
  validation accuracy by 0.006-0.008 in both seeds tried
  (`benchmarks/results/recipe_width.json`); work for a GPU or a bfloat16 CPU.

Images of any height/width work (28x28x1, 32x32x3, scikit-learn's 8x8x1):
the encoder downsamples while the feature map stays at least 2x2, and the
decoder upsamples from ceil(H / 2^n) and crops to the exact shape.

Mixed precision: layers take the dtype policy in force when they are built,
which is the model's own (`GameModel` builds its players inside
`models.policy_scope`), except the last layer of every
network that produces probabilities, logits or pixels, which computes in
float32 (`dtype="float32"`), so losses never see 16-bit outputs.
"""

from __future__ import annotations

import math

import keras
from keras import layers

SIZES = {
    "small": {"filters": (16, 32), "convs_per_stage": 1, "hidden": 64},
    "large": {"filters": (32, 64, 128), "convs_per_stage": 2, "hidden": 256},
    "paper": {"filters": (32, 64, 128), "convs_per_stage": 2, "hidden": 256, "normalize": True, "dropout": 0.3,
              "spatial_channels": 32},
}
SIZES["wide"] = {**SIZES["paper"], "filters": (64, 128, 256), "hidden": 512}


def _spec(size):
    if size not in SIZES:
        raise ValueError(f"`size` must be one of {sorted(SIZES)}; received size={size!r}.")
    return SIZES[size]


def _stages(input_shape, filters):
    """How many stride-2 stages fit while the feature map stays >= 2x2."""
    height, width = input_shape[:2]
    n = len(filters)
    while n > 1 and math.ceil(min(height, width) / 2**n) < 2:
        n -= 1
    return n


def _batch_norm():
    # Momentum 0.9 (Keras: 0.99): the moving statistics that inference uses
    # settle within tens of steps, not hundreds (short runs, small datasets).
    return layers.BatchNormalization(momentum=0.9)


def _paper_trunk(inputs, spec, filters, discriminator, spatial):
    """The "paper" stages: two 3x3 convolutions with BatchNorm (LeakyReLU and
    no BatchNorm in a discriminator), max-pooling between stages; then
    global average pooling and dropout, or, `spatial`, a 1x1 convolution to
    `spatial_channels` flattened (no dropout)."""
    x = inputs
    for stage, f in enumerate(filters):
        if stage:
            x = layers.MaxPooling2D(2, padding="same")(x)
        for _ in range(spec["convs_per_stage"]):
            x = layers.Conv2D(f, 3, padding="same", use_bias=discriminator)(x)
            x = layers.LeakyReLU(0.2)(x) if discriminator else layers.ReLU()(_batch_norm()(x))
    if spatial:
        return layers.Flatten()(layers.Conv2D(spec["spatial_channels"], 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Dropout(spec["dropout"])(x)


def conv_trunk(input_shape, size="small", name="trunk", discriminator=False, spatial=False):
    """Convolutional feature extractor: image -> flat features. `spatial`
    (the "paper" size only) keeps where the features are, for codes that
    must be decoded back to images (see `encoder`)."""
    spec = _spec(size)
    inputs = keras.Input(tuple(input_shape), name="image")
    filters = spec["filters"][: _stages(input_shape, spec["filters"])]
    if spec.get("normalize"):
        return keras.Model(inputs, _paper_trunk(inputs, spec, filters, discriminator, spatial), name=name)
    x = inputs
    for f in filters:
        for i in range(spec["convs_per_stage"]):
            x = layers.Conv2D(f, 3, strides=2 if i == 0 else 1, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, x, name=name)


def encoder(input_shape, latent_dim, size="small", name="encoder"):
    """p: image -> latent code z (linear output, float32).

    At the "paper" size the code is read from the spatial feature map (a 1x1
    convolution to 32 channels, flattened), not from its global average
    with dropout as in the classifier: averaging away where the strokes are
    left the decoder little to rebuild them from. On an MNIST subset (4
    epochs of SE(co), validation split; `python scripts/bench_encoder.py`)
    the reconstruction MSE fell from 0.062 to 0.032 and the separator's
    accuracy rose from 0.941 to 0.965; with dropout 0.3 kept on the flattened
    features they were 0.039 and 0.851."""
    trunk = conv_trunk(input_shape, size, name=f"{name}_trunk", spatial=True)
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(trunk.output)
    z = layers.Dense(latent_dim, dtype="float32", name="latent")(x)
    return keras.Model(trunk.input, z, name=name)


def classifier(input_shape, num_classes, size="small", name="classifier"):
    """C: image -> class probabilities (softmax in float32)."""
    trunk = conv_trunk(input_shape, size, name=f"{name}_trunk")
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(trunk.output)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    probs = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(trunk.input, probs, name=name)


def separator(latent_dim, num_classes, size="small", name="separator"):
    """s: latent code -> class probabilities."""
    inputs = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(inputs)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    probs = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probs, name=name)


def decoder(latent_dim, output_shape, size="small", name="decoder"):
    """q / G: code (latent or class vector) -> image in [0, 1] (sigmoid, float32)."""
    spec = _spec(size)
    height, width, channels = output_shape
    filters = spec["filters"][: _stages(output_shape, spec["filters"])]
    n = len(filters)
    h0, w0 = math.ceil(height / 2**n), math.ceil(width / 2**n)
    normalize = spec.get("normalize", False)

    def activate(t):  # BatchNorm before the ReLU in the "paper" size
        return layers.ReLU()(_batch_norm()(t) if normalize else t)

    inputs = keras.Input((latent_dim,), name="code")
    x = activate(layers.Dense(spec["hidden"], use_bias=not normalize)(inputs))
    x = activate(layers.Dense(h0 * w0 * filters[-1], use_bias=not normalize)(x))
    x = layers.Reshape((h0, w0, filters[-1]))(x)
    for f in reversed(filters[:-1]):
        x = activate(layers.Conv2DTranspose(f, 3, strides=2, padding="same", use_bias=not normalize)(x))
        for _ in range(spec["convs_per_stage"] - 1):
            x = activate(layers.Conv2D(f, 3, padding="same", use_bias=not normalize)(x))
    x = layers.Conv2DTranspose(channels, 3, strides=2, padding="same", dtype="float32")(x)
    extra_h, extra_w = h0 * 2**n - height, w0 * 2**n - width
    if extra_h or extra_w:
        x = layers.Cropping2D(((0, extra_h), (0, extra_w)), dtype="float32")(x)
    image = layers.Activation("sigmoid", dtype="float32", name="pixels")(x)
    return keras.Model(inputs, image, name=name)


def vector_discriminator(input_dim, size="small", name="discriminator"):
    """D on vectors (labels, codes, or their concatenation) -> one logit."""
    inputs = keras.Input((input_dim,), name="vector")
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(inputs)
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(inputs, logit, name=name)


def image_discriminator(input_shape, size="small", name="discriminator"):
    """D on images -> one logit."""
    trunk = conv_trunk(input_shape, size, name=f"{name}_trunk", discriminator=True)
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(trunk.output)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(trunk.input, logit, name=name)


def image_label_discriminator(input_shape, num_classes, size="small", name="discriminator", batch_norm=False):
    """D on (image, label) pairs, as per-label logits: image -> l(x), shape
    (K,), and D(x, v) = <v, l(x)> (`models.core.conditional`).

    `batch_norm` (the "paper" size; the others have no normalisation): the
    classifier's trunk, BatchNorm and ReLU, instead of a discriminator's.
    Safe here, unlike in an image discriminator: l(x) is computed once per
    batch from the real images alone, and the real and fake pairs differ
    only in the label vector v applied afterwards, so the batch statistics
    carry nothing that tells them apart."""
    trunk = conv_trunk(input_shape, size, name=f"{name}_trunk", discriminator=not batch_norm)
    x = layers.Dense(_spec(size)["hidden"], activation="relu")(trunk.output)
    logits = layers.Dense(num_classes, dtype="float32", name="label_logits")(x)
    return keras.Model(trunk.input, logits, name=name)
