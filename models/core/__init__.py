"""The bottom layer of the model zoo: what every model is built from.

* `game`: `GameModel`, the multi-player training base (players, phases,
  per-player optimizers, loss scaling, replica scaling, trackers);
* `networks`: the network builders (encoders, classifiers, decoders,
  discriminators) in two sizes;
* `labels`: one-hot labels, the unlabelled mask, wrong labels for
  matching-aware discriminators, masked accuracy;
* `precision`: the dtype-policy scope models are built under;
* `checks`: argument validators;
* `compat`: the private Keras/TensorFlow APIs used, each version-guarded.

Imports only `keraslosses` and the frameworks.
"""
