"""The model registry: `create(name, input_shape=..., num_classes=...)`."""

from __future__ import annotations

import difflib

from models.adversarial import AdversarialAutoencoder
from models.auto_classifier import AutoClassifier
from models.autoencoders import Autoencoder
from models.cnn import IndependentCNN
from models.super_encoder import SuperEncoder
from models.variational import VariationalAutoencoder

#: name -> (class, fixed constructor arguments)
MODELS = {
    "se_co": (SuperEncoder, {"game": "co"}),
    "se_nc": (SuperEncoder, {"game": "nc"}),
    "se_star": (SuperEncoder, {"game": "co", "labelled_fraction": 0.2}),
    "se_star_nc": (SuperEncoder, {"game": "nc", "labelled_fraction": 0.2}),
}
for _game in ("co", "nc"):
    for _version in (1, 2):
        for _rec in ("mse", "mae"):
            MODELS[f"ac_{_game}_v{_version}_{_rec}"] = (
                AutoClassifier, {"game": _game, "version": _version, "reconstruction": _rec})


# The baselines of the paper.
MODELS.update({
    "ae": (Autoencoder, {}),
    "dae": (Autoencoder, {"noise": "gaussian", "noise_level": 0.3}),
    "vae": (VariationalAutoencoder, {}),
    "dvae": (VariationalAutoencoder, {"noise": "gaussian", "noise_level": 0.3}),
    "beta_vae": (VariationalAutoencoder, {"beta": 4.0}),
    "aae": (AdversarialAutoencoder, {}),
    "daae": (AdversarialAutoencoder, {"noise": "gaussian", "noise_level": 0.3}),
    "idaae": (AdversarialAutoencoder, {"noise": "gaussian", "noise_level": 0.3, "integrated": True}),
    "cnn": (IndependentCNN, {}),
})


def list_models():
    """The registered model names, sorted."""
    return sorted(MODELS)


def create(name, input_shape, num_classes, **kwargs):
    """Build a registered model.

    Args:
        name: a name from `list_models()`, e.g. "ac_co_v1_mse".
        input_shape: image shape (H, W, C).
        num_classes: number of classes.
        **kwargs: constructor arguments overriding the registry's (e.g.
            `size="large"`, `labelled_fraction=0.1`).

    Raises:
        ValueError: unknown name (the message lists close matches).
    """
    if name not in MODELS:
        close = difflib.get_close_matches(name, MODELS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}.")
    cls, fixed = MODELS[name]
    return cls(input_shape=input_shape, num_classes=num_classes, **{**fixed, **kwargs})
