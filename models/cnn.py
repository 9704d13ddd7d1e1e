"""The independent CNN: the Auto-classifier's classifier C trained alone.

The paper's "Independent CNN" row: the same classifier network as the
Auto-classifier's C (`models.networks.classifier`), trained with
cross-entropy only, with no generator. `encode(x)` returns C(x), like the
Auto-classifier, so both are scored on the same code.
"""

from __future__ import annotations

from models import networks
from models.base import GameModel, classification_terms, register


@register
class IndependentCNN(GameModel):
    """A classifier trained with (categorical) cross-entropy.

    Args:
        input_shape: image shape (H, W, C).
        num_classes: number of classes.
        size: "small" or "large" (the same networks as the Auto-classifier).
        labelled_fraction: fraction of training labels used (-1 = unlabelled).
        classifier: optional custom player.
    """

    PLAYER_NAMES = ("classifier",)

    def __init__(self, input_shape, num_classes, size="small", labelled_fraction=1.0, classifier=None, **kwargs):
        input_shape = tuple(input_shape)
        players = {"classifier": classifier or networks.classifier(input_shape, num_classes, size)}
        super().__init__(players, ("loss", "accuracy"), labelled_fraction=labelled_fraction, **kwargs)
        self.classifier = players["classifier"]
        self.config = dict(input_shape=input_shape, num_classes=num_classes, size=size,
                           labelled_fraction=labelled_fraction)

    def call(self, x, training=False):
        return self.classifier(x, training=training)

    def encode(self, x, batch_size=256):
        return self.classifier.predict(x, batch_size=batch_size, verbose=0)

    def phases(self):
        return [(("classifier",), self._classify)]

    def _classify(self, x, y, training):
        probs = self.classifier(x, training=training)
        _, _, loss, accuracy = classification_terms(probs, y, self.config["num_classes"])
        return {"total": loss, "accuracy": accuracy}
