"""Autoencoder baselines: AE and the denoising autoencoder (DAE).

* `ae`: encoder p (x -> z) and decoder q (z -> x_hat) minimise the
  reconstruction error (MSE by default, MAE selectable) together.
* `dae` (Vincent et al., ICML 2008): the same, but during training the
  encoder sees a corrupted input x~ ~ c(x~ | x) while the target stays the
  clean x. Corruption (`noise`): "gaussian" (x + N(0, level^2), clipped to
  [0, 1]) or "masking" (each pixel set to 0 with probability `level`, as in
  the paper). `predict`, `encode` and `evaluate` never corrupt.

Both ignore labels: `fit(x)` or `fit(x, y)`. `call(x)` (and `predict`)
returns the reconstruction; `encode(x)` the code z.
"""

from __future__ import annotations

import keras
from keras import ops

from models.core import networks
from models.core.checks import check_choice
from models.core.game import GameModel, Phase, global_mean, register
from models.core.labels import ERRORS, per_sample_error

NOISES = ("none", "gaussian", "masking")


def corrupt(x, noise, level, seed):
    """The corruption process c(x~ | x): `noise` in NOISES, `level` its
    standard deviation ("gaussian") or drop probability ("masking")."""
    if noise == "gaussian":
        return ops.clip(x + level * keras.random.normal(ops.shape(x), seed=seed, dtype=x.dtype), 0.0, 1.0)
    if noise == "masking":
        keep = keras.random.uniform(ops.shape(x), seed=seed, dtype=x.dtype) >= level
        return ops.where(keep, x, ops.zeros_like(x))
    return x


@register
class Autoencoder(GameModel):
    """AE, or DAE with `noise` != "none".

    Args:
        input_shape: image shape (H, W, C).
        latent_dim: size of z.
        reconstruction: "mse" or "mae".
        noise: "none" (AE), "gaussian" or "masking" (DAE).
        noise_level: std of the Gaussian noise or the masking probability.
        size: "small", "large", "paper" or "wide" networks.
        num_classes: unused by the model (kept so every registry model is
            built the same way).
        seed: seed of the corruption noise.
        encoder, decoder: optional custom players.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).
    """

    PLAYER_NAMES = ("encoder", "decoder")
    reconstructs = True

    def __init__(self, input_shape, latent_dim=16, reconstruction="mse", noise="none", noise_level=0.3, size="small",
                 num_classes=None, seed=0, encoder=None, decoder=None, **kwargs):
        check_choice(reconstruction, "reconstruction", ERRORS)
        check_choice(noise, "noise", NOISES)
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build_players(self, custom):
        c = self.config
        shape, size = tuple(c["input_shape"]), c["size"]
        return {"encoder": custom["encoder"] or networks.encoder(shape, self.code_size(c["latent_dim"]), size),
                "decoder": custom["decoder"] or networks.decoder(c["latent_dim"], shape, size)}

    @staticmethod
    def code_size(latent_dim):
        """Width of the encoder's output (the VAE doubles it)."""
        return latent_dim

    # -- the model as a function ----------------------------------------------------
    def call(self, x, training=False):
        """The reconstruction q(p(x)) (never corrupted)."""
        return self.decoder(self.latent(self.encoder(x, training=training)), training=training)

    def latent(self, encoder_output):
        """The code z from the encoder's output (the VAE takes the mean)."""
        return encoder_output

    def encode(self, x, batch_size=256):
        return self.latent(self.encoder.predict(x, batch_size=batch_size, verbose=0))

    def decode(self, z, batch_size=256):
        """Images decoded from latent codes `z`, as a NumPy array."""
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    # -- training ------------------------------------------------------------------------
    def corrupted(self, x, training):
        """The encoder's input: corrupted in training only."""
        if not training:
            return x
        return corrupt(x, self.config["noise"], self.config["noise_level"], self.seed_generator)

    def phases(self):
        return [self.reconstruction_phase()]

    def reconstruction_phase(self):
        """The training phase of the encoder and decoder (the main phase)."""
        return Phase(("encoder", "decoder"), self._reconstruct, losses=("reconstruction_loss",), main=True)

    def _reconstruct(self, x, y, training):
        z = self.encoder(self.corrupted(x, training), training=training)
        loss = global_mean(per_sample_error(x, self.decoder(z, training=training), self.config["reconstruction"]))
        return {"total": loss, "reconstruction_loss": loss}
