"""The documentation: the API pages cover every public name, the gallery's
pictures match the losses (against independent float64 references), the
tutorials and the migration guide's examples run, and the strict build fails
on a broken reference."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import integrate

import keraslosses
import models
from models import docs, pretrained
from models.docs import api, cards, gallery
from tests import reference as ref
from tests.conftest import ROOT, require_canonical_data

PAGES = docs.PAGES


def python_blocks(markdown):
    """The ```python blocks of a Markdown page, in order."""
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def run_page(markdown, tmp_path, monkeypatch):
    """Runs every python block of a page, in order, in one namespace (as a
    reader pasting them would), with the working directory in `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(markdown)
    assert blocks, "a page without code"
    namespace = {"__name__": "__tutorial__"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"<block {number}>", "exec"), namespace)  # noqa: S102 - the page's own code
    return namespace


# -- the API pages -------------------------------------------------------------------------
def test_every_public_name_is_on_exactly_one_api_page():
    pages = api.pages()
    documented = [(p.package, name) for p in pages for name in p.names]
    assert len(documented) == len(set(documented))
    expected = {("keraslosses", n) for n in keraslosses.__all__ if callable(getattr(keraslosses, n))}
    expected |= {("models", n) for n in models.__all__}
    assert set(documented) == expected
    stems = {p.stem for p in pages}
    assert {"losses_regression", "losses_metric", "losses_games", "models_super_encoder",
            "models_auto_classifier", "models_pretrained"} <= stems


def test_every_public_name_and_method_has_a_docstring():
    assert api.check_docstrings(api.pages()) == []


def test_a_missing_docstring_is_reported():
    page = api.Page("losses_fake", "keraslosses", "Fake", "", ["Huber"])
    original = keraslosses.Huber.__doc__
    try:
        keraslosses.Huber.__doc__ = None
        assert api.check_docstrings([page]) == ["keraslosses.Huber"]
    finally:
        keraslosses.Huber.__doc__ = original


def test_every_base_a_page_names_is_documented():
    """The strict build links each class's "Bases:" line; a base that no page
    documents (a new mixin) fails it. Checked here, in the fast tier."""
    assert api.undocumented_bases(api.pages()) == []


def test_an_undocumented_base_is_reported(monkeypatch):
    monkeypatch.setattr(api, "INTERNAL_CLASSES", ())
    assert api.undocumented_bases(api.pages()) == [
        "models.AutoClassifier -> models.core.game.ClassifierCode",
        "models.IndependentCNN -> models.core.game.ClassifierCode"]


# -- the gallery ---------------------------------------------------------------------------
def _adaptive_nll(x, alpha, scale):
    """rho + log c + log Z(alpha), Z by quadrature of exp(-rho) (float64)."""
    z, _ = integrate.quad(lambda t: math.exp(-ref.rho(np.array(t), alpha, scale)), -np.inf, np.inf)
    return ref.rho(x, alpha, scale) + math.log(scale) + math.log(z / scale)


def _gaussian_kl(mean, log_var):
    return 0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var).sum(-1)


#: keraslosses function -> its independent float64 reference (tests/reference.py)
REFERENCES = {
    "mean_absolute_error": ref.mae, "mean_squared_error": ref.mse, "root_mean_squared_error": ref.rmse_per_sample,
    "huber": ref.huber, "squared_log_error": ref.squared_log_error, "pinball": ref.pinball,
    "general_robust": ref.general_robust, "adaptive_nll": None, "gaussian_nll": ref.gaussian_nll,
    "laplace_nll": ref.laplace_nll, "laplace_mixture_nll": ref.laplace_mixture_nll, "gaussian_kl": _gaussian_kl,
    "binary_crossentropy": ref.bce, "binary_focal_crossentropy": ref.binary_focal,
    "categorical_crossentropy": ref.cce, "sparse_categorical_crossentropy": ref.scce,
    "categorical_focal_crossentropy": ref.categorical_focal, "kl_divergence": ref.kl,
    "cross_entropy": ref.cross_entropy, "entropy": ref.entropy, "weston_watkins_hinge": ref.weston_watkins,
    "crammer_singer_hinge": ref.crammer_singer, "multilabel_margin": ref.multilabel_margin,
}


