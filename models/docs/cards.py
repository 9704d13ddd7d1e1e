"""Model cards for the pretrained zoo, generated from
`saved_models/manifest.json`: what each model is, the command that trained
it, its test figures next to the paper's, the t-SNE picture of its codes,
generated or reconstructed images where it makes them, its known
weaknesses and its size.

The pictures are kept in a folder per model file, named by the first 16
hex digits of its SHA-256, so a republished model gets new ones. A source
checkout keeps the zoo's in `saved_models/cards/` (committed: the site then
builds without drawing, and a test checks that every shipped file has its
pictures there; `keraslosses pretrained publish` draws a new file's there
and deletes the replaced file's); elsewhere they go to the site's
`pictures/` folder. A
missing picture is drawn from the test split (`data_dir`, e.g.
`../shared/datasets`; about 7 s a model on 2 cores, most of it the t-SNE)
and kept; without the data its card says how to draw it. The folder's name
is the model file's, not the drawing code's: after changing `draw_pictures`,
delete the kept pictures and build again.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from models.evaluation import paper
from models.families.registry import MODELS, model_class
from models.pretrained import checkout_dir, manifest
from models.training import PAPER_GRADE_SIZES

log = logging.getLogger("keraslosses")

#: the manifest's metric -> (the paper's metric, what it is)
METRICS = {
    "accuracy": ("accuracy", "test accuracy"),
    "macro_f1": ("f1", "macro F1"),
    "separability_knn": ("separability", "separability (5-NN on the t-SNE of the codes)"),
    "reconstruction_mse": ("reconstruction", "reconstruction MSE"),
    "linear_probe": (None, "linear probe on the codes"),
    "silhouette": (None, "silhouette of the t-SNE"),
}
#: test codes drawn in the t-SNE picture (stratified)
TSNE_SAMPLES = 1000


def describe(entry):
    """One sentence: the model family, its registry arguments and the data."""
    class_name, fixed = MODELS[entry["model"]]
    summary = (model_class(class_name).__doc__ or "").strip().splitlines()[0].rstrip(".")
    arguments = ", ".join(f"{k}={v!r}" for k, v in fixed.items())
    return (f"`{entry['model']}`: {summary} ({{py:class}}`models.{class_name}`"
            + (f", {arguments}" if arguments else "") + f"), trained on {entry['dataset']}.")


def figures_table(entry):
    """Markdown rows: metric, ours, the paper's, the difference."""
    theirs = paper.figures(entry["dataset"], entry["model"])
    rows = ["| metric | this model | paper | difference |", "|---|---|---|---|"]
    for key, value in entry["metrics"].items():
        paper_key, label = METRICS.get(key, (None, key))
        reference = theirs.get(paper_key) if paper_key else None
        compared = (f"{reference:.4f} | {paper.difference(value, reference):+.4f} |" if reference is not None
                    else "- | - |")
        rows.append(f"| {label} | {value:.4f} | {compared}")
    return rows


def float32_paragraph(entry):
    """A paragraph on a bfloat16 model's figures in float32 (`metrics_float32`:
    what it computes in on a CPU without bfloat16 hardware), or none."""
    if "metrics_float32" not in entry:
        return []
    figures = ", ".join(f"{METRICS[k][1]} {v:.4f}" for k, v in entry["metrics_float32"].items())
    return [(f"These figures were measured under `{entry['training']['precision']}`, as the model was trained. "
             f"On a CPU without bfloat16 hardware `load_pretrained` computes it in float32, with the same "
             f"weights: {figures} (`models.pretrained.expected_metrics`)."), ""]


def weaknesses(entry):
    """Where the model falls short: every figure that misses the paper's
    cell (`paper.meets`), and the network size it was trained at."""
    theirs = paper.figures(entry["dataset"], entry["model"])
    found = []
    for key, value in entry["metrics"].items():
        paper_key, label = METRICS.get(key, (None, key))
        reference = theirs.get(paper_key) if paper_key else None
        if reference is not None and not paper.meets(paper_key, value, reference):
            found.append(f"{label} {value:.4f} against the paper's {reference:.4f} "
                         f"({paper.difference(value, reference):+.4f}).")
    size = entry["arguments"].get("size", "small")
    if size not in PAPER_GRADE_SIZES:
        found.append(f"trained at network size `{size}` for {entry['training'].get('epochs_run', '?')} epochs; "
                     "the paper-grade size and recipe (`--size paper`) are what reach the paper's figures.")
    if entry.get("note"):
        found.append(entry["note"])
    return found


def default_pictures_dir(output_dir):
    """Where the cards' pictures are kept: a source checkout's
    `saved_models/cards/`, else `output_dir/pictures`."""
    root = checkout_dir()
    return root / "saved_models" / "cards" if root else Path(output_dir) / "pictures"


def picture_files(name, entry):
    """The PNG files of a card, {kind: file name}: the t-SNE of the codes,
    and the images for models that reconstruct."""
    kinds = ["tsne"] + (["images"] if model_class(MODELS[entry["model"]][0]).reconstructs else [])
    return {kind: f"{name}_{kind}.png" for kind in kinds}


