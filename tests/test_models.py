"""Every registered Autonets model, and the game mechanics of the base class."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keraslosses as kl
import models
from models.core import checks

SHAPE = (8, 8, 1)
CLASSES = 3


def toy_data(n=96, seed=0):
    """Separable 8x8 images: class k lights the k-th horizontal band."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % CLASSES
    x = rng.uniform(0.0, 0.2, size=(n, *SHAPE)).astype("float32")
    for k in range(CLASSES):
        x[y == k, 2 * k + 1:2 * k + 3, :, 0] += 0.8
    return np.clip(x, 0, 1), y.astype("int32")


def weights_of(net):
    return [w.copy() for w in net.get_weights()]


def changed(before, net):
    return any(not np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


def _fit_args(model, x, y):
    return (x, y) if model.classifies else (x, None)


@pytest.mark.parametrize("name", models.list_models())
def test_every_model_trains_a_step_saves_reloads_and_predicts_the_same(name, tmp_path):
    """The fast tier's smoke test of each registry model: one step, then a
    `.keras` round trip that restores the config values, the predictions,
    the codes and every optimizer's state."""
    keras.utils.set_random_seed(0)
    x, y = toy_data(16)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    model.compile(optimizers={p: keras.optimizers.Adam(3e-3) for p in model.optimizer_slots})
    history = model.fit(*_fit_args(model, x, y), batch_size=16, epochs=1, verbose=0).history
    assert set(history) == set(model.trackers) and all(np.isfinite(v).all() for v in history.values()), history

    probs = model.predict(x, verbose=0)
    code = model.encode(x)
    assert code.shape[0] == len(x) and code.ndim == 2
    if model.classifies:
        assert probs.shape == (len(x), CLASSES)
        np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    if model.reconstructs:
        recon = model.reconstruct(x[:4])
        assert recon.shape == (4, *SHAPE)
        if not model.classifies:  # an autoencoder's call is its reconstruction
            np.testing.assert_allclose(recon, probs[:4], rtol=1e-5, atol=1e-6)
    else:
        with pytest.raises(NotImplementedError):
            model.reconstruct(x[:1])

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.config == model.config
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), probs)
    np.testing.assert_array_equal(loaded.encode(x), code)
    assert set(loaded.player_optimizers) == set(model.optimizer_slots)
    for player, optimizer in model.player_optimizers.items():  # optimizer states restored, not restarted
        restored = loaded.player_optimizers[player]
        assert int(restored.iterations) == int(optimizer.iterations) == 1
        np.testing.assert_array_equal(restored.variables[-1].numpy(), optimizer.variables[-1].numpy())


@pytest.mark.slow
@pytest.mark.parametrize("name", models.list_models())
def test_every_model_learns_a_separable_problem_and_resumes(name, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = toy_data()
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    model.compile(optimizers={p: keras.optimizers.Adam(3e-3) for p in model.optimizer_slots})
    history = model.fit(*_fit_args(model, x, y), batch_size=32, epochs=10, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    # On a separable problem the supervised and reconstruction terms fall
    # from the first epoch's mean to the last's (adversarial terms need not).
    for term in ("label_loss", "reconstruction_loss", "generator_loss"):
        if term in history:
            assert history[term][-1] < history[term][0], (term, history[term])
    if "adversarial_loss" not in history:
        assert history["loss"][-1] < history["loss"][0], history["loss"]
    model.save(tmp_path / "m.keras")
    resumed = keras.saving.load_model(tmp_path / "m.keras").fit(*_fit_args(model, x, y), batch_size=32, epochs=1,
                                                                verbose=0).history
    assert np.isfinite(resumed["loss"]).all()


def test_constructor_arguments_are_captured_once_with_their_defaults():
    import inspect

    model = models.create("dvae", input_shape=SHAPE, num_classes=CLASSES, latent_dim=5)
    expected = {}
    for cls in (models.Autoencoder, models.VariationalAutoencoder):  # parents' defaults, then the child's
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            if p.default is not p.empty and p.name not in cls.PLAYER_NAMES:
                expected[p.name] = p.default
    expected.update(input_shape=SHAPE, num_classes=CLASSES, latent_dim=5, noise="gaussian", noise_level=0.3)
    assert model.config == expected
    config = model.get_config()
    assert {"encoder", "decoder"} <= set(config) and config["latent_dim"] == 5 and config["dtype"]["config"]["name"]
    clone = models.VariationalAutoencoder.from_config(config)
    assert clone.config == model.config


def test_numpy_scalar_rates_build_and_serialize_as_plain_numbers():
    # A sweep over np.float32 values: the range checks take them, and the
    # saved config holds a JSON number that reloads to the same rate.
    model = models.create("aae", input_shape=SHAPE, num_classes=CLASSES, adversarial_rate=np.float32(0.25))
    serialized = keras.saving.serialize_keras_object(model)
    rate = serialized["config"]["adversarial_rate"]
    assert type(rate) is float and rate == 0.25
    clone = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert clone.learning_rate_scale("discriminator") == 0.25


def test_capabilities_are_declared():
    table = {name: (m.classifies, m.reconstructs, m.generates) for name in models.list_models()
             for m in [models.create(name, input_shape=SHAPE, num_classes=CLASSES)]}
    assert table["cnn"] == (True, False, False)
    assert table["se_nc"] == (True, True, False)
    assert table["ac_nc_v2_mae"] == (True, True, True)
    assert table["aae"] == table["vae"] == (False, True, False)
    model = models.create("se_co", input_shape=SHAPE, num_classes=CLASSES)
    with pytest.raises(NotImplementedError, match="does not generate"):
        model.generate([0])


def test_a_phase_returning_an_undeclared_term_is_an_error():
    model = models.create("cnn", input_shape=SHAPE, num_classes=CLASSES)
    phase = model.phases()[0]
    model.phases = lambda: [models.Phase(phase.players, lambda x, y, training: {**phase.loss(x, y, training),
                                                                                "sneaky": 0.0})]
    x, y = toy_data(4)
    with pytest.raises(ValueError, match="undeclared terms.*sneaky"):
        model.compile()
        model.fit(x, y, epochs=1, verbose=0)


def test_registry_errors_and_contents():
    assert len(models.list_models()) == 21
    with pytest.raises(ValueError, match="ac_co_v1_mse"):
        models.create("ac_co_v1_mes", input_shape=SHAPE, num_classes=CLASSES)
    with pytest.raises(ValueError, match="game"):
        models.SuperEncoder(SHAPE, CLASSES, game="both")
    with pytest.raises(ValueError, match="optimizers"):
        models.create("se_co", input_shape=SHAPE, num_classes=CLASSES).compile(optimizers={"critic": "adam"})


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3), (8, 8, 1), (30, 20, 2)])
@pytest.mark.parametrize("size", ["small", "large", "paper", "wide"])
def test_networks_handle_any_image_shape(image_shape, size):
    from models.core import networks

    enc = networks.encoder(image_shape, 12, size)
    dec = networks.decoder(12, image_shape, size)
    x = np.random.default_rng(0).uniform(size=(2, *image_shape)).astype("float32")
    z = enc(x)
    assert tuple(z.shape) == (2, 12)
    out = dec(z)
    assert tuple(out.shape) == (2, *image_shape)
    # The pixels are the sigmoid of the last pre-activation (so in [0, 1]).
    pre = keras.Model(dec.input, dec.get_layer("pixels").input)(z)
    np.testing.assert_allclose(np.asarray(out), 1 / (1 + np.exp(-np.asarray(pre, np.float64))), rtol=1e-5, atol=1e-6)


