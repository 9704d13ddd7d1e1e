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
