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
  (`networks.projection_discriminator`): with a plain MLP on concat(z, y)
  its implied classifier argmax_y D(z, y) stayed at chance on MNIST.
* The phases of SE(nc) alternate within one step: D first, then p, s, q.
"""

from __future__ import annotations

from keras import ops

import keraslosses as kl
from models import networks
from models.base import (
    _PER_SAMPLE,
    GameModel,
    check_choice,
    global_mean,
    masked_accuracy,
    matching_discriminator_loss,
    mismatched_one_hot,
    one_hot_labels,
    per_sample_error,
    register,
)


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
        size: "small" or "large" networks (see `models.networks`).
        encoder, separator, decoder, discriminator: optional custom players.
    """

    PLAYER_NAMES = ("encoder", "separator", "decoder", "discriminator")

    def __init__(self, input_shape, num_classes, latent_dim=16, game="co", alpha=1.0, beta=1.0, label_loss="mae",
                 reconstruction="mae", non_saturating=True, labelled_fraction=1.0, size="small",
                 encoder=None, separator=None, decoder=None, discriminator=None, **kwargs):
        check_choice(game, "game", ("co", "nc"))
        check_choice(label_loss, "label_loss", tuple(_PER_SAMPLE))
        check_choice(reconstruction, "reconstruction", tuple(_PER_SAMPLE))
        input_shape = tuple(input_shape)
        players = {
            "encoder": encoder or networks.encoder(input_shape, latent_dim, size),
            "separator": separator or networks.separator(latent_dim, num_classes, size),
            "decoder": decoder or networks.decoder(latent_dim, input_shape, size),
        }
        if game == "nc":
            players["discriminator"] = discriminator or networks.projection_discriminator(latent_dim, num_classes, size)
            terms = ("loss", "discriminator_loss", "adversarial_loss", "reconstruction_loss", "accuracy")
        else:
            terms = ("loss", "label_loss", "reconstruction_loss", "accuracy")
        super().__init__(players, terms, labelled_fraction=labelled_fraction, **kwargs)
        self.encoder, self.separator, self.decoder = (players[k] for k in ("encoder", "separator", "decoder"))
        self.discriminator = players.get("discriminator")
        self.config = dict(input_shape=input_shape, num_classes=num_classes, latent_dim=latent_dim, game=game,
                           alpha=alpha, beta=beta, label_loss=label_loss, reconstruction=reconstruction,
                           non_saturating=non_saturating, labelled_fraction=labelled_fraction, size=size)

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
        autoencoder = ("encoder", "separator", "decoder")
        if self.config["game"] == "co":
            return [(autoencoder, self._cooperative)]
        return [(("discriminator",), self._discriminator), (autoencoder, self._non_cooperative)]

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
        per_class = _PER_SAMPLE[self.config["label_loss"]](onehot, probs)
        label = global_mean(per_class * self.config["num_classes"], labelled)  # the norm: a sum over classes
        total = self.config["alpha"] * label + self.config["beta"] * rec
        return {"total": total, "label_loss": label, "reconstruction_loss": rec, "accuracy": accuracy}

    def _pair_logits(self, z, labels, training):
        """D's logit for (code, label) pairs; the code is a fixed condition."""
        return self.discriminator([ops.stop_gradient(z), labels], training=training)

    def _discriminator(self, x, y, training):
        z, probs, onehot, labelled, _, _ = self._forward(x, y, training)
        wrong = mismatched_one_hot(y, self.config["num_classes"])
        loss = matching_discriminator_loss(self._pair_logits(z, onehot, training),
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