def test_pair_logit_is_the_label_weighted_sum_of_the_per_label_logits():
    from models.core import conditional

    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], np.float32)
    labels = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], np.float32)
    got = np.asarray(conditional.pair_logit(logits, labels))
    np.testing.assert_allclose(got, [[-2.0], [0.2 * 0.0 + 0.3 * 3.0 + 0.5 * -1.0]], rtol=1e-6)


def _log_sigmoid(t):
    return -np.logaddexp(0.0, -t)


def test_discriminator_terms_match_a_numpy_reference():
    from models.core import conditional

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(5, 4)).astype("float32")
    probs = rng.dirichlet(np.ones(4), size=5).astype("float32")
    y = np.array([0, 3, -1, 2, 1])
    loss, accuracy = conditional.discriminator_terms(logits, probs, y, 4, class_weight=0.7)
    l64, p64 = logits.astype(np.float64), probs.astype(np.float64)
    expected, correct = [], []
    for i, label in enumerate(y):
        if label < 0:
            continue
        wrong = (label + 1 + i % 3) % 4  # `mismatched_one_hot`'s choice
        real, fake, mismatched = l64[i, label], p64[i] @ l64[i], l64[i, wrong]
        gan = -(_log_sigmoid(real) + 0.5 * _log_sigmoid(-fake) + 0.5 * _log_sigmoid(-mismatched))
        ce = -(l64[i, label] - np.log(np.sum(np.exp(l64[i]))))
        expected.append(gan + 0.7 * ce)
        correct.append(np.argmax(l64[i]) == label)
    assert float(loss) == pytest.approx(np.mean(expected), rel=1e-5)
    assert float(accuracy) == pytest.approx(np.mean(correct))


def test_player_terms_match_a_numpy_reference():
    from models.core import conditional

    rng = np.random.default_rng(4)
    logits = rng.normal(size=(6, 3)).astype("float32")
    probs = rng.dirichlet(np.ones(3), size=6).astype("float32")
    adversarial, posterior = conditional.player_terms(logits, probs, non_saturating=True)
    l64, p64 = logits.astype(np.float64), probs.astype(np.float64)
    target = np.exp(l64) / np.exp(l64).sum(-1, keepdims=True)
    assert float(adversarial) == pytest.approx(np.mean(-_log_sigmoid(np.sum(p64 * l64, -1))), rel=1e-5)
    assert float(posterior) == pytest.approx(np.mean(-np.sum(target * np.log(p64), -1)), rel=1e-5)


@pytest.mark.parametrize("name, phase", [("se_nc", "_non_cooperative"), ("se_star_nc", "_non_cooperative"),
                                         ("ac_nc_v2_mse", "_against_latent_discriminator")])
