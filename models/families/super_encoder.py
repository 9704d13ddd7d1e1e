"""The Super-encoder of "Cooperative and Non-cooperative Autonets" (Kamal & Bae).

Three players: an encoder p (x -> z), a separator s (z -> class
probabilities) and a decoder q (z -> x_hat); the latent code z is what
`encode` returns and what separability is scored on.

* SE(co), `game="co"`: p, s and q minimise together
  alpha * L_label(y, s(p(x))) + beta * L_rec(x, q(p(x))),
  L1 (MAE) by default for both, MSE selectable.
* SE(nc), `game="nc"`: a discriminator D learns to tell (sample, real
  label) pairs from (sample, separator output) pairs, while p, s, q minimise
  the adversarial term (non-saturating -log D by default, the saturating
  log(1 - D) selectable), the cross-entropy to D's implied posterior
  (`posterior_weight`) and beta * L_rec. The labels reach p and s only
  through D's judgement: no term compares s(p(x)) with y.
* SE*, `labelled_fraction < 1` (registry names "se_star", "se_star_nc"): only
  that fraction of the labels is used; unlabelled samples (label -1) train
  the reconstruction only (and, for nc, the separator's terms: D judges
  unlabelled images too, it only learns from labelled ones).

Choices where the paper leaves freedom:

* The label term is the paper's norm, summed over the K classes; the
  reconstruction term is a mean over pixels (the norm divided by the pixel
  count), so beta needs no rescaling between image sizes. A mean over
  classes as well would divide the label gradient by K and, with a softmax
  under L1, leave the separator learning far slower than the decoder.
* SE(nc)'s D is conditioned on the image: it judges pairs (x, v) by
  per-label logits, D(x, v) = <v, l(x)> (`models.core.conditional`, a
  projection discriminator), trained with the matching-aware loss (GAN-CLS,
  Reed et al. 2016: wrong labels are fakes too) plus a K-way cross-entropy
  of its implied posterior softmax l(x) (`class_weight`). An unconditional D
  could only teach s to output *some* one-hot vector; the pair makes "real"
  mean "the label of this sample".
* Why the game used to collapse (measured on digits, 3 seeds, and an MNIST
  subset; `benchmarks/results/RESULTS.md`): D was conditioned on the code z.
  (1) With the adversarial term alone, D's implied classifier stayed at
  chance (0.09-0.10) and the separator's softmax saturated on one class
  (accuracy 0.10): a saturated softmax passes no gradient back, and D had
  nothing to teach. (2) D conditioned on the code chases a moving target:
  on frozen codes the same D reached 0.59 in 5 epochs, inside the game
  0.23, and every share of the game's gradient let into the encoder (0.1 to
  1, with or without a warm-up, D learning 3-10x faster) moved the codes
  faster than D could follow: D fell back to 0.2-0.4 and the separator
  with it. Cut off from the game, the encoder gave autoencoder codes and a
  separator at 0.72-0.80. Conditioned on the image, D's input does not move:
  its implied classifier reaches 0.96-0.98, its posterior is a target worth
  following from the first epochs, and the encoder can hear the whole game
  (`encoder_gradient=1`): the separator reaches 0.94-0.95 and the codes
  separate better than SE(co)'s.
* The phases of SE(nc) alternate within one step: D first, then p, s, q.
"""

from __future__ import annotations

from models.core import conditional, networks
from models.core.checks import check_between, check_choice
from models.core.game import GameModel, Phase, global_mean, register
from models.core.labels import ERRORS, masked_accuracy, one_hot_labels, per_sample_error

_AUTOENCODER = ("encoder", "separator", "decoder")