def kept_folder(pictures_dir, entry):
    """The folder of one model file's pictures: its SHA-256's first 16 hex digits."""
    return Path(pictures_dir) / entry["sha256"][:16]


def draw_pictures(name, entry, data_dir, folder, model=None):
    """The t-SNE scatter of the test codes and, for models that make
    images, generated (Auto-classifiers: one per class) and reconstructed
    test images, into `folder` (made if missing); returns
    `picture_files(name, entry)`.
    `model` defaults to `load_pretrained(name)`."""
    from models.data import load_arrays
    from models.evaluation import (
        plot_embedding,
        plot_image_rows,
        stratified_subset,
        tsne_embedding,
    )
    from models.pretrained import load_pretrained

    model = model or load_pretrained(name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x, y = load_arrays(entry["dataset"], "test", data_dir=data_dir)
    index = stratified_subset(y, TSNE_SAMPLES)
    pictures = picture_files(name, entry)
    embedding = tsne_embedding(model.encode(x[index]))
    plot_embedding(embedding, y[index], folder / pictures["tsne"],
                   title=f"{name}: t-SNE of {len(index)} test codes")
    if "images" in pictures:
        first = np.array([np.flatnonzero(y == k)[0] for k in range(entry["arguments"]["num_classes"])])
        rows, titles = [x[first], model.reconstruct(x[first])], ["test images", "reconstructions"]
        if model.generates:
            rows.append(model.generate(np.arange(len(first))))
            titles.append("generated, one per class")
        plot_image_rows(rows, folder / pictures["images"], titles)
    return pictures


def card(name, entry, pictures):
    """The Markdown card of one manifest entry."""
    training = entry["training"]
    lines = [f"# {name}", "", describe(entry), "",
             (f"Load it with `models.load_pretrained(\"{name}\")` "
             f"({entry['parameters']:,} parameters, {entry['bytes'] / 1e6:.2f} MB, SHA-256 `{entry['sha256'][:16]}...`)."),
             "", "## Training", "", "```bash", training["command"], "```", "",
             (f"{training.get('epochs_run', '?')} epochs, {training.get('train_seconds', 0):.0f} s of training "
             f"(keraslosses {entry.get('keraslosses_version', '?')})."), "",
             "## Test figures", "", *figures_table(entry), "", *float32_paragraph(entry),
             *([("Validation figures (the held-out part of the training set the recipe was chosen on): "
                 + ", ".join(f"{k} {v:.4f}" for k, v in entry["validation"].items()) + "."), ""]
               if entry.get("validation") else []),
             f"The paper's figures: {paper.source()}.", "",
             "## Pictures", ""]
    if pictures:
        lines += [f"![t-SNE of the codes of {name}]({pictures['tsne']})", ""]
        if "images" in pictures:
            lines += [f"![images of {name}]({pictures['images']})", ""]
    else:
        lines += [("The pictures need the test split: build with `keraslosses docs --data-dir DIR` "
                  "(DIR holding the MNIST / Fashion-MNIST IDX files)."), ""]
    lines += ["## Known weaknesses", "", *([f"- {w}" for w in weaknesses(entry)] or ["- none measured."]), ""]
    return "\n".join(lines)


def write_pages(folder, data_dir=None, pictures=True, pictures_dir=None):
    """A card per manifest entry and the zoo's index page, under `folder`;
    the pictures are taken from `pictures_dir` (default `folder`), and drawn
    there from `data_dir` where missing."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = manifest()
    index = ["# The pretrained zoo", "",
             ("One card per model of `saved_models/manifest.json`, generated when the site is built. "
             "The paper's figures are Kamal & Bae's Tables 1-3."), "",
             "| model | dataset | headline figure | paper |", "|---|---|---|---|"]
    for name, entry in sorted(entries.items()):
        drawn = {}
        if pictures:
            kept = kept_folder(pictures_dir or folder, entry)
            wanted = picture_files(name, entry)
            if data_dir and not all((kept / png).is_file() for png in wanted.values()):
                log.info("%s: drawing the card's pictures into %s", name, kept)
                draw_pictures(name, entry, data_dir, kept)
            for kind, png in wanted.items():
                if (kept / png).is_file():
                    shutil.copy(kept / png, folder / png)
                    drawn[kind] = png
        (folder / f"{name}.md").write_text(card(name, entry, drawn))
        key = "accuracy" if "accuracy" in entry["metrics"] else "separability_knn"
        reference = paper.figures(entry["dataset"], entry["model"]).get(METRICS[key][0])
        index.append(f"| [{name}]({name}.md) | {entry['dataset']} | {METRICS[key][1].split(' (')[0]} "
                     f"{entry['metrics'][key]:.4f} | " + (f"{reference:.4f} |" if reference is not None else "- |"))
    index += ["", "```{toctree}", ":hidden:", "", *sorted(entries), "```", ""]
    (folder / "index.md").write_text("\n".join(index))
