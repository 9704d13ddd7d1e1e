"""Variational autoencoders: VAE, denoising VAE (DVAE) and beta-VAE.

* `vae` (Kingma & Welling, ICLR 2014): a Gaussian encoder q(z | x) =
  N(mean, diag(exp(log_var))) (the encoder's 2 x latent_dim outputs),
  z = mean + exp(log_var / 2) * eps with eps ~ N(0, I) (the
  reparameterisation), and the negative ELBO per sample

      -ELBO = rec(x, decoder(z)) + beta * KL(q(z | x) || N(0, I))

  with rec the Bernoulli negative log-likelihood of the [0, 1] pixels, i.e.
  the binary cross-entropy summed over pixels (`likelihood="bernoulli"`,
  default, computed from the decoder's logits), or the unit-variance
  Gaussian one up to its constant, half the summed squared error
  (`likelihood="gaussian"`); KL is `keraslosses.gaussian_kl`. The loss is
  the batch mean of -ELBO. `encode` returns the mean.
* `dvae` (Im, Ahn, Memisevic & Bengio, AAAI 2017): the encoder sees a
  corrupted x~ ~ c(x~ | x) during training (one corruption sample per step),
  the reconstruction target is the clean x.
* `beta_vae` (Higgins et al., ICLR 2017): `beta` weighs the KL term
  (default 4); beta = 1 is the VAE.
"""

from __future__ import annotations

import keras
from keras import ops

import keraslosses as kl
from models.core.checks import check_choice
from models.core.game import Phase, global_mean, register
from models.families.autoencoders import Autoencoder


@register
class VariationalAutoencoder(Autoencoder):
    """VAE, DVAE (`noise` != "none") and beta-VAE (`beta` != 1).

    Takes `Autoencoder`'s arguments, and:

    Args:
        beta: weight of the KL term.
        likelihood: "bernoulli" (BCE summed over pixels) or "gaussian"
            (half the summed squared error).
    """

    def __init__(self, input_shape, latent_dim=16, beta=1.0, likelihood="bernoulli", **kwargs):
        check_choice(likelihood, "likelihood", ("bernoulli", "gaussian"))
        super().__init__(input_shape, latent_dim=latent_dim, **kwargs)

    def reconstruction_phase(self):
        """The encoder/decoder phase: reconstruction plus the KL term."""
        return Phase(("encoder", "decoder"), self._reconstruct, losses=("reconstruction_loss", "kl_loss"), main=True)

    @staticmethod
    def code_size(latent_dim):
        return 2 * latent_dim  # [mean | log_var]

    def latent(self, encoder_output):
        return encoder_output[..., : encoder_output.shape[-1] // 2]

    def elbo_terms(self, x, noise, training=False):
        """Per-sample (reconstruction NLL, KL) for given eps = `noise`
        (shape (B, latent_dim)); the training step draws eps ~ N(0, I)."""
        stats = self.encoder(self.corrupted(x, training), training=training)
        mean, log_var = ops.split(stats, 2, axis=-1)
        z = mean + ops.exp(0.5 * log_var) * noise
        recon = self.decoder(z, training=training)
        if self.config["likelihood"] == "bernoulli":
            # BCE summed over pixels: the loss averages over channels, so
            # sum over height and width and scale by the channel count. The
            # decoder's sigmoid output is passed as is, so its logits are used.
            nll = ops.sum(kl.binary_crossentropy(x, recon), axis=(1, 2)) * x.shape[-1]
        else:
            nll = 0.5 * ops.sum(ops.square(x - recon), axis=(1, 2, 3))
        return nll, kl.gaussian_kl(mean, log_var)

    def _reconstruct(self, x, y, training):
        x = ops.convert_to_tensor(x)
        noise = keras.random.normal((ops.shape(x)[0], self.config["latent_dim"]), seed=self.seed_generator)
        nll, kl_term = self.elbo_terms(x, noise, training)
        reconstruction, kl_loss = global_mean(nll), global_mean(kl_term)
        return {"total": reconstruction + self.config["beta"] * kl_loss, "reconstruction_loss": reconstruction,
                "kl_loss": kl_loss}