def test_the_labels_reach_the_players_only_through_the_discriminator(name, phase):
    # What makes the game non-cooperative: the minimised total of the
    # label-proposing players is the same whatever the labels (D, not the
    # labels, is in their loss); D's own loss does depend on them.
    keras.utils.set_random_seed(0)
    x, y = toy_data(24)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    other = (y + 1) % CLASSES
    totals = [float(getattr(model, phase)(x, labels, training=False)["total"])
              for labels in (y, other, -np.ones_like(y))]
    assert totals[0] == totals[1] == totals[2]
    d_phase = model.phases()[0].loss
    assert float(d_phase(x, y, training=False)["total"]) != float(d_phase(x, other, training=False)["total"])


@pytest.mark.parametrize("non_saturating, weight", [(None, 1.0), (True, 1.0), (False, 1.0), (None, 0.25)])
def test_auto_classifier_v1_classifier_term_is_minimax_unless_asked(non_saturating, weight):
    # C's total in AC(nc) v1 is L_C plus `adversarial_weight` times
    # log(1 - G+(C(x))) (the paper's minimax form, the default) or
    # -log G+(C(x)) (non-saturating), G+ = H(G(.)).
    keras.utils.set_random_seed(0)
    x, y = toy_data(12)
    model = models.create("ac_nc_v1_mse", input_shape=SHAPE, num_classes=CLASSES, non_saturating=non_saturating,
                          adversarial_weight=weight)
    probs = model.classifier(x).numpy()
    logits = model.discriminator(model.generator(probs)).numpy().astype(np.float64)[:, 0]
    classification = np.mean(-np.log(probs[np.arange(12), y].astype(np.float64)))
    adversarial = -_log_sigmoid(logits) if non_saturating else _log_sigmoid(-logits)
    terms = model._classifier_against_generator(x, y, training=False)
    assert float(terms["adversarial_loss"]) == pytest.approx(np.mean(adversarial), rel=1e-5)
    assert float(terms["total"]) == pytest.approx(weight * np.mean(adversarial) + classification, rel=1e-5)
    assert model.non_saturating is bool(non_saturating)


def _pixels_discriminator():
    # H as the identity on G's pixels (flattened): what H is shown, exactly
    inputs = keras.Input(SHAPE)
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


@pytest.mark.parametrize("joint", [False, True])
def test_v1_judges_real_and_fake_codes_in_one_generator_call_when_joint(joint):
    # G's BatchNorm normalises each call's batch with its own statistics:
    # with `joint_batch` the real codes y and the fake ones C(x) share one
    # call (one set of statistics), else each is normalised on its own.
    keras.utils.set_random_seed(0)
    x, y = toy_data(12)
    model = models.create("ac_nc_v1_mse", input_shape=SHAPE, num_classes=CLASSES, size="paper",
                          joint_batch=joint, discriminator=_pixels_discriminator())
    onehot = np.eye(CLASSES, dtype="float32")[y]
    probs = model.classifier(x).numpy()
    real, fake = (t.numpy() for t in model._g_plus_pair(onehot, probs, training=True))
    together = model.generator(np.concatenate([onehot, probs]), training=True).numpy().reshape(24, -1)
    alone = [model.generator(c, training=True).numpy().reshape(12, -1) for c in (onehot, probs)]
    expected = (together[:12], together[12:]) if joint else alone
    np.testing.assert_allclose(real, expected[0], atol=1e-6)
    np.testing.assert_allclose(fake, expected[1], atol=1e-6)
    assert np.abs(together[:12] - alone[0]).max() > 1e-3  # the statistics do differ


@pytest.mark.parametrize("joint", [False, True])
def test_v1_classifier_phase_runs_g_on_the_real_codes_only_when_joint(joint):
    # G's BatchNorm moving statistics after C's phase: one update from C(x)
    # alone, or (joint) from y and C(x) together; never a wasted call on y.
    keras.utils.set_random_seed(0)
    x, y = toy_data(12)
    inputs = keras.Input(SHAPE)  # a deterministic C: no dropout, no BatchNorm
    classifier = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(keras.layers.Flatten()(inputs)))
    model = models.create("ac_nc_v1_mse", input_shape=SHAPE, num_classes=CLASSES, size="paper", joint_batch=joint,
                          classifier=classifier)
    start = [w.numpy() for w in model.generator.non_trainable_weights]
    model._classifier_against_generator(x, y, training=True)
    after = [w.numpy() for w in model.generator.non_trainable_weights]
    for w, value in zip(model.generator.non_trainable_weights, start):
        w.assign(value)
    probs = classifier(x).numpy()
    model.generator(np.concatenate([np.eye(CLASSES, dtype="float32")[y], probs]) if joint else probs, training=True)
    for got, expected, initial in zip(after, (w.numpy() for w in model.generator.non_trainable_weights), start):
        assert np.abs(expected - initial).max() > 0  # the call did move them
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_v1_instance_noise_reaches_h_in_training_only():
    keras.utils.set_random_seed(0)
    model = models.create("ac_nc_v1_mse", input_shape=SHAPE, num_classes=CLASSES, instance_noise=0.2,
                          discriminator=_pixels_discriminator())
    codes = np.random.default_rng(0).dirichlet(np.ones(CLASSES), size=256).astype("float32")
    clean = model.generator(codes).numpy().reshape(256, -1)
    np.testing.assert_allclose(model._g_plus(codes, training=False).numpy(), clean, atol=1e-6)
    noise = model._g_plus(codes, training=True).numpy() - clean  # the small G has no BatchNorm
    assert noise.std() == pytest.approx(0.2, rel=0.03) and abs(noise.mean()) < 0.01


