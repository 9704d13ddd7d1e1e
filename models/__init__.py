"""The keraslosses model zoo: the Autonets of Kamal & Bae and their baselines.

    >>> import models
    >>> model = models.create("ac_co_v1_mse", input_shape=(8, 8, 1), num_classes=10)
    >>> model.compile()

Every model trains with `model.fit(images_in_0_1, integer_labels)`, exposes
`encode(x)` (the latent code scored for separability) and is a registered,
serializable `keras.Model`. The `keraslosses` command line lives in
`models.cli`. Trained MNIST and Fashion-MNIST Autonets load by name:
`models.load_pretrained("ac_co_v1_mse_mnist")` (see `models.pretrained`).
"""

from models.adversarial import AdversarialAutoencoder
from models.auto_classifier import AutoClassifier
from models.autoencoders import Autoencoder
from models.base import GameModel, mask_labels
from models.cnn import IndependentCNN
from models.pretrained import list_pretrained, load_pretrained
from models.registry import create, list_models
from models.super_encoder import SuperEncoder
from models.variational import VariationalAutoencoder

__all__ = ["AdversarialAutoencoder", "AutoClassifier", "Autoencoder", "GameModel", "IndependentCNN", "SuperEncoder",
           "VariationalAutoencoder", "create", "list_models", "list_pretrained", "load_pretrained",
           "mask_labels"]
