"""Datasets: images in [0, 1] (float32, H x W x C) and integer labels.

`load(name, split)` returns a `tf.data.Dataset` of (image, label) pairs
(shuffled, batched and prefetched on request, with `drop_remainder` for
TPUs), or NumPy arrays with `as_numpy=True`.

* "digits": scikit-learn's bundled 8x8 digits (offline, always available):
  1,797 images, pixel values / 16, split 75/25 stratified by class with
  `random_state=0` (1,347 train / 450 test).
* "mnist", "fashion_mnist": from a folder of the canonical IDX `.gz` files
  when `data_dir` (or the `KERASLOSSES_DATA_DIR` environment variable)
  points at one (the files directly in it, or in a `mnist/` /
  `fashion_mnist/` sub-folder); every file is checked against its canonical
  byte size and SHA-256 first. Otherwise `tensorflow_datasets` loads them
  (downloading when online).
* "svhn" (tfds "svhn_cropped"), "cifar10" and any other image dataset name
  of tfds with "image"/"label" features: through `tensorflow_datasets`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

ENV_DATA_DIR = "KERASLOSSES_DATA_DIR"
SPLITS = ("train", "test")

#: Canonical IDX files: name -> split -> (images, labels); file -> (bytes, SHA-256).
IDX_FILES = {
    "mnist": {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")},
}
IDX_FILES["fashion_mnist"] = IDX_FILES["mnist"]
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "train-labels-idx1-ubyte.gz": (28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "t10k-images-idx3-ubyte.gz": (1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        "t10k-labels-idx1-ubyte.gz": (4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": (26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        "train-labels-idx1-ubyte.gz": (29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        "t10k-images-idx3-ubyte.gz": (4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        "t10k-labels-idx1-ubyte.gz": (5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    },
}
TFDS_NAMES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "svhn": "svhn_cropped", "cifar10": "cifar10"}
INFO = {  # name -> (image shape, classes)
    "digits": ((8, 8, 1), 10),
    "mnist": ((28, 28, 1), 10),
    "fashion_mnist": ((28, 28, 1), 10),
    "svhn": ((32, 32, 3), 10),
    "cifar10": ((32, 32, 3), 10),
}


class DatasetFileError(ValueError):
    """A dataset file is missing, truncated or corrupt."""


def names():
    """The dataset names the zoo knows (its image shape and class count)."""
    return tuple(INFO)


def info(name):
    """(image shape, number of classes) of a known dataset."""
    if name not in INFO:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(INFO)}.")
    return INFO[name]


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _find(folder, name, filename):
    for candidate in (folder / name / filename, folder / filename):
        if candidate.is_file():
            return candidate
    raise DatasetFileError(
        f"{name}: file {filename!r} not found in {folder} (nor in {folder / name}); expected the canonical "
        f"IDX file of {CHECKSUMS[name][filename][0]} bytes.")


def verified(folder, name, filename):
    """The path of a canonical IDX file, after checking its size and SHA-256."""
    path = _find(Path(folder), name, filename)
    size, digest = CHECKSUMS[name][filename]
    actual_size = path.stat().st_size
    if actual_size != size:
        raise DatasetFileError(f"{path}: {actual_size} bytes, expected {size} (truncated or not the canonical file).")
    actual = sha256(path)
    if actual != digest:
        raise DatasetFileError(f"{path}: SHA-256 {actual}, expected {digest} (corrupt or not the canonical file).")
    return path


def read_idx(path):
    """Parse a gzipped IDX file (magic 0x0803 images, 0x0801 labels)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        raise DatasetFileError(f"{path}: not an unsigned-byte IDX file (magic {magic:#010x}).")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise DatasetFileError(f"{path}: {body.size} values, header promises {shape}.")
    return body.reshape(shape)


def _local_idx(name, split, folder):
    images_file, labels_file = IDX_FILES[name][split]
    images = read_idx(verified(folder, name, images_file))
    labels = read_idx(verified(folder, name, labels_file))
    return (images[..., None].astype(np.float32) / 255.0), labels.astype(np.int32)


