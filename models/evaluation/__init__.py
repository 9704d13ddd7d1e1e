"""Evaluation: classification metrics, reconstruction error, and the latent
separability protocol, plus the PNG plots.

Latent-code separability (this project's reading of the paper's
"latent-code separability", the same protocol for every model):

1. encode the test set (at most `max_samples` codes, a stratified seeded
   subset) with the model's `encode`;
2. embed the codes in 2-D with t-SNE (scikit-learn, PCA initialisation,
   perplexity 30, `random_state=seed`);
3. report

   a. `knn_accuracy`: the accuracy of a 5-nearest-neighbour classifier on
      the 2-D embedding under stratified 5-fold cross-validation (shuffled,
      seeded), the headline "separability";
   b. `linear_probe_accuracy`: a logistic-regression probe on the raw,
      standardised codes under the same 5 folds;
   c. `silhouette`: the silhouette score of the embedding by class.

`score(model, x, y)` applies every metric a model's declared capabilities
allow (`classifies`, `reconstructs`, `generates`; see `models.GameModel`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def classification_metrics(y_true, y_pred, num_classes=None):
    """Accuracy, macro F1/precision/recall and the confusion matrix.

    Args:
        y_true: integer labels (N,).
        y_pred: predicted integer labels (N,) or class scores (N, K).
    """
    from sklearn import metrics

    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(-1)
    labels = np.arange(num_classes) if num_classes else np.union1d(y_true, y_pred)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="macro", zero_division=0)
    return {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1),
        "precision": float(precision),
        "recall": float(recall),
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def reconstruction_error(images, reconstructions):
    """Mean per-pixel squared and absolute errors on [0, 1] images (the
    paper's Table 1 measure is the MSE)."""
    diff = np.asarray(reconstructions, np.float64) - np.asarray(images, np.float64)
    return {"mse": float(np.mean(diff**2)), "mae": float(np.mean(np.abs(diff)))}


#: Folds of the separability protocol's cross-validation.
FOLDS = 5
#: The fewest codes a separability score may be computed from: ten a class
#: on average (of ten), so that a stratified subset keeps `FOLDS` of every
#: class even where the classes differ in size (MNIST's test classes: 892
#: to 1,135 images). What `keraslosses tsne` and `reproduce` check before
#: any work; `separability` itself checks the subset it draws.
MIN_SEPARABILITY_SAMPLES = 100


def check_max_samples(max_samples):
    """`max_samples` (None: every test code) must leave enough codes for
    the separability protocol, `MIN_SEPARABILITY_SAMPLES`."""
    from models.core.checks import check_at_least

    if max_samples is not None:
        check_at_least(max_samples, "max_samples", MIN_SEPARABILITY_SAMPLES)


def stratified_subset(labels, max_samples, seed=0):
    """Indices of a seeded, class-stratified subset of at most max_samples."""
    labels = np.asarray(labels).reshape(-1)
    if max_samples is None or max_samples >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    index, _ = train_test_split(np.arange(len(labels)), train_size=max_samples, stratify=labels, random_state=seed)
    return np.sort(index)


def tsne_embedding(codes, seed=0, perplexity=30.0):
    """2-D t-SNE of the codes (scikit-learn, PCA init, fixed seed)."""
    from sklearn.manifold import TSNE

    codes = np.asarray(codes, np.float64).reshape(len(codes), -1)
    perplexity = min(perplexity, (len(codes) - 1) / 3)
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(codes)


def separability(codes, labels, seed=0, max_samples=None, folds=FOLDS):
    """The separability protocol of the module docstring.

    Returns:
        (scores dict, the 2-D embedding, the indices of the samples used).

    Raises:
        ValueError: a class has fewer than `folds` codes in the subset.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels).reshape(-1)
    index = stratified_subset(labels, max_samples, seed)
    codes = np.asarray(codes, np.float64).reshape(len(labels), -1)[index]
    labels = labels[index]
    present, counts = np.unique(labels, return_counts=True)
    if counts.min() < folds:  # a fold without the class: the CV fails, or warns and scores nonsense
        rare = present[counts.argmin()]
        raise ValueError(f"`max_samples`={max_samples} keeps only {counts.min()} of class {rare}'s codes; "
                         f"the {folds}-fold cross-validation needs {folds} of every class.")
    embedding = tsne_embedding(codes, seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    knn = cross_val_score(KNeighborsClassifier(n_neighbors=5), embedding, labels, cv=cv)
    probe = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), codes, labels, cv=cv)
    scores = {
        "knn_accuracy": float(knn.mean()),
        "linear_probe_accuracy": float(probe.mean()),
        "silhouette": float(silhouette_score(embedding, labels)),
        "samples": int(len(labels)),
    }
    return scores, embedding, index


def score(model, x, y, tsne=False, max_samples=None, seed=0, output_dir=None, name="model"):
    """Every metric that applies to `model` on (x, y): classification for
    models that classify, reconstruction error for those that reconstruct,
    and, with `tsne`, latent separability with its t-SNE scatter PNG; with
    `output_dir`, an image grid of inputs, reconstructions and generations."""
    result = {}
    codes = model.encode(x)  # once: the classes, the reconstructions and the t-SNE read the same codes
    if model.classifies:
        try:
            probabilities = model.classify_codes(codes)
        except NotImplementedError:
            probabilities = model.predict(x, verbose=0)
        result["classification"] = classification_metrics(y, probabilities)
    reconstructions = model.decode(codes) if model.reconstructs else None
    if reconstructions is not None:
        result["reconstruction"] = reconstruction_error(x, reconstructions)
    if tsne:
        scores, embedding, index = separability(codes, y, seed=seed, max_samples=max_samples)
        result["separability"] = scores
        if output_dir is not None:
            plot_embedding(embedding, y[index], Path(output_dir) / f"tsne_{name}.png",
                           title=f"t-SNE of {name} codes (kNN {scores['knn_accuracy']:.4f})")
    if output_dir is not None:
        rows, titles = [x[:10]], ["input"]
        if reconstructions is not None:
            rows.append(reconstructions[:10])
            titles.append("reconstruction")
        if model.generates:
            rows.append(model.generate(list(range(model.config["num_classes"]))))
            titles.append("generated from labels 0..K-1")
        plot_image_rows(rows, Path(output_dir) / f"images_{name}.png", titles)
    return result


#: the perturbations of `robustness`: Gaussian pixel noise of these sigmas ...
NOISE_SIGMAS = (0.1, 0.2, 0.3)
#: ... and translations by this many pixels (up, down, left, right).
SHIFT = 2


def perturbations(x, sigmas=NOISE_SIGMAS, shift=SHIFT, seed=0):
    """The perturbed copies of images `x` (N, H, W, C) in [0, 1], as
    {name: images}: "clean"; "noise_<sigma>", x + N(0, sigma^2) clipped to
    [0, 1] (seeded); "shift_<d>", the four translations by `shift` pixels
    (zeros enter at the edge).

        >>> x = np.zeros((1, 4, 4, 1), np.float32); x[0, 1, 1, 0] = 1.0
        >>> moved = perturbations(x, sigmas=(), shift=1)
        >>> [tuple(int(i) for i in np.argwhere(moved[k][0, ..., 0])[0]) for k in ("shift_up", "shift_right")]
        [(0, 1), (1, 2)]
    """
    x = np.asarray(x, np.float32)
    rng = np.random.default_rng(seed)
    found = {"clean": x}
    for sigma in sigmas:
        found[f"noise_{sigma}"] = np.clip(x + rng.normal(0.0, sigma, x.shape).astype(np.float32), 0.0, 1.0)
    moves = {"up": (-shift, 1), "down": (shift, 1), "left": (-shift, 2), "right": (shift, 2)}
    for name, (step, axis) in moves.items():
        moved = np.roll(x, step, axis=axis)
        edge = [slice(None)] * 4
        edge[axis] = slice(0, step) if step > 0 else slice(step, None)
        moved[tuple(edge)] = 0.0
        found[f"shift_{name}"] = moved
    return found


def robustness(model, x, y, sigmas=NOISE_SIGMAS, shift=SHIFT, seed=0, batch_size=512):
    """Test accuracy of a classifying model on clean and perturbed images
    (`perturbations`): {"clean", "noise_<sigma>"..., "shift" (the mean over
    the four translations), "shift_<direction>"...}."""
    y = np.asarray(y).reshape(-1)
    accuracy = {name: float((model.predict(images, batch_size=batch_size, verbose=0).argmax(-1) == y).mean())
                for name, images in perturbations(x, sigmas, shift, seed).items()}
    accuracy["shift"] = float(np.mean([v for k, v in accuracy.items() if k.startswith("shift_")]))
    return accuracy

# -- plots ---------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_embedding(embedding, labels, path, title="t-SNE of the latent codes"):
    """Scatter of a 2-D embedding coloured by class, saved as PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    points = ax.scatter(embedding[:, 0], embedding[:, 1], c=labels, cmap="tab10", s=4)
    ax.legend(*points.legend_elements(), loc="best", fontsize=7, title="class")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_image_rows(rows, path, titles):
    """A grid of image rows (e.g. inputs / reconstructions / generations)."""
    plt = _pyplot()
    count = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), count, figsize=(count, len(rows) * 1.1), dpi=100, squeeze=False)
    for r, (images, title) in enumerate(zip(rows, titles)):
        for c in range(count):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(images):
                image = np.asarray(images[c])
                ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
        axes[r][0].set_title(title, fontsize=8, loc="left")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_history(history, path):
    """Training curves of every tracked term."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name, values in history.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.legend(fontsize=7)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_robustness(results, path, title="Accuracy under perturbations of the test split"):
    """Grouped bars: one group per perturbation, one bar per model
    (`results`: {model name: `robustness` dict}), saved as PNG."""
    plt = _pyplot()
    columns = [k for k in next(iter(results.values())) if k == "clean" or k.startswith("noise_") or k == "shift"]
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(1.6 * len(columns) + 2, 4), dpi=100)
    for i, (name, accuracy) in enumerate(results.items()):
        ax.bar(np.arange(len(columns)) + i * width, [accuracy[c] for c in columns], width, label=name)
    ax.set_xticks(np.arange(len(columns)) + 0.4 - width / 2, [c.replace("_", " ") for c in columns])
    low = min(min(a[c] for c in columns) for a in results.values())
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
