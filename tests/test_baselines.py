"""The baselines: ELBO numbers, beta = 1, corruption only in training, the
AAE's latent moving toward the prior."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import models
from tests.test_models import SHAPE, toy_data, trained_on_the_main_job


def test_elbo_equals_a_float64_numpy_computation():
    keras.utils.set_random_seed(0)
    x, _ = toy_data(8)
    rng = np.random.default_rng(1)
    eps = rng.normal(size=(8, 16)).astype("float32")
    for likelihood in ("bernoulli", "gaussian"):
        vae = models.create("vae", input_shape=SHAPE, num_classes=3, likelihood=likelihood)
        nll, kl = (t.numpy() for t in vae.elbo_terms(tf.constant(x), tf.constant(eps)))
        stats = vae.encoder(x).numpy().astype(np.float64)
        mean, log_var = stats[:, :16], stats[:, 16:]
        z = mean + np.exp(0.5 * log_var) * eps
        recon = vae.decoder(z.astype("float32")).numpy().astype(np.float64).reshape(8, -1)
        flat = x.reshape(8, -1).astype(np.float64)
        if likelihood == "bernoulli":
            want_nll = -(flat * np.log(recon) + (1 - flat) * np.log(1 - recon)).sum(-1)
        else:
            want_nll = 0.5 * ((flat - recon) ** 2).sum(-1)
        want_kl = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(-1)
        np.testing.assert_allclose(nll, want_nll, rtol=1e-5)
        np.testing.assert_allclose(kl, want_kl, rtol=1e-4, atol=1e-7)


def test_beta_vae_with_beta_one_is_the_vae():
    keras.utils.set_random_seed(0)
    x, _ = toy_data(16)
    vae = models.create("vae", input_shape=SHAPE, num_classes=3)
    beta1 = models.create("beta_vae", input_shape=SHAPE, num_classes=3, beta=1.0)
    beta4 = models.create("beta_vae", input_shape=SHAPE, num_classes=3)
    assert beta4.config["beta"] == 4.0
    for other in (beta1, beta4):
        other.set_weights(vae.get_weights())
    for model in (vae, beta1, beta4):  # the same eps for each
        model.seed_generator = keras.random.SeedGenerator(3)
    t_vae, t_1, t_4 = (m._reconstruct(tf.constant(x), None, training=True) for m in (vae, beta1, beta4))
    for key in t_vae:
        assert float(t_1[key]) == float(t_vae[key]), key
    assert float(t_4["total"]) == pytest.approx(float(t_4["reconstruction_loss"]) + 4 * float(t_4["kl_loss"]))


@pytest.mark.parametrize("name, noise", [("dae", "gaussian"), ("dvae", "gaussian"), ("daae", "gaussian"),
                                         ("dae", "masking")])
def test_denoising_models_corrupt_only_in_training(name, noise):
    keras.utils.set_random_seed(0)
    x, _ = toy_data(64)
    model = models.create(name, input_shape=SHAPE, num_classes=3, noise=noise, noise_level=0.3)
    xt = tf.constant(x)
    corrupted = model.corrupted(xt, training=True).numpy()
    assert not np.array_equal(corrupted, x)
    np.testing.assert_array_equal(model.corrupted(xt, training=False).numpy(), x)
    if noise == "masking":
        dropped = np.mean((corrupted == 0) & (x != 0))
        assert dropped == pytest.approx(0.3, abs=0.02)
    else:
        assert np.std(corrupted - x) == pytest.approx(0.3, rel=0.3)  # clipping to [0, 1] trims the noise
    # predict and encode are deterministic; so is evaluate's reconstruction
    # error, except the VAE's ELBO, a Monte Carlo estimate over eps (the
    # AAE's discriminator loss samples the prior).
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(model.encode(x), model.encode(x))
    model.compile()
    first, second = (model.evaluate(x, verbose=0, return_dict=True) for _ in range(2))
    if name == "dvae":  # a fresh eps per evaluation: two Monte Carlo estimates
        assert first["reconstruction_loss"] != second["reconstruction_loss"]
    else:
        assert first["reconstruction_loss"] == second["reconstruction_loss"]


def test_integrated_daae_needs_a_corruption_and_averages_codes():
    with pytest.raises(ValueError, match="noise"):
        models.AdversarialAutoencoder(SHAPE, integrated=True)
    keras.utils.set_random_seed(0)
    x, _ = toy_data(32)
    model = models.create("idaae", input_shape=SHAPE, num_classes=3, corruption_samples=8)
    xt = tf.constant(x)
    single = np.stack([model.encoder(model.corrupted(xt, True)).numpy() for _ in range(8)])
    integrated = np.stack([model.regularised_codes(xt, True).numpy() for _ in range(8)])
    # the Monte Carlo mean of 8 corruptions varies about sqrt(8) times less
    assert integrated.std(axis=0).mean() < 0.6 * single.std(axis=0).mean()
    np.testing.assert_array_equal(model.regularised_codes(xt, False).numpy(), model.encoder(xt).numpy())


def test_aae_moves_the_latent_distribution_toward_the_prior():
    keras.utils.set_random_seed(0)
    x, _ = toy_data(256)
    model = models.create("aae", input_shape=SHAPE, num_classes=3, latent_dim=4)
    # Start far from the prior: shift and shrink the code.
    kernel, bias = model.encoder.get_layer("latent").get_weights()
    model.encoder.get_layer("latent").set_weights([kernel * 0.1, bias + 3.0])

    def distance_to_prior():
        z = model.encode(x)
        return float(np.abs(z.mean(0)).mean() + np.abs(z.std(0) - 1.0).mean())

    before = distance_to_prior()
    model.compile(optimizers={"encoder_generator": keras.optimizers.Adam(1e-2),
                              "discriminator": keras.optimizers.Adam(1e-2)})
    model.fit(x, batch_size=64, epochs=40, verbose=0)
    after = distance_to_prior()
    assert after < 0.5 * before, (before, after)


def test_independent_cnn_is_the_auto_classifier_network():
    cnn = models.create("cnn", input_shape=SHAPE, num_classes=3)
    ac = models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=3)
    assert [type(layer).__name__ for layer in cnn.classifier.layers] == [
        type(layer).__name__ for layer in ac.classifier.layers]
    assert cnn.classifier.count_params() == ac.classifier.count_params()


def test_the_regularisation_phases_train_at_the_adversarial_rate():
    from models import training

    model = models.create("idaae", input_shape=SHAPE, num_classes=3, adversarial_rate=0.25)
    assert [model.learning_rate_scale(s) for s in ("encoder", "decoder", "discriminator", "encoder_generator")] == [
        1.0, 1.0, 0.25, 0.25]
    model.compile()  # the default optimizers: Adam 1e-3 times the scale
    rates = {slot: float(opt.learning_rate) for slot, opt in model.player_optimizers.items()}
    assert rates == pytest.approx({"encoder": 1e-3, "decoder": 1e-3, "discriminator": 2.5e-4,
                                   "encoder_generator": 2.5e-4})
    config = training.TrainConfig(model="idaae", learning_rate=2e-3)
    assert float(training._optimizer(config, 10, model.learning_rate_scale("discriminator")).learning_rate) == (
        pytest.approx(5e-4))
    assert models.create("aae", input_shape=SHAPE, num_classes=3).get_config()["adversarial_rate"] == 0.3
    assert models.create("cnn", input_shape=SHAPE, num_classes=3).learning_rate_scale("classifier") == 1.0
    with pytest.raises(ValueError, match=r"adversarial_rate.*received adversarial_rate=0"):
        models.create("aae", input_shape=SHAPE, num_classes=3, adversarial_rate=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["aae", "daae", "idaae"])
def test_the_adversarial_autoencoders_keep_their_codes_on_the_main_job(name):
    # The README's main job (digits, 30 epochs, batch 64), seed 0, default
    # optimizers. With the regularisation phases at the full rate
    # (adversarial_rate=1) the codes shrank and lost the digits: 5-NN on the
    # raw test codes 0.69 / 0.64 / 0.58, code std 0.43 / 0.21 / 0.37 (AAE /
    # DAAE / iDAAE); at 0.3: 0.91 / 0.89 / 0.87, std 3.5 / 2.5 / 2.5.
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    model, x_test, y_test = trained_on_the_main_job(name)
    codes = model.encode(x_test)
    accuracy = cross_val_score(KNeighborsClassifier(5), codes, y_test, cv=5).mean()
    assert accuracy >= 0.75, accuracy
    assert codes.std(axis=0).mean() > 0.5