def _digits(split):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[..., None]
    y = data.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _tfds(name, split, data_dir):
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(tfds.load(TFDS_NAMES.get(name, name), split=split, batch_size=-1,
                                             as_supervised=True, data_dir=data_dir))
    return images.astype(np.float32) / 255.0, labels.astype(np.int32)


def load_arrays(name, split="train", data_dir=None):
    """(images float32 in [0, 1], labels int32) as NumPy arrays."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}.")
    if name == "digits":
        return _digits(split)
    folder = data_dir or os.environ.get(ENV_DATA_DIR)
    if name in IDX_FILES and folder:
        return _local_idx(name, split, Path(folder))
    if name not in INFO and name not in TFDS_NAMES.values():
        info(name)  # raises the one-line error listing the choices
    return _tfds(name, split, data_dir)


def load(name, split="train", data_dir=None, batch_size=None, shuffle=False, seed=0, drop_remainder=False,
         one_hot=False, as_numpy=False):
    """A dataset of (image, label) pairs (see the module docstring).

    Args:
        name: "digits", "mnist", "fashion_mnist", "svhn", "cifar10" (or a
            tfds image dataset).
        split: "train" or "test".
        data_dir: folder of local files (default: `$KERASLOSSES_DATA_DIR`).
        batch_size: batch the dataset (None: unbatched).
        shuffle: shuffle with `seed` (over the whole split).
        drop_remainder: drop the last partial batch (static shapes for TPUs).
        one_hot: labels as one-hot float32 vectors instead of integers.
        as_numpy: return the (images, labels) arrays instead.
    """
    x, y = load_arrays(name, split, data_dir)
    if one_hot:
        y = np.eye(int(y.max()) + 1 if name not in INFO else INFO[name][1], dtype=np.float32)[y]
    if as_numpy:
        return x, y
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if batch_size:
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


#: Datasets whose classes survive a horizontal flip (clothes, objects; not digits).
FLIPPABLE = ("fashion_mnist", "cifar10")


def validation_split(x, y, fraction, seed=0):
    """(x_train, y_train, x_val, y_val): a stratified, seeded split of a
    training set (hyperparameters are chosen on the validation part; the
    test split is only scored)."""
    from sklearn.model_selection import train_test_split

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=fraction, stratify=y, random_state=seed)
    return x_train, y_train, x_val, y_val


def pipeline(x, y=None, batch_size=64, shuffle=False, seed=0, shift=0, flip=False):
    """A `tf.data` input pipeline over NumPy arrays: cached, shuffled each
    epoch (seeded), batched, augmented in parallel after batching, and
    prefetched.

    Args:
        x: images (N, H, W, C) in [0, 1]; y: labels (N,) or None (the
            dataset then yields images alone).
        shift: random translations of up to `shift` pixels in each
            direction (zero padding), drawn per image.
        flip: random horizontal flips (for classes that survive one,
            `FLIPPABLE`).
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if shift or flip:
        # One random seed per batch, drawn afresh each epoch, feeds stateless
        # ops: parallel and reproducible.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

        def augment(batch, pair):
            images, labels = (batch, ()) if y is None else (batch[0], batch[1:])
            count = tf.shape(images)[0]
            if flip:
                coin = tf.random.stateless_uniform((count, 1, 1, 1), pair) < 0.5
                images = tf.where(coin, tf.image.flip_left_right(images), images)
            if shift:
                height, width = images.shape[1], images.shape[2]
                padded = tf.pad(images, [[0, 0], [shift, shift], [shift, shift], [0, 0]])
                offsets = tf.random.stateless_uniform((count, 2), pair[::-1], 0, 2 * shift + 1, dtype=tf.int32)
                images = tf.map_fn(lambda a: tf.slice(a[0], [a[1][0], a[1][1], 0], [height, width, -1]),
                                   (padded, offsets), fn_output_signature=images.dtype)
            return images if y is None else (images, *labels)

        dataset = tf.data.Dataset.zip((dataset, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
