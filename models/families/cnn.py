"""The independent CNN: the Auto-classifier's classifier C trained alone.

The paper's "Independent CNN" row: the same classifier network as the
Auto-classifier's C (`models.core.networks.classifier`), trained with
cross-entropy only, with no generator. `encode(x)` returns C(x), like the
Auto-classifier, so both are scored on the same code.
"""

from __future__ import annotations

from models.core import networks
from models.core.checks import check_between
from models.core.game import ClassifierCode, GameModel, Phase, register


@register
class IndependentCNN(ClassifierCode, GameModel):
    """A classifier trained with (categorical) cross-entropy.

    Args:
        input_shape: image shape (H, W, C).
        num_classes: number of classes.
        size: "small", "large", "paper" or "wide" (the same networks as the Auto-classifier).
        labelled_fraction: fraction of training labels used (-1 = unlabelled).
        label_smoothing: label smoothing of the cross-entropy (0: none).
        classifier: optional custom player.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).
    """

    PLAYER_NAMES = ("classifier",)
    classifies = True

    def __init__(self, input_shape, num_classes, size="small", labelled_fraction=1.0, label_smoothing=0.0,
                 classifier=None, **kwargs):
        check_between(label_smoothing, "label_smoothing", 0.0, 1.0)
        super().__init__(**kwargs)

    def build_players(self, custom):
        c = self.config
        return {"classifier": custom["classifier"] or networks.classifier(tuple(c["input_shape"]),
                                                                           c["num_classes"], c["size"])}

    def phases(self):
        return [Phase(("classifier",), self._classify, metrics=("accuracy",))]

    def _classify(self, x, y, training):
        probs = self.classifier(x, training=training)
        _, _, loss, accuracy = self.classification_terms(probs, y)
        return {"total": loss, "accuracy": accuracy}
