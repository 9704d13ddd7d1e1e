"""The keraslosses model zoo: the Autonets of Kamal & Bae and their baselines.

    >>> import models
    >>> model = models.create("ac_co_v1_mse", input_shape=(8, 8, 1), num_classes=10)
    >>> model.compile()

Every model trains with `model.fit(images_in_0_1, integer_labels)`, exposes
`encode(x)` (the latent code scored for separability) and is a registered,
serializable `keras.Model`. Trained MNIST and Fashion-MNIST Autonets load by
name: `models.load_pretrained("ac_co_v1_mse_mnist")`.

The folders are the layers; each imports only the layers below it:

* `cli/`: the `keraslosses` command line (parser, train/evaluate/tsne,
  reproduce, pretrained list/download/publish, demo);
* `training/`, `evaluation/`, `data/`, `pretrained/`: training runs, metrics
  and the separability protocol, the dataset loaders, the hash-checked
  pretrained zoo;
* `families/`: one module per model family and the registry (`create`);
* `core/`: the `GameModel` base, the networks, labels, precision, checks and
  the framework compatibility shims;
* `keraslosses` (the loss library) at the bottom.

Names are imported on first use, so `import models` (and the command
line's `--help`) does not import TensorFlow.
"""

from __future__ import annotations

import importlib

#: public name -> the module that defines it
_EXPORTS = {
    "AdversarialAutoencoder": "models.families.adversarial",
    "AutoClassifier": "models.families.auto_classifier",
    "Autoencoder": "models.families.autoencoders",
    "VariationalAutoencoder": "models.families.variational",
    "IndependentCNN": "models.families.cnn",
    "SuperEncoder": "models.families.super_encoder",
    "GameModel": "models.core.game",
    "Phase": "models.core.game",
    "mask_labels": "models.core.labels",
    "policy_scope": "models.core.precision",
    "with_policy": "models.core.precision",
    "create": "models.families.registry",
    "list_models": "models.families.registry",
    "list_pretrained": "models.pretrained",
    "load_pretrained": "models.pretrained",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
