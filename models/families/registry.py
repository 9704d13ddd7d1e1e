"""The model registry: `create(name, input_shape=..., num_classes=...)`.

The paper's names (Kamal & Bae's Tables 1-3) map to a model family and its
fixed arguments: `se_*` the Super-encoder, `ac_<game>_v<version>_<rec>` the
Auto-classifier, `cnn` the independent CNN, the rest the baselines.
"""

from __future__ import annotations

import difflib

# Class names, not classes: the names and their arguments are known without
# importing TensorFlow (the command line's choices and --help need them).
#: name -> (class name, fixed constructor arguments)
MODELS = {
    "se_co": ("SuperEncoder", {"game": "co"}),
    "se_nc": ("SuperEncoder", {"game": "nc"}),
    "se_star": ("SuperEncoder", {"game": "co", "labelled_fraction": 0.2}),
    "se_star_nc": ("SuperEncoder", {"game": "nc", "labelled_fraction": 0.2}),
}
for _game in ("co", "nc"):
    for _version in (1, 2):
        for _rec in ("mse", "mae"):
            MODELS[f"ac_{_game}_v{_version}_{_rec}"] = (
                "AutoClassifier", {"game": _game, "version": _version, "reconstruction": _rec})


# The baselines of the paper.
MODELS.update({
    "ae": ("Autoencoder", {}),
    "dae": ("Autoencoder", {"noise": "gaussian", "noise_level": 0.3}),
    "vae": ("VariationalAutoencoder", {}),
    "dvae": ("VariationalAutoencoder", {"noise": "gaussian", "noise_level": 0.3}),
    "beta_vae": ("VariationalAutoencoder", {"beta": 4.0}),
    "aae": ("AdversarialAutoencoder", {}),
    "daae": ("AdversarialAutoencoder", {"noise": "gaussian", "noise_level": 0.3}),
    "idaae": ("AdversarialAutoencoder", {"noise": "gaussian", "noise_level": 0.3, "integrated": True}),
    "cnn": ("IndependentCNN", {}),
})


def list_models():
    """The registered model names, sorted."""
    return sorted(MODELS)


def families():
    """The model family modules, imported (so every model class is registered
    for deserialization; imports TensorFlow)."""
    from models.families import adversarial, auto_classifier, autoencoders, cnn, super_encoder, variational

    return adversarial, auto_classifier, autoencoders, cnn, super_encoder, variational


def model_class(class_name):
    """The model family class of a registry entry (imports TensorFlow)."""
    return next(getattr(m, class_name) for m in families() if hasattr(m, class_name))


def create(name, input_shape, num_classes, dtype_policy=None, **kwargs):
    """Build a registered model.

    Args:
        name: a name from `list_models()`, e.g. "ac_co_v1_mse".
        input_shape: image shape (H, W, C).
        num_classes: number of classes.
        dtype_policy: the precision its networks are built and trained in
            ("float32", "mixed_bfloat16", "mixed_float16" or a
            `keras.DTypePolicy`); None: the global policy. The global policy
            is left as it was.
        **kwargs: constructor arguments overriding the registry's (e.g.
            `size="large"`, `labelled_fraction=0.1`).

    Raises:
        ValueError: unknown name (the message lists close matches).
    """
    if name not in MODELS:
        close = difflib.get_close_matches(name, MODELS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}.")
    class_name, fixed = MODELS[name]
    cls = model_class(class_name)
    from models.core.precision import policy_scope  # TensorFlow: imported on use

    with policy_scope(dtype_policy) as policy:
        return cls(input_shape=input_shape, num_classes=num_classes, dtype=policy, **{**fixed, **kwargs})