def reference_loss(curve, x):
    """The curve's loss at the points x, from the float64 reference."""
    import tensorflow as tf

    inputs = [np.asarray(v, np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
              for v in curve.inputs(tf.constant(x, tf.float64))]
    if curve.loss == "adaptive_nll":
        return np.array([_adaptive_nll(np.array([v]), **curve.kwargs)[0] for v in x])
    return np.asarray(REFERENCES[curve.loss](*inputs, **curve.kwargs), np.float64).reshape(-1)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gallery")
    path = gallery.write_page(folder)
    return folder, json.loads(path.read_text())


def test_the_gallery_draws_every_regression_robust_and_classification_loss(drawn):
    folder, lines = drawn
    drawn_losses = {curve.loss for figure in gallery.FIGURES for curve in figure.curves}
    # every Loss class of these families, by the function it wraps (the two
    # private adapters are drawn through their public functions)
    adapters = {"_gaussian_kl_loss": "gaussian_kl", "_entropy_loss": "entropy"}
    families = ("regression", "robust", "probabilistic", "classification", "information", "margin")
    wrapped = set()
    for name in keraslosses.__all__:
        value = getattr(keraslosses, name)
        if isinstance(value, type) and value.__module__.split(".")[-1] in families:
            if issubclass(value, keraslosses.LossFunctionWrapper):
                fn = value().fn.__name__
                wrapped.add(adapters.get(fn, fn))
            else:
                wrapped.add("adaptive_nll")  # AdaptiveRobustLoss, a layer
    assert wrapped - drawn_losses == set()
    for figure in gallery.FIGURES:
        assert (folder / f"{figure.stem}.png").stat().st_size > 10_000
        assert list(lines[figure.stem]) == [c.label for c in figure.curves]
    page = (folder / "index.md").read_text()
    assert all(f"]({figure.stem}.png)" in page for figure in gallery.FIGURES)


@pytest.mark.parametrize("figure", gallery.FIGURES, ids=lambda f: f.stem)
def test_each_picture_matches_the_loss_and_its_gradient(drawn, figure):
    """At three grid points of every curve (away from kinks), the drawn loss
    equals the float64 reference and the drawn gradient its central
    difference."""
    _, lines = drawn
    for curve in figure.curves:
        line = lines[figure.stem][curve.label]
        x = np.asarray(line["x"])
        index = [len(x) // 7, len(x) // 2 - 5, 6 * len(x) // 7]
        points = x[index]
        expected = reference_loss(curve, points)
        np.testing.assert_allclose(np.asarray(line["loss"])[index], expected, rtol=1e-6, atol=1e-9,
                                   err_msg=f"{figure.stem} / {curve.label}")
        h = 1e-5
        slope = (reference_loss(curve, points + h) - reference_loss(curve, points - h)) / (2 * h)
        np.testing.assert_allclose(np.asarray(line["gradient"])[index], slope, rtol=1e-4, atol=1e-6,
                                   err_msg=f"{figure.stem} / {curve.label} gradient")


def test_the_gallery_references_are_checked_against_hand_values():
    """The test's own references, on values derived by hand."""
    assert ref.huber(np.array([[0.0]]), np.array([[3.0]]), delta=1.0)[0] == 2.5
    # Barron's density at alpha = 2 is the standard normal: Z = sqrt(2 pi)
    assert math.isclose(_adaptive_nll(np.array([0.0]), 2.0, 1.0)[0], 0.5 * math.log(2 * math.pi), rel_tol=1e-9)
    # alpha = 0 (Cauchy): Z = pi sqrt(2)
    assert math.isclose(_adaptive_nll(np.array([0.0]), 0.0, 1.0)[0], math.log(math.pi * math.sqrt(2)), rel_tol=1e-9)


# -- the model cards -----------------------------------------------------------------------
def test_a_card_shows_the_command_the_figures_next_to_the_paper_and_the_weaknesses():
    entry = pretrained.entry("ac_co_v1_mse_mnist")
    text = cards.card("ac_co_v1_mse_mnist", entry, {"tsne": "x_tsne.png"})
    assert entry["training"]["command"] in text
    assert f"| test accuracy | {entry['metrics']['accuracy']:.4f} | 0.9962 | " in text
    assert "![t-SNE of the codes of ac_co_v1_mse_mnist](x_tsne.png)" in text
    assert f"test accuracy {entry['metrics']['accuracy']:.4f} against the paper's 0.9962" in text
    float32 = entry["metrics_float32"]
    assert (f"computes it in float32, with the same weights: test accuracy {float32['accuracy']:.4f}, "
            f"reconstruction MSE {float32['reconstruction_mse']:.4f} (`models.pretrained.expected_metrics`)." in text)
    bare = {k: v for k, v in entry.items() if k not in ("validation", "metrics_float32")}
    without = cards.card("ac_co_v1_mse_mnist", bare, {})
    assert "keraslosses docs --data-dir" in without and "Validation figures" not in without
    assert "float32" not in without
    validated = cards.card("ac_co_v1_mse_mnist", {**bare, "validation": {"accuracy": 0.99}}, {})
    assert "set the recipe was chosen on): accuracy 0.9900." in validated


def test_the_cards_draw_codes_and_images_of_a_shipped_model(tmp_path, monkeypatch):
    data_dir = require_canonical_data()
    monkeypatch.setattr(cards, "TSNE_SAMPLES", 200)  # the same drawing as the site's 1,000 codes, 10x faster
    entry = pretrained.entry("se_co_mnist")
    pictures = cards.draw_pictures("se_co_mnist", entry, data_dir, tmp_path)
    assert pictures == {"tsne": "se_co_mnist_tsne.png", "images": "se_co_mnist_images.png"}
    assert all((tmp_path / name).stat().st_size > 10_000 for name in pictures.values())
    assert cards.picture_files("cnn_mnist", pretrained.entry("cnn_mnist")) == {"tsne": "cnn_mnist_tsne.png"}


KEPT_PICTURES = ROOT / "saved_models" / "cards"


def test_every_shipped_model_has_its_card_pictures_committed_and_no_stale_ones():
    """A republished model changes its SHA-256: `pretrained publish` draws
    its pictures and deletes the old file's folder, and both changes must be
    committed with the model."""
    entries = pretrained.manifest()
    for name, entry in entries.items():
        folder = cards.kept_folder(KEPT_PICTURES, entry)
        for png in cards.picture_files(name, entry).values():
            assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", (name, png)
    stale = sorted({p.name for p in KEPT_PICTURES.iterdir()} - {e["sha256"][:16] for e in entries.values()})
    assert not stale, f"pictures of files no longer shipped: delete saved_models/cards/{{{','.join(stale)}}}"


def test_the_cards_take_kept_pictures_and_say_how_to_draw_missing_ones(tmp_path):
    cards.write_pages(tmp_path / "zoo", pictures_dir=KEPT_PICTURES)
    text = (tmp_path / "zoo" / "se_co_mnist.md").read_text()
    assert "](se_co_mnist_tsne.png)" in text and "](se_co_mnist_images.png)" in text
    assert (tmp_path / "zoo" / "se_co_mnist_images.png").read_bytes() == (
        cards.kept_folder(KEPT_PICTURES, pretrained.entry("se_co_mnist")) / "se_co_mnist_images.png").read_bytes()
    assert "](cnn_mnist_tsne.png)" in (tmp_path / "zoo" / "cnn_mnist.md").read_text()
    cards.write_pages(tmp_path / "bare", pictures_dir=tmp_path / "empty")  # no pictures, no data: nothing drawn
    assert "keraslosses docs --data-dir" in (tmp_path / "bare" / "se_co_mnist.md").read_text()
    assert not (tmp_path / "empty").exists() and not list((tmp_path / "bare").glob("*.png"))


# -- the pages that run --------------------------------------------------------------------
def test_the_migration_guide_examples_run(tmp_path, monkeypatch):
    namespace = run_page((PAGES / "migration.md").read_text(), tmp_path, monkeypatch)
    assert "semi_hard" in namespace and "npairs" in namespace


def test_the_index_example_runs(tmp_path, monkeypatch):
    run_page((PAGES / "index.md").read_text(), tmp_path, monkeypatch)


def test_tutorial_custom_loss(tmp_path, monkeypatch):
    namespace = run_page(docs.tutorials()["custom_loss"], tmp_path, monkeypatch)
    assert abs(namespace["slope"] - 3) < 0.3


def test_tutorial_metric_learning(tmp_path, monkeypatch):
    namespace = run_page(docs.tutorials()["metric_learning"], tmp_path, monkeypatch)
    assert namespace["after"] >= 0.95


@pytest.mark.slow
def test_tutorial_pretrained_codes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASLOSSES_DATA_DIR", str(require_canonical_data()))
    namespace = run_page(docs.tutorials()["pretrained_codes"], tmp_path, monkeypatch)
    assert namespace["scores"]["knn_accuracy"] > 0.9


@pytest.mark.slow
def test_tutorial_reproduce_a_row(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASLOSSES_DATA_DIR", str(require_canonical_data()))
    namespace = run_page(docs.tutorials()["reproduce_a_row"], tmp_path, monkeypatch)
    assert namespace["result"]["accuracy"] > 0.95


def test_every_tutorial_is_tested_and_listed():
    tested = {name[len("test_tutorial_"):] for name in globals() if name.startswith("test_tutorial_")}
    assert set(docs.tutorials()) == tested
    toctree = (PAGES / "tutorials" / "index.md").read_text()
    assert all(f"\n{name}\n" in toctree for name in docs.tutorials())


# -- the strict build ----------------------------------------------------------------------
@pytest.mark.slow
def test_the_strict_build_writes_the_site_and_fails_on_a_broken_reference(tmp_path, monkeypatch):
    """The whole site, as CI builds it: every page, and every card with its
    committed pictures."""
    index = docs.build(tmp_path / "site", pictures_dir=KEPT_PICTURES)
    html = index.parent
    assert (html / "api" / "losses_regression.html").read_text().count('id="keraslosses.huber"') == 1
    assert (html / "_images" / "huber.png").is_file() and (html / "migration.html").is_file()
    assert len(list((html / "zoo").glob("*_mnist.html"))) == len(pretrained.manifest())
    assert 'src="../_images/se_nc_mnist_tsne.png"' in (html / "zoo" / "se_nc_mnist.html").read_text()
    assert (html / "_images" / "ac_co_v1_mse_fashion_mnist_images.png").is_file()

    broken = tmp_path / "pages"
    import shutil

    shutil.copytree(PAGES, broken)
    (broken / "migration.md").write_text((broken / "migration.md").read_text()
                                         + "\nSee {py:func}`keraslosses.hubr`.\n")
    monkeypatch.setattr(docs, "PAGES", broken)
    with pytest.raises(docs.DocsError, match="Sphinx failed"):
        docs.build(tmp_path / "broken", card_pictures=False)


def test_the_docs_command_refuses_a_bad_port(capsys):
    from models.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["docs", "--port", "0", "--output-dir", "unused"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == "keraslosses docs: error: --port must be in 1..65535; received 0"


def test_the_docs_command_passes_its_folders_to_the_build(monkeypatch, tmp_path):
    from models.cli import main

    seen = {}

    def build(output_dir, **options):
        seen.update(options, output_dir=output_dir)
        return tmp_path / "html" / "index.html"

    monkeypatch.setattr(docs, "build", build)
    monkeypatch.delenv("KERASLOSSES_DATA_DIR", raising=False)
    assert main(["docs", "--output-dir", "out", "--pictures-dir", "kept", "--data-dir", "data"]) == 0
    assert seen == {"output_dir": "out", "strict": True, "data_dir": "data", "pictures_dir": "kept"}