def test_auto_classifier_v2_defaults_to_the_non_saturating_form():
    model = models.create("ac_nc_v2_mse", input_shape=SHAPE, num_classes=CLASSES)
    assert model.config["non_saturating"] is None and model.non_saturating is True


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_the_encoder_hears_its_share_of_the_game(share):
    # The encoder's gradient is the reconstruction's plus `share` times the
    # game's (the game's measured on a twin hearing all of it).
    keras.utils.set_random_seed(0)
    x, y = tf.constant(toy_data(24)[0]), tf.constant(toy_data(24)[1])
    model = models.create("se_nc", input_shape=SHAPE, num_classes=CLASSES, encoder_gradient=share)
    twin = models.create("se_nc", input_shape=SHAPE, num_classes=CLASSES, encoder_gradient=1.0)
    twin.set_weights(model.get_weights())

    def game_gradient(m):
        with tf.GradientTape(persistent=True) as tape:
            terms = m._non_cooperative(x, y, training=False)
            reconstruction = m.config["beta"] * terms["reconstruction_loss"]
        weights = m.encoder.trainable_variables
        total, rec = tape.gradient(terms["total"], weights), tape.gradient(reconstruction, weights)
        return [(t - r).numpy() for t, r in zip(total, rec)]

    full = game_gradient(twin)
    assert max(np.abs(g).max() for g in full) > 1e-4  # the game does reach the encoder
    for got, whole in zip(game_gradient(model), full):
        np.testing.assert_allclose(got, share * whole, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("argument, value", [("class_weight", -1.0), ("posterior_weight", "1"),
                                             ("encoder_gradient", 1.5)])
def test_bad_game_weights_are_value_errors_naming_them(argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`.*received {argument}="):
        models.create("se_nc", input_shape=SHAPE, num_classes=CLASSES, **{argument: value})


@pytest.mark.parametrize("name, argument, value", [
    ("se_nc", "non_saturating", None), ("se_nc", "non_saturating", "yes"),
    ("ac_nc_v1_mse", "non_saturating", "minimax"), ("ac_nc_v2_mse", "non_saturating", 0.5),
    ("ac_nc_v1_mse", "adversarial_weight", -0.1),
    ("ac_nc_v1_mse", "instance_noise", -1.0), ("ac_nc_v1_mae", "joint_batch", "yes"),
    ("se_nc", "discriminator_batch_norm", "yes"), ("ac_nc_v2_mse", "discriminator_batch_norm", None),
    ("ac_nc_v1_mse", "discriminator_batch_norm", True)])
def test_bad_game_options_are_value_errors_naming_them(name, argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`.*received {argument}={value!r}"):
        models.create(name, input_shape=SHAPE, num_classes=CLASSES, **{argument: value})


@pytest.mark.parametrize("check, value, message", [
    (lambda v: checks.check_between(v, "rate", 0.0), -0.5, "`rate` must be a number >= 0.0; received rate=-0.5."),
    (lambda v: checks.check_between(v, "rate", 0.0, open_low=True), 0.0,
     "`rate` must be a number > 0.0; received rate=0.0."),
    (lambda v: checks.check_between(v, "share", 0.0, 0.5), 0.75,
     "`share` must be a number in [0.0, 0.5]; received share=0.75."),
    (lambda v: checks.check_between(v, "share", 0.0, 0.5, open_low=True), 0.0,
     "`share` must be a number in (0.0, 0.5]; received share=0.0."),
    (lambda v: checks.check_between(v, "share", 0.0, 0.5), True,
     "`share` must be a number in [0.0, 0.5]; received share=True."),
    (lambda v: checks.check_between(v, "share", 0.0, 0.5), np.bool_(True),
     "`share` must be a number in [0.0, 0.5]; received share=np.True_."),
    (lambda v: checks.check_between(v, "rate", 0.0), float("nan"),
     "`rate` must be a number >= 0.0; received rate=nan."),
    (lambda v: checks.check_fraction(v, "labelled_fraction"), np.float32(1.5),
     "`labelled_fraction` must be a number in (0.0, 1.0]; received labelled_fraction=np.float32(1.5)."),
    (lambda v: checks.check_fraction(v, "labelled_fraction"), 0,
     "`labelled_fraction` must be a number in (0.0, 1.0]; received labelled_fraction=0."),
    (lambda v: checks.check_fraction(v, "labelled_fraction"), "0.2",
     "`labelled_fraction` must be a number in (0.0, 1.0]; received labelled_fraction='0.2'.")])
def test_range_checks_name_the_argument_the_value_and_the_bounds(check, value, message):
    with pytest.raises(ValueError) as raised:
        check(value)
    assert str(raised.value) == message


@pytest.mark.parametrize("low, high, open_low, inside", [(0.0, 0.5, True, [1e-9, 0.25, 0.5]),
                                                          (0.0, 0.5, False, [0.0, 0.5, 0]),
                                                          (1.0, float("inf"), True, [1.5, 1e30]),
                                                          # NumPy scalars (a sweep's values) are numbers too.
                                                          (0.0, 1.0, True, [np.float32(0.2), np.float64(1.0),
                                                                            np.int64(1)])])
def test_range_checks_accept_the_bounds_they_state(low, high, open_low, inside):
    for value in inside:
        checks.check_between(value, "x", low, high, open_low=open_low)  # raises on a wrong bound


@pytest.mark.parametrize("name, judges", [("se_nc", True), ("se_star_nc", True), ("ac_nc_v2_mae", True),
                                          ("se_co", False), ("ac_nc_v1_mse", False), ("ac_co_v2_mse", False)])
def test_implied_posterior_is_the_softmax_of_the_per_label_logits(name, judges):
    keras.utils.set_random_seed(0)
    x, _ = toy_data(8)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    assert model.judges_labels is judges
    if not judges:
        with pytest.raises(ValueError, match="implied_posterior.*received"):
            model.implied_posterior(x)
        return
    logits = model.discriminator(x).numpy().astype(np.float64)
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    got = model.implied_posterior(x)
    assert got.shape == (8, CLASSES)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_strict_cooperation_is_twice_the_larger_batch_loss():
    keras.utils.set_random_seed(0)
    x, y = toy_data(16)
    model = models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=CLASSES)
    terms = model._cooperative(x, y, training=False)
    lc, lg = float(terms["classifier_loss"]), float(terms["generator_loss"])
    assert float(terms["total"]) == pytest.approx(2 * max(lc, lg), rel=1e-6)
    # and the terms are the hand-computable batch means
    probs = model.classifier(x).numpy()
    assert lc == pytest.approx(np.mean(-np.log(probs[np.arange(16), y])), rel=1e-5)
    recon = model.generator(probs).numpy()
    assert lg == pytest.approx(np.mean((recon - x) ** 2), rel=1e-5)
    v2 = models.create("ac_co_v2_mse", input_shape=SHAPE, num_classes=CLASSES, weight=0.3)
    v2.set_weights(model.get_weights())
    terms = v2._cooperative(x, y, training=False)
    assert float(terms["total"]) == pytest.approx(0.3 * lc + lg, rel=1e-6)


@pytest.mark.parametrize("name", ["se_nc", "ac_nc_v1_mse", "ac_nc_v2_mse", "aae", "idaae"])
def test_each_phase_moves_only_its_players(name):
    keras.utils.set_random_seed(0)
    x, y = toy_data(32)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    model.compile()
    for phase in model.phases():
        before = {p: weights_of(net) for p, net in model.players.items()}
        model._run_phase(phase, tf.constant(x), tf.constant(y))
        moved = {model.optimizer_slots[slot] for slot in phase.players}
        for player, net in model.players.items():
            assert changed(before[player], net) == (player in moved), (phase.players, player)


def _discriminator_accuracy(model, x, y):
    from models.core.conditional import pair_logit

    x = tf.constant(x)
    onehot = tf.constant(keras.utils.to_categorical(y, CLASSES))
    probs = model.classifier(x) if hasattr(model, "classifier") else model.separator(model.encoder(x))
    logits = model.discriminator(x)
    real, fake = pair_logit(logits, onehot), pair_logit(logits, probs)
    return float(np.mean(np.concatenate([real.numpy() > 0, fake.numpy() <= 0])))


@pytest.mark.parametrize("name", ["se_nc", "ac_nc_v2_mse"])
def test_discriminator_learns_when_the_other_players_are_frozen(name):
    keras.utils.set_random_seed(0)
    x, y = toy_data(48)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES)
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-2)})
    phase = model.phases()[0]
    assert phase.players == ("discriminator",)
    before = _discriminator_accuracy(model, x, y)
    for _ in range(40):
        model._run_phase(phase, tf.constant(x), tf.constant(y))
    after = _discriminator_accuracy(model, x, y)
    assert after > max(before, 0.9), (before, after)


