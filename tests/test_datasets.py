"""Loaders on the real canonical files in ../shared/datasets (or
$KERASLOSSES_DATA_DIR)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from models import data as datasets


MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("split, counts", [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)])
def test_mnist_from_the_canonical_files(data_dir, split, counts):
    x, y = datasets.load("mnist", split, data_dir=data_dir, as_numpy=True)
    assert x.shape == (sum(counts), 28, 28, 1) and x.dtype == np.float32
    assert y.dtype == np.int32 and np.bincount(y).tolist() == counts
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.parametrize("split, per_class", [("train", 6000), ("test", 1000)])
def test_fashion_mnist_from_the_canonical_files(data_dir, split, per_class):
    x, y = datasets.load("fashion_mnist", split, data_dir=data_dir, as_numpy=True)
    assert x.shape == (10 * per_class, 28, 28, 1)
    assert np.bincount(y).tolist() == [per_class] * 10


def test_environment_variable_points_at_the_files(data_dir, monkeypatch):
    monkeypatch.setenv(datasets.ENV_DATA_DIR, str(data_dir))
    x, y = datasets.load("mnist", "test", as_numpy=True)
    assert len(x) == 10000


def test_flipped_byte_truncation_and_missing_file_are_clear_errors(data_dir, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in datasets.CHECKSUMS["mnist"]:
        shutil.copy(data_dir / "mnist" / name, folder / name)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0x01
    target.write_bytes(bytes(raw))
    with pytest.raises(datasets.DatasetFileError, match=r"t10k-labels-idx1-ubyte.gz: SHA-256 .*expected f7ae60f9"):
        datasets.load("mnist", "test", data_dir=tmp_path, as_numpy=True)
    target.write_bytes(bytes(raw[:-10]))
    with pytest.raises(datasets.DatasetFileError, match="4532 bytes, expected 4542"):
        datasets.load("mnist", "test", data_dir=tmp_path, as_numpy=True)
    target.unlink()
    with pytest.raises(datasets.DatasetFileError, match="'t10k-labels-idx1-ubyte.gz' not found"):
        datasets.load("mnist", "test", data_dir=tmp_path, as_numpy=True)


def test_digits_split_is_fixed_and_scaled():
    x_train, y_train = datasets.load("digits", "train", as_numpy=True)
    x_test, y_test = datasets.load("digits", "test", as_numpy=True)
    assert x_train.shape == (1347, 8, 8, 1) and x_test.shape == (450, 8, 8, 1)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    again, _ = datasets.load("digits", "test", as_numpy=True)
    np.testing.assert_array_equal(again, x_test)
    assert np.bincount(y_test).tolist() == [45, 46, 44, 46, 45, 46, 45, 45, 43, 45]  # stratified: a quarter of each


def test_tf_data_pipeline_batches_shuffles_and_drops_the_remainder():
    ds = datasets.load("digits", "test", batch_size=64, shuffle=True, drop_remainder=True, one_hot=True)
    assert ds.element_spec[0].shape.as_list() == [64, 8, 8, 1]
    assert ds.element_spec[1].shape.as_list() == [64, 10]
    assert sum(1 for _ in ds) == 450 // 64


def test_unknown_names_and_splits():
    with pytest.raises(ValueError, match="unknown split 'valid'"):
        datasets.load("digits", "valid")
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'"):
        datasets.info("mnsit")


def test_the_augmenting_pipeline_shifts_and_flips_each_image_and_keeps_its_label():
    x = np.zeros((64, 9, 9, 1), np.float32)
    x[:, 4, 2, 0] = 1.0  # one lit pixel, left of centre
    y = np.arange(64)
    seen = set()
    for images, labels in datasets.pipeline(x, y, batch_size=16, shuffle=True, seed=3, shift=2, flip=True):
        for image, label in zip(images.numpy(), labels.numpy()):
            assert 0 <= label < 64
            lit = np.argwhere(image[..., 0] > 0)
            assert len(lit) <= 1  # moved (or shifted out), never duplicated
            if len(lit):
                row, col = lit[0]
                # flipped or not, then shifted by at most 2 pixels each way
                assert abs(row - 4) <= 2 and min(abs(col - 2), abs(col - 6)) <= 2
                seen.add((int(row), int(col)))
    assert len(seen) > 10  # offsets vary from image to image
    epoch = [b[0].numpy() for b in datasets.pipeline(x, y, batch_size=16, seed=3, shift=2)]
    again = [b[0].numpy() for b in datasets.pipeline(x, y, batch_size=16, seed=3, shift=2)]
    np.testing.assert_array_equal(np.concatenate(epoch), np.concatenate(again))  # seeded
    plain = next(iter(datasets.pipeline(x, None, batch_size=8)))
    np.testing.assert_array_equal(plain.numpy(), x[:8])  # images alone, untouched without augmentation


def test_the_validation_split_is_stratified_and_seeded():
    y = np.repeat(np.arange(4), 25)
    x = np.arange(100, dtype=np.float32)[:, None]
    x_train, y_train, x_val, y_val = datasets.validation_split(x, y, 0.2, seed=1)
    assert len(x_val) == 20 and all((y_val == k).sum() == 5 for k in range(4))
    assert not set(x_val[:, 0]) & set(x_train[:, 0])
    np.testing.assert_array_equal(datasets.validation_split(x, y, 0.2, seed=1)[2], x_val)
