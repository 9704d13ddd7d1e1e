"""The conditional game of the non-cooperative Autonets, shared by SE(nc) and
AC(nc) v2: a discriminator that judges (condition, label) pairs, and the
player that proposes labels for it.

**The discriminator as per-label logits.** D maps a condition c (the
image) to K logits l(c), and judges a label vector v by

    D(c, v) = <v, l(c)>,

the pair logit. For a one-hot v = e_k that is l_k(c); for class probabilities
it is their mixture. This is the projection discriminator of Miyato & Koyama
(ICLR 2018), D(c, v) = u(phi(c)) + v^T V phi(c), with u folded into each
l_k (for a probability vector v the two are equal). Two consequences:

* D cannot tell a one-hot vector from a soft one except through which class
  it weights: "real" can only mean "the right class for c", so a player
  cannot win by outputting *some* confident class;
* D's implied posterior over the labels, softmax_k D(c, e_k) = softmax l(c),
  costs one forward pass.

**D's objective**: the matching-aware GAN loss (real pairs (c, y), fake pairs
(c, player(c)), mismatched pairs (c, a wrong label); Reed et al. 2016), plus
`class_weight` times the K-way cross-entropy of its implied posterior
against y (the auxiliary classifier of AC-GAN, Odena et al. 2017). The
binary terms alone only order l_y(c) against one wrong label and the
player's guess; the K-way term orders l_y(c) against every wrong label, and
so makes the implied posterior a calibrated classifier early in training.

The condition is the image, not a latent code: a D judging codes chases a
moving target while the encoder trains, and never learned fast enough to
teach the separator (the ablations in `benchmarks/results/RESULTS.md`).

**The player's objective**: the non-saturating adversarial term
-log sigmoid(D(c, player(c))) plus `posterior_weight` times the
cross-entropy of its probabilities against D's implied posterior (held fixed:
a target, not a path for gradients into D). The adversarial term alone
collapses: early on D's judgement is near random, the player's softmax
saturates on one class, and its gradient through the saturated softmax
vanishes. The posterior term's gradient
on the player's logits is p - softmax l(c), which does not saturate.

The labels reach the player only through D: D is the one player that sees
y. That is what keeps the game non-cooperative; the (co) games put the
labels into the players' own loss.
"""

from __future__ import annotations

import numpy as np
from keras import ops

import keraslosses as kl
from models.core.checks import check_between, check_choice
from models.core.game import global_mean
from models.core.labels import masked_accuracy, mismatched_one_hot, one_hot_labels


def check_game_arguments(game, non_saturating, class_weight, posterior_weight, discriminator_batch_norm,
                         resolvable=False):
    """The arguments every (co)/(nc) Autonet shares, checked: a `ValueError`
    names the one that is wrong. `resolvable`: `non_saturating=None` (chosen
    per version) is allowed."""
    check_choice(game, "game", ("co", "nc"))
    check_choice(discriminator_batch_norm, "discriminator_batch_norm", (True, False))
    check_choice(non_saturating, "non_saturating", (None, True, False) if resolvable else (True, False))
    check_between(class_weight, "class_weight", 0.0)
    check_between(posterior_weight, "posterior_weight", 0.0)


def pair_logit(label_logits, labels):
    """D(c, v) = <v, l(c)>: the pair logit of label vectors `labels` (B, K)
    under per-label logits `label_logits` (B, K); shape (B, 1)."""
    return ops.sum(ops.cast(label_logits, "float32") * ops.cast(labels, "float32"), axis=-1, keepdims=True)


def scale_gradient(x, scale):
    """`x` in the forward pass; `scale` times its gradient in the backward
    pass (0: none, 1: all of it)."""
    if scale == 1:
        return x
    stopped = ops.stop_gradient(x)
    if scale == 0:
        return stopped
    return stopped + scale * (x - stopped)


def discriminator_terms(label_logits, player_probs, y, num_classes, class_weight):
    """D's loss (a replica share, see `global_mean`) over the labelled
    samples, and the accuracy of its implied classifier argmax l(c).

    Args:
        label_logits: l(c), shape (B, K), computed with gradients into D.
        player_probs: the player's probabilities (B, K) (treated as fixed).
        y: integer labels (B,) or (B, 1), -1 for unlabelled.
        num_classes: K.
        class_weight: weight of the K-way cross-entropy of softmax l(c).
    """
    onehot, labelled = one_hot_labels(y, num_classes)
    wrong = mismatched_one_hot(y, num_classes)
    loss = kl.matching_discriminator_loss(pair_logit(label_logits, onehot),
                                          pair_logit(label_logits, ops.stop_gradient(player_probs)),
                                          pair_logit(label_logits, wrong))
    if class_weight:
        loss = loss + class_weight * kl.categorical_crossentropy(onehot, label_logits, from_logits=True)
    return global_mean(loss, labelled), masked_accuracy(label_logits, onehot, labelled)


def player_terms(label_logits, probs, non_saturating):
    """The label-proposing player's adversarial and posterior-matching terms
    (replica shares), over every sample (D judges unlabelled samples too).

    Args:
        label_logits: l(c) (B, K); gradients flow through it only as far as
            the caller lets them (D's own weights are not updated here).
        probs: the player's class probabilities (B, K).
        non_saturating: -log D (True) or log(1 - D) (False).

    Returns:
        (adversarial share, share of CE(softmax l(c), probs)), D's posterior
        a fixed target in the second.
    """
    adversarial = kl.generator_loss(pair_logit(label_logits, probs), non_saturating=non_saturating)
    posterior = kl.categorical_crossentropy(ops.stop_gradient(ops.softmax(ops.cast(label_logits, "float32"))),
                                            probs)
    return global_mean(adversarial), global_mean(posterior)


class LabelJudge:
    """The public face of a matching-aware D, mixed into the games that have
    one (SE(nc), AC(nc) v2): `judges_labels` says whether this instance's D
    scores (image, label) pairs, and `implied_posterior` reads its implied
    classifier softmax_k D(c, e_k), the figure that shows whether D has
    anything sensible to teach its player."""

    @property
    def judges_labels(self):
        """Whether the discriminator maps an image to K per-label logits."""
        raise NotImplementedError

    def implied_posterior(self, x, batch_size=256):
        """softmax_k D(x, e_k) (NumPy, shape (N, K)) for images `x` (N, H, W, C).

        Raises:
            ValueError: if this game's discriminator does not judge labels
                (the (co) games, AC(nc) v1's image discriminator H).
        """
        if not self.judges_labels:
            raise ValueError(f"implied_posterior needs a discriminator that judges (image, label) pairs "
                             f"(game='nc'; AutoClassifier version=2); received {self.name} with "
                             f"game={self.config['game']!r}.")
        logits = self.discriminator.predict(x, batch_size=batch_size, verbose=0)
        return np.asarray(ops.softmax(ops.cast(logits, "float32")))