def test_semi_supervised_masks_labels_and_ignores_unlabelled_samples():
    y = np.repeat(np.arange(5), 20)
    masked = models.mask_labels(y, 0.2, seed=1)
    assert (masked >= 0).sum() == 20 and all((masked == k).sum() == 4 for k in range(5))
    np.testing.assert_array_equal(masked[masked >= 0], y[masked >= 0])
    keras.utils.set_random_seed(0)
    x, y = toy_data(12)
    model = models.create("se_star", input_shape=SHAPE, num_classes=CLASSES)
    unlabelled = np.full_like(y, -1)
    terms = model._cooperative(x, unlabelled, training=False)
    assert float(terms["label_loss"]) == 0.0 and float(terms["reconstruction_loss"]) > 0.0
    half = y.copy()
    half[6:] = -1
    terms = model._cooperative(x, half, training=False)
    probs = model(x).numpy()[:6]
    expected = np.mean(np.sum(np.abs(probs - np.eye(CLASSES)[y[:6]]), axis=-1))  # the L1 norm, mean over samples
    assert float(terms["label_loss"]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("num_classes", [2, 3, 10])
def test_mismatched_labels_are_always_wrong_and_cover_every_wrong_class(num_classes):
    from models.core.labels import mismatched_one_hot

    y = np.repeat(np.arange(num_classes), 2 * num_classes)
    wrong = np.asarray(mismatched_one_hot(y, num_classes))
    assert wrong.shape == (len(y), num_classes) and np.all(wrong.sum(-1) == 1)
    wrong = wrong.argmax(-1)
    for label in range(num_classes):  # brute force: each class meets every other class, never itself
        assert set(wrong[y == label]) == set(range(num_classes)) - {label}


def test_matching_discriminator_loss_values():
    def softplus(v):
        return np.log1p(np.exp(v))

    real, fake, wrong = np.array([[1.5], [-0.3]]), np.array([[0.2], [2.0]]), np.array([[-1.0], [0.7]])
    expected = softplus(-real[:, 0]) + 0.5 * (softplus(fake[:, 0]) + softplus(wrong[:, 0]))
    np.testing.assert_allclose(np.asarray(kl.matching_discriminator_loss(real, fake, wrong)), expected, rtol=1e-6)
    zero = np.zeros((1, 1))  # D undecided everywhere: log 2 + (log 2 + log 2) / 2
    assert float(kl.matching_discriminator_loss(zero, zero, zero)[0]) == pytest.approx(2 * np.log(2), rel=1e-6)
    # w = 0 is the plain GAN discriminator loss
    np.testing.assert_allclose(np.asarray(kl.matching_discriminator_loss(real, fake, wrong, mismatch_weight=0.0)),
                               np.asarray(kl.discriminator_loss(real, fake)), rtol=1e-6)


def test_mixed_float16_uses_loss_scaling_and_skips_overflowing_steps():
    keras.utils.set_random_seed(0)
    x, y = toy_data(16)
    model = models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=CLASSES, dtype_policy="mixed_float16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left alone
    model.compile()  # loss scaling follows the model's own policy
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.player_optimizers.values())
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    phase = model.phases()[0]
    optimizer = model.player_optimizers["classifier"]
    scale = float(optimizer.dynamic_scale)
    before = weights_of(model.classifier)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.inf  # forces non-finite gradients
    model._run_phase(phase, tf.constant(bad), tf.constant(y))
    assert not changed(before, model.classifier)
    assert float(optimizer.dynamic_scale) == scale / 2


