"""Adversarial autoencoders: AAE, denoising AAE (DAAE) and the integrated
denoising AAE (iDAAE).

* `aae` (Makhzani et al., ICLR 2016, Section 2): a deterministic encoder p,
  a decoder q and a discriminator D on codes. Three phases per step, each
  with its own optimizer:

  1. reconstruction: p and q minimise rec(x, q(p(x)));
  2. regularisation, discriminator: D learns to tell samples of the prior
     p(z) (N(0, I) by default) from codes p(x):
     max log D(z') + log(1 - D(p(x))), z' ~ p(z);
  3. regularisation, generator: the encoder (its own optimizer slot,
     "encoder_generator") fools D: min -log D(p(x)) (non-saturating).

  The aggregated posterior q(z) = E_x q(z | x) is thereby matched to p(z).
* `daae` (Creswell & Bharath, "Denoising Adversarial Autoencoders", IEEE
  TNNLS 2019): the encoder sees corrupted inputs x~ ~ c(x~ | x) in every
  phase; the target stays the clean x. The distribution matched to the
  prior is that of p(x~).
* `idaae`, the integrated DAAE of the same paper: reconstruction as in the
  DAAE, but the distribution matched to the prior is the *integrated*
  posterior q~(z | x) = E_{c(x~ | x)} q(z | x~), the encoder's posterior
  marginalised over the corruption process. As the paper does, the integral
  is approximated by Monte Carlo: each code shown to D (and regularised) is
  the mean of the encoder's codes of `corruption_samples` (default 5)
  independent corruptions of the same x. This is this project's reading of
  the paper's construction: the regulariser acts on the clean input's
  corruption-averaged code, while reconstruction learns to denoise.
  The integral makes it the costliest model of the zoo: with 5 samples a
  step runs the encoder 11 times forward and 6 times backward, against the
  DAAE's 3 and 2. Measured with the paper-size networks in float32, a batch
  of 128 on 2 cores without bfloat16 hardware: 2.67 s a step (one encoder
  forward and backward pass alone: 0.34 s). Stacking the 5 corruptions into
  one encoder call of 640 images was slower there (4.73 s a step), so they
  run as 5 calls.

The two regularisation phases train at `adversarial_rate` (0.3) times the
base learning rate (`learning_rate_scale`). With every phase at the same rate,
the encoder's regularisation step was as large as its reconstruction step
(each slot has its own Adam, which normalises the step size), and the codes
shrank towards the origin and lost the data: on the README's digits job
(validation split, seeds 0 / 1 / 2) 5-NN on the codes fell to 0.55 / 0.57 /
0.42 (mean over seeds, AAE / DAAE / iDAAE; the iDAAE's codes collapsed to a
point, std 0.002, in the `reproduce` table) against 0.87 / 0.82 / 0.82 at
0.3. On MNIST (small networks, 8 epochs, validation) the game also balanced
better at 0.3: D's loss 1.22 (1.39 is a D at chance), the codes' std 0.98
for the prior's 1 (0.68 at the full rate), 5-NN 0.905 against 0.878 and
reconstruction MSE 0.0143 against 0.0225. (`benchmarks/results/RESULTS.md`,
"The adversarial autoencoders' regularisation rate".)
"""

from __future__ import annotations

import keras
from keras import ops

import keraslosses as kl
from models.core import networks
from models.core.checks import check_fraction
from models.core.game import Phase, global_mean, register
from models.families.autoencoders import Autoencoder


@register
class AdversarialAutoencoder(Autoencoder):
    """AAE; DAAE with `noise` != "none"; iDAAE with `integrated=True`.

    Args (besides `Autoencoder`'s):
        prior_std: standard deviation of the Gaussian prior N(0, std^2 I).
        adversarial_rate: learning-rate factor of D and of the encoder's regularisation phase.
        integrated: match the corruption-integrated posterior (iDAAE).
        corruption_samples: Monte Carlo samples of the iDAAE's integral.
        discriminator: optional custom player.
    """

    PLAYER_NAMES = ("encoder", "decoder", "discriminator")
    OPTIMIZER_SLOTS = {"encoder": "encoder", "decoder": "decoder", "discriminator": "discriminator",
                       "encoder_generator": "encoder"}

    def __init__(self, input_shape, latent_dim=16, prior_std=1.0, integrated=False, corruption_samples=5,
                 adversarial_rate=0.3, discriminator=None, **kwargs):
        if integrated and kwargs.get("noise", "none") == "none":
            raise ValueError("`integrated=True` (iDAAE) integrates over a corruption process: set `noise`.")
        check_fraction(adversarial_rate, "adversarial_rate")
        super().__init__(input_shape, latent_dim=latent_dim, **kwargs)

    def learning_rate_scale(self, slot):
        """`adversarial_rate` for D and the encoder's regularisation slot."""
        return self.config["adversarial_rate"] if slot in ("discriminator", "encoder_generator") else 1.0

    def build_players(self, custom):
        c = self.config
        return {**super().build_players(custom),
                "discriminator": custom["discriminator"] or networks.vector_discriminator(c["latent_dim"], c["size"])}

    def phases(self):
        return [
            self.reconstruction_phase(),
            Phase(("discriminator",), self._discriminate, losses=("discriminator_loss",)),
            Phase(("encoder_generator",), self._fool, losses=("adversarial_loss",)),
        ]

    def regularised_codes(self, x, training):
        """The codes whose distribution is matched to the prior."""
        if not (training and self.config["integrated"]):
            return self.encoder(self.corrupted(x, training), training=training)
        samples = [self.encoder(self.corrupted(x, training), training=training)
                   for _ in range(self.config["corruption_samples"])]
        return ops.mean(ops.stack(samples), axis=0)

    def _discriminate(self, x, y, training):
        codes = ops.stop_gradient(self.regularised_codes(x, training))
        prior = self.config["prior_std"] * keras.random.normal(ops.shape(codes), seed=self.seed_generator)
        loss = global_mean(kl.discriminator_loss(self.discriminator(prior, training=training),
                                                 self.discriminator(codes, training=training)))
        return {"total": loss, "discriminator_loss": loss}

    def _fool(self, x, y, training):
        fake = self.discriminator(self.regularised_codes(x, training), training=training)
        loss = global_mean(kl.generator_loss(fake))
        return {"total": loss, "adversarial_loss": loss}