@register
class SuperEncoder(conditional.LabelJudge, GameModel):
    """Super-encoder: encoder, separator and decoder, cooperative or not.

    Args:
        input_shape: image shape (H, W, C).
        num_classes: number of classes K.
        latent_dim: size of the code z.
        game: "co" (cooperative) or "nc" (non-cooperative, with D).
        alpha, beta: weights of the label and reconstruction terms.
        label_loss, reconstruction: "mae" (L1, default) or "mse".
        non_saturating: the adversarial form for p, s, q (nc only).
        class_weight: weight of D's K-way cross-entropy (nc only).
        posterior_weight: weight of the separator's cross-entropy to D's
            implied posterior (nc only; 0: the plain adversarial game).
        encoder_gradient: the share of the game's gradient that reaches the
            encoder (nc only; 0: the codes learn from the reconstruction
            alone, 1: the full game).
        discriminator_batch_norm: D's trunk with BatchNorm, as the
            classifier's (nc, "paper" size; see
            `models.core.networks.image_label_discriminator`).
        labelled_fraction: the fraction of training labels used (SE*).
        size: "small", "large", "paper" or "wide" networks (see `models.core.networks`).
        encoder, separator, decoder, discriminator: optional custom players.
        **kwargs: `keras.Model` arguments (`name`, `dtype`: the dtype policy
            the networks are built under).
    """

    PLAYER_NAMES = ("encoder", "separator", "decoder", "discriminator")
    classifies = True
    reconstructs = True

    def __init__(self, input_shape, num_classes, latent_dim=16, game="co", alpha=1.0, beta=1.0, label_loss="mae",
                 reconstruction="mae", non_saturating=True, class_weight=1.0, posterior_weight=1.0,
                 encoder_gradient=1.0, discriminator_batch_norm=False, labelled_fraction=1.0, size="small",
                 encoder=None, separator=None, decoder=None, discriminator=None, **kwargs):
        conditional.check_game_arguments(game, non_saturating, class_weight, posterior_weight,
                                         discriminator_batch_norm)
        check_choice(label_loss, "label_loss", ERRORS)
        check_choice(reconstruction, "reconstruction", ERRORS)
        check_between(encoder_gradient, "encoder_gradient", 0.0, 1.0)
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
            players["discriminator"] = custom["discriminator"] or networks.image_label_discriminator(
                shape, c["num_classes"], size, batch_norm=c["discriminator_batch_norm"])
        return players

    @property
    def judges_labels(self):
        """True for SE(nc) and SE*(nc): their D maps an image to K label logits."""
        return self.config["game"] == "nc"

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

    def classify_codes(self, z, batch_size=256):
        """Class probabilities s(z) (NumPy)."""
        return self.separator.predict(z, batch_size=batch_size, verbose=0)

    # -- the games ---------------------------------------------------------------------
    def phases(self):
        if self.config["game"] == "co":
            return [Phase(_AUTOENCODER, self._cooperative, losses=("label_loss", "reconstruction_loss"),
                          metrics=("accuracy",))]
        return [Phase(("discriminator",), self._discriminator, losses=("discriminator_loss",),
                      metrics=("discriminator_accuracy",)),
                Phase(_AUTOENCODER, self._non_cooperative,
                      losses=("adversarial_loss", "posterior_loss", "reconstruction_loss"), metrics=("accuracy",))]

    def _reconstruction(self, x, z, training):
        return global_mean(per_sample_error(x, self.decoder(z, training=training), self.config["reconstruction"]))

    def _cooperative(self, x, y, training):
        z = self.encoder(x, training=training)
        probs = self.separator(z, training=training)
        onehot, labelled = one_hot_labels(y, self.config["num_classes"])
        accuracy = masked_accuracy(probs, onehot, labelled)
        rec = self._reconstruction(x, z, training)
        per_class = per_sample_error(onehot, probs, self.config["label_loss"])
        label = global_mean(per_class * self.config["num_classes"], labelled)  # the norm: a sum over classes
        total = self.config["alpha"] * label + self.config["beta"] * rec
        return {"total": total, "label_loss": label, "reconstruction_loss": rec, "accuracy": accuracy}

    def _discriminator(self, x, y, training):
        probs = self.separator(self.encoder(x, training=training), training=training)
        loss, accuracy = conditional.discriminator_terms(self.discriminator(x, training=training), probs, y,
                                                         self.config["num_classes"], self.config["class_weight"])
        return {"total": loss, "discriminator_loss": loss, "discriminator_accuracy": accuracy}

    def _non_cooperative(self, x, y, training):
        z = self.encoder(x, training=training)
        rec = self._reconstruction(x, z, training)
        # D judges (image, label) pairs: its judgement of a sample does not
        # move when the encoder moves the codes. D's weights are not updated
        # in this phase; the encoder hears the game through the separator.
        judged = self.discriminator(x, training=training)
        probs = self.separator(conditional.scale_gradient(z, self.config["encoder_gradient"]), training=training)
        adversarial, posterior = conditional.player_terms(judged, probs, self.config["non_saturating"])
        onehot, labelled = one_hot_labels(y, self.config["num_classes"])
        total = adversarial + self.config["posterior_weight"] * posterior + self.config["beta"] * rec
        return {"total": total, "adversarial_loss": adversarial, "posterior_loss": posterior,
                "reconstruction_loss": rec, "accuracy": masked_accuracy(probs, onehot, labelled)}