def test_mixed_bfloat16_trains_with_float32_losses():
    keras.utils.set_random_seed(0)
    x, y = toy_data(32)
    with models.policy_scope("mixed_bfloat16"):
        model = models.create("se_nc", input_shape=SHAPE, num_classes=CLASSES)
    assert model.dtype_policy.name == "mixed_bfloat16" and keras.config.dtype_policy().name == "float32"
    model.compile()
    assert not any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.player_optimizers.values())
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    terms = model._non_cooperative(x, y, training=False)
    assert all(v.dtype == "float32" for v in terms.values())
    assert model.predict(x, verbose=0).dtype == np.float32


def test_losses_come_from_keraslosses():
    # The games use the library's losses, not private copies.
    x, y = toy_data(8)
    x = tf.constant(x)
    model = models.create("ac_nc_v2_mse", input_shape=SHAPE, num_classes=CLASSES)
    from models.core.conditional import pair_logit

    probs = model.classifier(x)
    fake = pair_logit(model.discriminator(x), probs)
    terms = model._against_latent_discriminator(x, y, training=False)
    assert float(terms["adversarial_loss"]) == pytest.approx(float(np.mean(kl.generator_loss(fake))), rel=1e-6)


def _train_once(policy, x, y):
    keras.utils.set_random_seed(0)
    model = models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=CLASSES, dtype_policy=policy)
    model.compile()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model.get_weights(), model.player_optimizers["classifier"]


def test_two_models_of_different_policies_in_one_process_each_match_a_run_alone():
    x, y = toy_data(16)
    alone_fp16, alone_fp32 = _train_once("mixed_float16", x, y)[0], _train_once("float32", x, y)[0]
    keras.config.set_dtype_policy("mixed_bfloat16")  # a global policy set by the user stays in place
    try:
        weights_16, optimizer_16 = _train_once("mixed_float16", x, y)
        weights_32, optimizer_32 = _train_once("float32", x, y)
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy("float32")
    assert isinstance(optimizer_16, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(optimizer_32, keras.optimizers.LossScaleOptimizer)
    for got, want in ((weights_16, alone_fp16), (weights_32, alone_fp32)):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(weights_16, weights_32))  # the policies differ


def test_a_reloaded_model_keeps_its_own_policy(tmp_path):
    model = models.create("cnn", input_shape=SHAPE, num_classes=CLASSES, dtype_policy="mixed_bfloat16")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # under the float32 global policy
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    assert loaded.classifier.layers[1].dtype_policy.name == "mixed_bfloat16"


