"""The Auto-classifier of "Cooperative and Non-cooperative Autonets" (Kamal & Bae).

A classifier C (x -> class probabilities) and a generator G (class vector
-> image). C's output is also the dimensionality reduction: `encode(x)`
returns C(x), the code scored for separability; `generate(y)` draws G's
image for each label.

With L_C the classification loss (cross-entropy of C(x) against y) and
L_G = rec(x, G(C(x))) the reconstruction of x from C's output:

* AC(co) v1, strict cooperation: C and G minimise together
  L_C + L_G + abs(L_C - L_G) = 2 max(L_C, L_G) on the batch losses
  (`keraslosses.strict_cooperative`);
* AC(co) v2, adjusted cooperation: lambda * L_C + L_G (`weight` = lambda;
  `keraslosses.adjusted_cooperative`);
* AC(nc) v1, discriminative generator G+ = H(G(.)): a discriminator head H
  judges G's images. G+ (G and H) learns that real latents (one-hot y) make
  real images and classifier outputs C(x) make fake ones, maximising
  log G+(y) + log(1 - G+(C(x))), and G also reconstructs x from y; C
  minimises the adversarial term (the minimax form by default, below) plus L_C;
* AC(nc) v2, latent discriminator D: D tells y from C(x); C and G minimise
  the adversarial term plus rec(x, G(C(x))), D maximises it.

`reconstruction` ("mse" or "mae") selects rec: the 8 variants of the
registry (`ac_co_v1_mse`, ..., `ac_nc_v2_mae`).

Choices where the paper leaves freedom:

* v2's D is conditioned on the image: it judges pairs (x, v) by per-label
  logits, D(x, v) = <v, l(x)> (`models.core.conditional`), real (x, y)
  against (x, C(x)) and mismatched (x, wrong label), plus a K-way
  cross-entropy of its implied posterior softmax l(x) (`class_weight`). C
  minimises the non-saturating adversarial term, the cross-entropy to D's
  implied posterior (`posterior_weight`) and the reconstruction. The
  objective names no classification loss for v2: the labels reach C only
  through D. With the adversarial term alone, C's softmax saturated on
  arbitrary classes and the accuracy swung between 0.51 and 0.84 with the
  seed (`RESULTS.md`).
* In v1, H sees G's images only, as the paper describes G+; C's labels come
  from L_C, the adversarial term pushes C(x) towards vectors G+ deems
  real (confident, one-hot-like).
* v1's C minimises the paper's minimax term log(1 - G+(C(x))), not the
  non-saturating -log G+(C(x)) of v2 (`non_saturating=None` picks per
  version). G+ = H(G(.)) can learn to tell any soft C(x) from a one-hot y,
  and once it does, the non-saturating term's gradient, at full strength
  exactly when G+ wins, fights L_C: at the paper size on MNIST, G+ won in
  epoch 7 and C's validation accuracy fell from 0.977 to 0.18. The minimax
  term's gradient fades as G+ wins, so L_C keeps C classifying. On digits
  (3 seeds) the minimax form reached 0.959-0.970 against 0.652-0.922, with
  a third of the classifier's gradient norm (`RESULTS.md`).
* On Fashion-MNIST at the paper size, v1's H told G(y) from G(C(x)) by G's
  BatchNorm batch statistics (the two were separate calls of G), and the
  full-weight adversarial term cost C 0.028 of validation accuracy on a
  subset; `joint_batch` (one call for both) and `adversarial_weight`
  (0.1-0.3) remove both effects there (`RESULTS.md`, fifth round). The
  defaults keep the paper's objective, which met its MNIST cell; the paper
  recipe sets `joint_batch=True, adversarial_weight=0.1` for v1 on
  Fashion-MNIST (in `models/training/recipes.py`).
* Losses are means over elements (pixels, classes); phases alternate within
  one step, discriminating players first.
"""

from __future__ import annotations

import keras
from keras import ops

import keraslosses as kl
from models.core import conditional, networks
from models.core.checks import check_between, check_choice
from models.core.game import ClassifierCode, GameModel, Phase, global_mean, register
from models.core.labels import ERRORS, one_hot_labels, per_sample_error

_NC_LOSSES = ("adversarial_loss", "classifier_loss")


