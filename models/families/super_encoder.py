"""The Super-encoder of "Cooperative and Non-cooperative Autonets" (Kamal & Bae).

Three players: an encoder p (x -> z), a separator s (z -> class
probabilities) and a decoder q (z -> x_hat); the latent code z is what
`encode` returns and what separability is scored on.

* SE(co), `game="co"`: p, s and q minimise together
  alpha * L_label(y, s(p(x))) + beta * L_rec(x, q(p(x))),
  L1 (MAE) by default for both, MSE selectable.
* SE(nc), `game="nc"`: a discriminator D learns to tell real one-hot labels
  from separator outputs (it maximises log D(y) + log(1 - D(s(p(x))))),
  while p, s, q minimise the adversarial term (non-saturating -log D(s(p(x)))
  by default, the saturating log(1 - D(s(p(x)))) selectable) plus
  beta * L_rec.
* SE*, `labelled_fraction < 1` (registry names "se_star", "se_star_nc"): only
  that fraction of the labels is used; unlabelled samples (label -1) train
  the reconstruction only (and, for nc, nothing on the label side).

Choices where the paper leaves freedom:

* D is conditioned on the code: it judges pairs (z, y) against (z, s(z)),
  with z held fixed (no gradient) in D's inputs. An unconditional D could
  only teach s to output *some* one-hot vector, not the right one; the
  pair makes "real" mean "the label of this sample".
* The label term is the paper's norm, summed over the K classes; the
  reconstruction term is a mean over pixels (the norm divided by the pixel
  count), so beta needs no rescaling between image sizes. A mean over
  classes as well would divide the label gradient by K and, with a softmax
  under L1, leave the separator learning far slower than the decoder.
* SE(nc)'s D is matching-aware (GAN-CLS, Reed et al. 2016): pairs (z, a
  wrong label) are fakes too, so D must learn which label belongs to a code,
  not only that real labels are one-hot. It is a projection discriminator
  (`models.core.networks.projection_discriminator`): with a plain MLP on concat(z, y)
  its implied classifier argmax_y D(z, y) stayed at chance on MNIST.
* The phases of SE(nc) alternate within one step: D first, then p, s, q.
"""

from __future__ import annotations

from keras import ops

import keraslosses as kl
from models.core import networks
from models.core.checks import check_choice
from models.core.game import GameModel, Phase, global_mean, register
from models.core.labels import ERRORS, masked_accuracy, mismatched_one_hot, one_hot_labels, per_sample_error

_AUTOENCODER = ("encoder", "separator", "decoder")


@register
class SuperEncoder(GameModel):
    """Super-encoder: encoder, separator and decoder, cooperative or not.

    Args:
        input_shape: image shape (H, W, C).
        num_classes: number of classes K.
        latent_dim: size of the code z.
        game: "co" (cooperative) or "nc" (non-cooperative, with D).
        alpha, beta: weights of the label and reconstruction terms.
        label_loss, reconstruction: "mae" (L1, default) or "mse".
        non_saturating: the adversarial form for p, s, q (nc only).
        labelled_fraction: the fraction of training labels used (SE*).
        size: "small" or "large" networks (see `models.core.networks`).
        encoder, separator, decoder, discriminator: optional custom players.
        **kwargs: `keras.Model` arguments (`name`, `dtype`: the dtype policy
            the networks are built under).
    """

    PLAYER_NAMES = ("encoder", "separator", "decoder", "discriminator")
    classifies = True
    reconstructs = True

    def __init__(self, input_shape, num_classes, latent_dim=16, game="co", alpha=1.0, beta=1.0, label_loss="mae",
                 reconstruction="mae", non_saturating=True, labelled_fraction=1.0, size="small",
                 encoder=None, separator=None, decoder=None, discriminator=None, **kwargs):
        check_choice(game, "game", ("co", "nc"))
        check_choice(label_loss, "label_loss", ERRORS)
        check_choice(reconstruction, "reconstruction", ERRORS)
        super().__init__(**kwargs)

    def build_players(self, custom):
        c = self.config
        shape, latent, size = tuple(c["input_shape"]), c["latent_dim"], c["size"]
        players = {
            "encoder": custom["encoder"] or networks.encoder(shape, latent, size),
            "separator": custom["separator"] or networks.separator(latent, c["num_classes"], size),
            "decoder": custom["decoder"] or networks.decoder(latent, shape, size),
        }
        if c["game"] == "nc":
            players["discriminator"] = custom["discriminator"] or networks.projection_discriminator(
                latent, c["num_classes"], size)
        return players

    # -- the model as a function ----------------------------------------------------
    def call(self, x, training=False):
        """Class probabilities s(p(x))."""
        return self.separator(self.encoder(x, training=training), training=training)

    def encode(self, x, batch_size=256):
        """The latent codes z = p(x) (NumPy)."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)

    def decode(self, z, batch_size=256):
        """Images q(z) (NumPy)."""
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    def reconstruct(self, x, batch_size=256):
        return self.decode(self.encode(x, batch_size), batch_size)

    # -- the games ---------------------------------------------------------------------
    def phases(self):
        if self.config["game"] == "co":
            return [Phase(_AUTOENCODER, self._cooperative, losses=("label_loss", "reconstruction_loss"),
                          metrics=("accuracy",))]
        return [Phase(("discriminator",), self._discriminator, losses=("discriminator_loss",)),
                Phase(_AUTOENCODER, self._non_cooperative, losses=("adversarial_loss", "reconstruction_loss"),
                      metrics=("accuracy",))]

    def _forward(self, x, y, training):
        z = self.encoder(x, training=training)
        probs = self.separator(z, training=training)
        recon = self.decoder(z, training=training)
        onehot, labelled = one_hot_labels(y, self.config["num_classes"])
        accuracy = masked_accuracy(probs, onehot, labelled)
        rec = global_mean(per_sample_error(x, recon, self.config["reconstruction"]))
        return z, probs, onehot, labelled, rec, accuracy

    def _cooperative(self, x, y, training):
        _, probs, onehot, labelled, rec, accuracy = self._forward(x, y, training)
        per_class = per_sample_error(onehot, probs, self.config["label_loss"])
        label = global_mean(per_class * self.config["num_classes"], labelled)  # the norm: a sum over classes
        total = self.config["alpha"] * label + self.config["beta"] * rec
        return {"total": total, "label_loss": label, "reconstruction_loss": rec, "accuracy": accuracy}

    def _pair_logits(self, z, labels, training):
        """D's logit for (code, label) pairs; the code is a fixed condition."""
        return self.discriminator([ops.stop_gradient(z), labels], training=training)

    def _discriminator(self, x, y, training):
        z, probs, onehot, labelled, _, _ = self._forward(x, y, training)
        wrong = mismatched_one_hot(y, self.config["num_classes"])
        loss = kl.matching_discriminator_loss(self._pair_logits(z, onehot, training),
                                              self._pair_logits(z, ops.stop_gradient(probs), training),
                                              self._pair_logits(z, wrong, training))
        loss = global_mean(loss, labelled)
        return {"total": loss, "discriminator_loss": loss}

    def _non_cooperative(self, x, y, training):
        z, probs, _, labelled, rec, accuracy = self._forward(x, y, training)
        fake = self._pair_logits(z, probs, training)
        adversarial = global_mean(kl.generator_loss(fake, non_saturating=self.config["non_saturating"]), labelled)
        total = adversarial + self.config["beta"] * rec
        return {"total": total, "adversarial_loss": adversarial, "reconstruction_loss": rec, "accuracy": accuracy}
