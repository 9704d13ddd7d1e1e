"""The models of the zoo, one module per family, and the registry.

* `super_encoder`: the Super-encoder, SE(co) / SE(nc) / SE* (Kamal & Bae);
* `auto_classifier`: the Auto-classifier, AC(co) v1/v2 and AC(nc) v1/v2;
* `cnn`: the independent CNN;
* `autoencoders`: AE and DAE; `variational`: VAE, DVAE, beta-VAE;
  `adversarial`: AAE, DAAE, iDAAE;
* `registry`: the paper's names -> (family, arguments); `create`.

Imports only `models.core` and `keraslosses`.
"""