@pytest.mark.parametrize("bad, message", [
    ("pixels", r"`x` must hold finite pixel values in \[0, 1\]; received values in"),
    ("nan", r"`x` must hold finite pixel values"),
    ("shape", r"`x` must hold images of shape \(8, 8, 1\).*x.shape=\(12, 8, 4, 1\)"),
    ("empty", r"`x` must hold at least one image"),
    ("label", r"`y` must hold integer labels in \[0, 3\) or -1 \(unlabelled\); received a label of .*3"),
    ("length", r"`y` must hold one integer label per image"),
])
def test_fit_rejects_bad_arrays_before_any_step(bad, message):
    x, y = toy_data(12)
    x, y = {"pixels": (x * 255, y), "nan": (np.where(x > 0.5, np.nan, x), y), "shape": (x[:, :, :4], y),
            "empty": (x[:0], y[:0]), "label": (x, np.where(y == 2, 3, y)), "length": (x, y[:5])}[bad]
    model = models.create("ac_nc_v2_mse", input_shape=SHAPE, num_classes=CLASSES)
    model.compile()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, epochs=1, verbose=0)
    assert all(int(o.iterations) == 0 for o in model.player_optimizers.values())  # no step ran


def test_out_of_range_labels_from_a_dataset_fail_the_step():
    x, y = toy_data(8)
    model = models.create("se_co", input_shape=SHAPE, num_classes=CLASSES)
    model.compile()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must lie in \[0, 3\) or be -1"):
        model.fit(tf.data.Dataset.from_tensor_slices((x, y + 3)).batch(4), epochs=1, verbose=0, shuffle=False)


def _diverging_cnn(after_steps):
    """A CNN whose loss becomes NaN once its optimizer has taken `after_steps` steps."""
    model = models.create("cnn", input_shape=SHAPE, num_classes=CLASSES)
    phase = model.phases()[0]

    def loss(x, y, training):
        terms = phase.loss(x, y, training)
        broken = model.player_optimizers["classifier"].iterations >= after_steps
        return {**terms, "total": terms["total"] + tf.where(broken, np.nan, 0.0)}

    model.phases = lambda: [models.Phase(phase.players, loss, phase.losses, phase.metrics)]
    return model


def test_a_game_whose_loss_becomes_nan_stops_under_terminate_on_nan():
    x, y = toy_data(32)
    model = _diverging_cnn(after_steps=6)
    model.compile()
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 2 and np.isnan(history.history["loss"][-1])
    assert int(model.player_optimizers["classifier"].iterations) == 7  # stopped at the first NaN batch


def test_compat_version_windows():
    from models.core import compat

    window = ((3, 5), (3, 15))
    assert compat.supported("3.15.1", window) and compat.supported("3.5.0", window)
    assert not compat.supported("3.16.0", window) and not compat.supported("3.4.9", window)
    assert not compat.supported("4.0.0", window)


def trained_on_the_main_job(name):
    """`name` trained as the README's main job trains it (digits, 30 epochs,
    batch 64, seed 0, the default optimizers); (model, test images, test labels)."""
    from models import data

    x, y = data.load_arrays("digits", "train")
    keras.utils.set_random_seed(0)
    model = models.create(name, input_shape=x.shape[1:], num_classes=10)
    model.compile()
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    return (model, *data.load_arrays("digits", "test"))


@pytest.mark.slow
@pytest.mark.parametrize("name, floor", [("se_nc", 0.90), ("se_star_nc", 0.85), ("ac_nc_v2_mse", 0.90),
                                         ("ac_nc_v2_mae", 0.90)])
def test_the_non_cooperative_games_learn_the_main_job(name, floor):
    # The README's main job (scikit-learn's digits, 30 epochs, batch 64),
    # seed 0: 0.95 / 0.93 / 0.95 / 0.95 when written (seeds 1 and 2 alike).
    # Before the image-conditioned D and the posterior target: se_nc 0.10
    # (collapsed on one class), ac_nc_v2_mse 0.57; chance is 0.10.
    model, x_test, y_test = trained_on_the_main_job(name)
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test))
    implied = float(np.mean(np.asarray(model.discriminator(x_test)).argmax(-1) == y_test))
    assert accuracy >= floor, accuracy
    assert implied >= 0.85, implied


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ac_nc_v1_mse", "ac_nc_v1_mae"])
def test_auto_classifier_v1_learns_the_main_job(name):
    # With C's minimax term (the default), seeds 0 / 1 / 2: MSE 0.953 / 0.964 /
    # 0.964, MAE 0.953 / 0.962 / 0.962. With the non-saturating term (the
    # default before): MSE 0.924 / 0.918 / 0.829, MAE 0.931 / 0.824 / 0.844,
    # its full-strength gradient fighting L_C whenever G+ won.
    model, x_test, y_test = trained_on_the_main_job(name)
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test))
    assert accuracy >= 0.93, accuracy


def test_the_paper_size_normalises_every_player_but_the_discriminators():
    from models.core import networks

    def batch_norms(net):
        return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in _all_layers(net))

    classifier = networks.classifier((28, 28, 1), 10, "paper")
    # the 289k-parameter CNN (3 stages of two 3x3 convolutions, 32/64/128 filters, BatchNorm, global
    # average pooling) plus the 256-unit hidden layer every classifier of the zoo has
    assert 289_000 < classifier.count_params() < 289_000 + 128 * 256 + 256 * 10 + 10_000
    assert batch_norms(classifier) == 6 and batch_norms(networks.decoder(16, (28, 28, 1), "paper")) >= 3
    assert batch_norms(networks.image_label_discriminator((28, 28, 1), 10, "paper")) == 0
    assert batch_norms(networks.image_discriminator((28, 28, 1), "paper")) == 0
    assert batch_norms(networks.classifier((28, 28, 1), 10, "small")) == 0
    # the image-label D may take the classifier's trunk: BatchNorm and ReLU, no LeakyReLU
    normalised = networks.image_label_discriminator((28, 28, 1), 10, "paper", batch_norm=True)
    assert batch_norms(normalised) == 6
    assert not any(isinstance(layer, keras.layers.LeakyReLU) for layer in _all_layers(normalised))