@register
class AutoClassifier(conditional.LabelJudge, ClassifierCode, GameModel):
    """Auto-classifier: classifier C and generator G, cooperative or not.

    Args:
        input_shape: image shape (H, W, C).
        num_classes: number of classes K.
        game: "co" or "nc".
        version: 1 or 2 (strict/adjusted cooperation; discriminative
            generator/latent discriminator).
        reconstruction: "mse" or "mae".
        weight: lambda of adjusted cooperation (co v2).
        non_saturating: adversarial form for the minimising players (nc):
            True -log D(fake), False log(1 - D(fake)); None: minimax for
            v1, non-saturating for v2.
        class_weight: weight of D's K-way cross-entropy (nc v2).
        posterior_weight: weight of C's cross-entropy to D's implied
            posterior (nc v2; 0: the plain adversarial game).
        label_smoothing: label smoothing of C's cross-entropy L_C (0: none).
        adversarial_weight: weight of the minimising players' adversarial
            term (nc; 1: the paper's objective).
        instance_noise: standard deviation of the Gaussian noise added to
            every image H judges while training (nc v1; Sonderby et al.,
            ICLR 2017: it blurs the disjoint supports of real and fake).
        joint_batch: G+ judges the real codes y and the fake ones C(x) in one
            call of G (nc v1), so that G's BatchNorm normalises both with the
            same batch statistics (else H can tell them apart by those alone).
        discriminator_batch_norm: D's trunk with BatchNorm, as the
            classifier's (nc v2, "paper" size; see
            `models.core.networks.image_label_discriminator`; v1's H judges
            G's images, where BatchNorm would tell real from fake batches).
        labelled_fraction: fraction of training labels used (label -1 marks
            the others; they train the reconstruction only).
        size: "small", "large", "paper" or "wide" networks.
        classifier, generator, discriminator: optional custom players.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).
    """

    PLAYER_NAMES = ("classifier", "generator", "discriminator")
    classifies = True
    reconstructs = True
    generates = True

    def __init__(self, input_shape, num_classes, game="co", version=1, reconstruction="mse", weight=1.0,
                 non_saturating=None, class_weight=1.0, posterior_weight=1.0, label_smoothing=0.0,
                 adversarial_weight=1.0, instance_noise=0.0, joint_batch=False, discriminator_batch_norm=False,
                 labelled_fraction=1.0, size="small", classifier=None, generator=None, discriminator=None, **kwargs):
        conditional.check_game_arguments(game, non_saturating, class_weight, posterior_weight,
                                         discriminator_batch_norm, resolvable=True)
        check_choice(version, "version", (1, 2))
        check_choice(reconstruction, "reconstruction", ERRORS)
        check_between(label_smoothing, "label_smoothing", 0.0, 1.0)
        check_between(adversarial_weight, "adversarial_weight", 0.0)
        check_between(instance_noise, "instance_noise", 0.0)
        check_choice(joint_batch, "joint_batch", (True, False))
        if discriminator_batch_norm and game == "nc" and version == 1:
            raise ValueError("`discriminator_batch_norm` applies to AC(nc) v2's D, not to v1's H, which judges G's "
                             "real and fake images (BatchNorm would tell their batches apart); received "
                             "discriminator_batch_norm=True with version=1.")
        super().__init__(**kwargs)
        if instance_noise:  # only then: the zoo's files hold no generator state
            self.seed_generator = keras.random.SeedGenerator()

    def build_players(self, custom):
        c = self.config
        shape, classes, size = tuple(c["input_shape"]), c["num_classes"], c["size"]
        players = {
            "classifier": custom["classifier"] or networks.classifier(shape, classes, size),
            "generator": custom["generator"] or networks.decoder(classes, shape, size, name="generator"),
        }
        if c["game"] == "nc":
            players["discriminator"] = custom["discriminator"] or (
                networks.image_discriminator(shape, size) if c["version"] == 1
                else networks.image_label_discriminator(shape, classes, size,
                                                        batch_norm=c["discriminator_batch_norm"]))
        return players

    @property
    def non_saturating(self):
        """The adversarial form of the minimising players (`non_saturating`,
        None resolved by version)."""
        chosen = self.config["non_saturating"]
        return self.config["version"] == 2 if chosen is None else bool(chosen)

    @property
    def judges_labels(self):
        """True for AC(nc) v2 only: AC(nc) v1's H judges images, not labels."""
        return self.config["game"] == "nc" and self.config["version"] == 2

    # -- the model as a function (`call`, `encode`: C(x), from ClassifierCode) -------
    def decode(self, z, batch_size=256):
        """G's images of codes `z` (class-probability vectors; NumPy)."""
        return self.generator.predict(z, batch_size=batch_size, verbose=0)

    def generate(self, labels, batch_size=256):
        """G's images for integer labels (NumPy)."""
        return self.decode(keras.utils.to_categorical(labels, self.config["num_classes"]), batch_size)

    # -- the games ---------------------------------------------------------------------
    def phases(self):
        game, version = self.config["game"], self.config["version"]
        if game == "co":
            return [Phase(("classifier", "generator"), self._cooperative,
                          losses=("classifier_loss", "generator_loss"), metrics=("accuracy",))]
        if version == 1:
            return [Phase(("generator", "discriminator"), self._discriminative_generator,
                          losses=("discriminator_loss", "reconstruction_loss")),
                    Phase(("classifier",), self._classifier_against_generator, losses=_NC_LOSSES,
                          metrics=("accuracy",))]
        return [Phase(("discriminator",), self._latent_discriminator, losses=("discriminator_loss",),
                      metrics=("discriminator_accuracy",)),
                Phase(("classifier", "generator"), self._against_latent_discriminator,
                      losses=(*_NC_LOSSES, "posterior_loss", "reconstruction_loss"), metrics=("accuracy",))]

    def _classify(self, x, y, training):
        probs = self.classifier(x, training=training)
        return (probs, *self.classification_terms(probs, y))

    def _reconstruction(self, x, code, training, mask=None):
        return global_mean(per_sample_error(x, self.generator(code, training=training),
                                            self.config["reconstruction"]), mask)

    def _cooperative(self, x, y, training):
        probs, _, _, classifier_loss, accuracy = self._classify(x, y, training)
        generator_loss = self._reconstruction(x, probs, training)
        if self.config["version"] == 1:
            total = kl.strict_cooperative(classifier_loss, generator_loss)
        else:
            total = kl.adjusted_cooperative(classifier_loss, generator_loss, weight=self.config["weight"])
        return {"total": total, "classifier_loss": classifier_loss, "generator_loss": generator_loss,
                "accuracy": accuracy}

    # v1: G+ = H(G(.)) against C
    def _g_plus(self, code, training):
        images = self.generator(code, training=training)
        if training and self.config["instance_noise"]:
            images = images + self.config["instance_noise"] * keras.random.normal(
                ops.shape(images), dtype=images.dtype, seed=self.seed_generator)
        return self.discriminator(images, training=training)

    def _g_plus_pair(self, onehot, probs, training):
        """G+ of the real codes y and the fake ones C(x): one call on both
        (`joint_batch`: G's BatchNorm normalises them with the same batch
        statistics) or one call each."""
        if not self.config["joint_batch"]:
            return self._g_plus(onehot, training), self._g_plus(probs, training)
        judged = self._g_plus(ops.concatenate([ops.cast(onehot, probs.dtype), probs], axis=0), training)
        return judged[: ops.shape(onehot)[0]], judged[ops.shape(onehot)[0]:]

    def _discriminative_generator(self, x, y, training):
        probs = ops.stop_gradient(self.classifier(x, training=training))
        onehot, labelled = one_hot_labels(y, self.config["num_classes"])
        adversarial = kl.discriminator_loss(*self._g_plus_pair(onehot, probs, training))
        discriminator_loss = global_mean(adversarial, labelled)
        reconstruction = self._reconstruction(x, onehot, training, labelled)
        return {"total": discriminator_loss + reconstruction, "discriminator_loss": discriminator_loss,
                "reconstruction_loss": reconstruction}

    def _classifier_against_generator(self, x, y, training):
        probs, _, _, classifier_loss, accuracy = self._classify(x, y, training)
        if self.config["joint_batch"]:  # the real codes only set G's batch statistics here
            _, fake = self._g_plus_pair(one_hot_labels(y, self.config["num_classes"])[0], probs, training)
        else:
            fake = self._g_plus(probs, training)
        adversarial = global_mean(kl.generator_loss(fake, non_saturating=self.non_saturating))
        return {"total": self.config["adversarial_weight"] * adversarial + classifier_loss,
                "adversarial_loss": adversarial, "classifier_loss": classifier_loss, "accuracy": accuracy}

    # v2: latent discriminator D(x, v) = <v, l(x)>
    def _latent_discriminator(self, x, y, training):
        probs = self.classifier(x, training=training)
        loss, accuracy = conditional.discriminator_terms(self.discriminator(x, training=training), probs, y,
                                                         self.config["num_classes"], self.config["class_weight"])
        return {"total": loss, "discriminator_loss": loss, "discriminator_accuracy": accuracy}

    def _against_latent_discriminator(self, x, y, training):
        probs, _, _, classifier_loss, accuracy = self._classify(x, y, training)
        adversarial, posterior = conditional.player_terms(self.discriminator(x, training=training), probs,
                                                          self.non_saturating)
        reconstruction = self._reconstruction(x, probs, training)
        total = self.config["adversarial_weight"] * adversarial + self.config["posterior_weight"] * posterior \
            + reconstruction
        return {"total": total, "adversarial_loss": adversarial, "posterior_loss": posterior,
                "reconstruction_loss": reconstruction, "classifier_loss": classifier_loss, "accuracy": accuracy}