def test_the_wide_size_is_the_paper_size_at_twice_the_width():
    from models.core import networks

    def widths(net):
        return [layer.filters for layer in _all_layers(net) if isinstance(layer, keras.layers.Conv2D)] + [
            layer.units for layer in _all_layers(net) if isinstance(layer, keras.layers.Dense)]

    paper, wide = (networks.classifier((28, 28, 1), 10, size) for size in ("paper", "wide"))
    assert widths(paper) == [32, 32, 64, 64, 128, 128, 256, 10]
    assert widths(wide) == [64, 64, 128, 128, 256, 256, 512, 10]
    # the same layers otherwise: BatchNorm after every convolution, dropout after the pooling
    assert [type(layer).__name__ for layer in _all_layers(wide)] == [
        type(layer).__name__ for layer in _all_layers(paper)]
    # a 3x3 convolution's weights grow 4-fold with both widths doubled: about 4 times the parameters
    assert 3.9 < wide.count_params() / paper.count_params() < 4.0
    # every family takes it, and its image-label D keeps the GAN rule (no BatchNorm unless asked)
    se = models.create("se_nc", input_shape=SHAPE, num_classes=CLASSES, size="wide")
    assert widths(se.encoder)[:2] == [64, 64]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in _all_layers(se.discriminator))


def test_the_paper_grade_sizes_are_the_normalized_ones():
    """The model cards flag a model trained at a size outside
    `PAPER_GRADE_SIZES`; that list is the networks' sizes with BatchNorm and
    dropout, and the command line accepts every network size."""
    from models import training
    from models.core import networks

    assert training.SIZES == tuple(networks.SIZES)
    assert training.PAPER_GRADE_SIZES == tuple(
        name for name, spec in networks.SIZES.items() if spec.get("normalize") and spec.get("dropout"))


@pytest.mark.parametrize("name", ["se_nc", "ac_nc_v2_mse"])
def test_discriminator_batch_norm_builds_trains_and_round_trips(name, tmp_path):
    """BatchNorm in the image-label D (SE(nc), AC(nc) v2): D reads only the
    real images, so its batch statistics hold nothing of real against fake
    pairs; the flag builds the classifier's trunk, trains, and survives a
    `.keras` round trip with its value."""
    keras.utils.set_random_seed(0)
    x, y = toy_data(16)
    model = models.create(name, input_shape=SHAPE, num_classes=CLASSES, size="paper", discriminator_batch_norm=True)
    norms = [layer for layer in _all_layers(model.discriminator) if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 * len(_paper_stages(SHAPE)) and model.config["discriminator_batch_norm"] is True
    before = np.array(norms[0].moving_mean)
    model.compile(optimizers={p: keras.optimizers.Adam(1e-3) for p in model.optimizer_slots})
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values()), history
    # D's phase ran in training mode: its BatchNorm statistics moved
    assert not np.allclose(before, np.array(norms[0].moving_mean))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.config["discriminator_batch_norm"] is True
    np.testing.assert_array_equal(loaded.implied_posterior(x), model.implied_posterior(x))
    plain = models.create(name, input_shape=SHAPE, num_classes=CLASSES, size="paper")
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in _all_layers(plain.discriminator))


def _paper_stages(shape):
    """The stages the paper-size trunk fits for `shape`."""
    from models.core import networks

    spec = networks.SIZES["paper"]
    return spec["filters"][: networks._stages(shape, spec["filters"])]


def _all_layers(net):
    for layer in net.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def test_label_smoothing_reaches_the_cross_entropy():
    keras.utils.set_random_seed(0)
    x, y = toy_data(12)
    plain = models.create("cnn", input_shape=SHAPE, num_classes=CLASSES)
    smooth = models.create("cnn", input_shape=SHAPE, num_classes=CLASSES, label_smoothing=0.3)
    smooth.set_weights(plain.get_weights())
    probs = plain.classifier(x).numpy().astype(np.float64)
    target = np.eye(CLASSES)[y] * 0.7 + 0.3 / CLASSES
    expected = np.mean(-np.sum(target * np.log(probs), -1))
    assert float(smooth._classify(x, y, training=False)["total"]) == pytest.approx(expected, rel=1e-5)
    # without smoothing, the plain cross-entropy (an inequality between the two would
    # hang on the random initialisation: near-uniform outputs gain from smoothing)
    unsmoothed = np.mean(-np.log(probs[np.arange(12), y]))
    assert float(plain._classify(x, y, training=False)["total"]) == pytest.approx(unsmoothed, rel=1e-5)
    assert abs(expected - unsmoothed) > 1e-3
