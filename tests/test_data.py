import gzip
import shutil
import struct

import numpy as np
import pytest

from conftest import DATA_DIR
from gan_lab.data import (DatasetError, DatasetFormatError, DatasetNotFoundError, load_dataset, make_dataset,
                          read_idx, scale_images, to_unit_range)

FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(autouse=True)
def _isolate_keras_cache(tmp_path, monkeypatch):
    # Never let a developer's ~/.keras cache satisfy a test that expects a miss.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _copy_mnist(dst):
    dst.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        shutil.copy(DATA_DIR / "mnist" / f, dst / f)
    return dst


@pytest.mark.parametrize("name,split,n", [("mnist", "train", 60000), ("mnist", "test", 10000),
                                          ("fashion_mnist", "train", 60000), ("fashion-mnist", "test", 10000)])
def test_real_files_load_with_expected_shapes_and_labels(name, split, n):
    images, labels = load_dataset(name, split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_mnist_first_labels_are_the_known_ones():
    _, labels = load_dataset("mnist", "train")
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_data_dir_argument_is_tried_before_the_environment(tmp_path, monkeypatch):
    # The env var points at an empty folder; data_dir holds the files: data_dir must win.
    monkeypatch.setenv("GAN_LAB_DATA_DIR", str(tmp_path / "empty"))
    folder = _copy_mnist(tmp_path / "mine" / "mnist")
    images, _ = load_dataset("mnist", "test", data_dir=folder.parent, download=False)
    assert images.shape == (10000, 28, 28)
    # and the dataset folder itself is accepted too
    images2, _ = load_dataset("mnist", "test", data_dir=folder, download=False)
    np.testing.assert_array_equal(images, images2)


def test_uncompressed_idx_and_keras_npz_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LAB_DATA_DIR", str(tmp_path / "none"))
    raw = tmp_path / "raw" / "mnist"
    raw.mkdir(parents=True)
    for f in FILES:
        (raw / f[:-3]).write_bytes(gzip.decompress((DATA_DIR / "mnist" / f).read_bytes()))
    a, la = load_dataset("mnist", "test", data_dir=raw, download=False)
    ref, lref = load_dataset("mnist", "test", data_dir=DATA_DIR)
    np.testing.assert_array_equal(a, ref)
    # Keras cache layout: ~/.keras/datasets/mnist.npz
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    tr, ltr = load_dataset("mnist", "train", data_dir=DATA_DIR)
    np.savez(cache / "mnist.npz", x_train=tr, y_train=ltr.astype(np.uint8), x_test=ref, y_test=lref.astype(np.uint8))
    b, lb = load_dataset("mnist", "test", download=False)
    np.testing.assert_array_equal(b, ref)
    np.testing.assert_array_equal(lb, lref)


def test_not_found_lists_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LAB_DATA_DIR", str(tmp_path / "env_dir"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", data_dir=tmp_path / "arg_dir", download=False)
    msg = str(info.value)
    for place in ("arg_dir", "env_dir", "keras_home", "/usr/share/datasets/mnist", "download", "GAN_LAB_DATA_DIR"):
        assert place in msg


def test_truncated_gzip_is_named(tmp_path):
    folder = _copy_mnist(tmp_path / "mnist")
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50000])
    with pytest.raises(DatasetFormatError, match="t10k-images-idx3-ubyte.gz.*(truncated|corrupt)"):
        load_dataset("mnist", "test", data_dir=folder, download=False)


def test_truncated_uncompressed_body_is_detected(tmp_path):
    data = gzip.decompress((DATA_DIR / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(DatasetFormatError, match="truncated"):
        read_idx(path, "images", 10000)


def test_wrong_magic_number_is_reported(tmp_path):
    folder = _copy_mnist(tmp_path / "mnist")
    # swap images and labels: both have the wrong magic for their role
    imgs, labs = folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    tmp = folder / "x"
    imgs.rename(tmp)
    labs.rename(imgs)
    tmp.rename(labs)
    with pytest.raises(DatasetFormatError, match="magic number"):
        load_dataset("mnist", "test", data_dir=folder, download=False)


def test_wrong_count_and_bad_labels(tmp_path):
    labels = np.zeros(10000, dtype=np.uint8)
    labels[7] = 12
    path = tmp_path / "labels"
    path.write_bytes(struct.pack(">II", 2049, 10000) + labels.tobytes())
    with pytest.raises(DatasetFormatError, match="label 12"):
        read_idx(path, "labels", 10000)
    with pytest.raises(DatasetFormatError, match="expected 60000"):
        read_idx(path, "labels", 60000)


def test_unknown_dataset_and_split():
    with pytest.raises(DatasetError, match="expected one of mnist, fashion_mnist, cifar10, celeba or folder:PATH"):
        load_dataset("imagenet")
    with pytest.raises(DatasetError, match="split"):
        load_dataset("mnist", "validation")


def test_scaling_ranges():
    x = np.array([[[0, 255]]], dtype=np.uint8)
    assert scale_images(x, "tanh").tolist() == [[[-1.0, 1.0]]]
    assert scale_images(x, "sigmoid").tolist() == [[[0.0, 1.0]]]
    np.testing.assert_allclose(to_unit_range(scale_images(x, "tanh"), "tanh"), [[[0.0, 1.0]]])
    with pytest.raises(ValueError, match="tanh"):
        scale_images(x, "relu")


def test_pipeline_shapes_and_last_partial_batch(mnist_small):
    images = mnist_small[0][:1000]
    ds = make_dataset(images, batch_size=128, output="tanh", seed=0)
    shapes = [tuple(b.shape) for b in ds]
    assert len(shapes) == 8 and shapes[0] == (128, 28, 28, 1) and shapes[-1] == (1000 - 7 * 128, 28, 28, 1)
    batch = next(iter(ds)).numpy()
    assert batch.min() >= -1.0 and batch.max() <= 1.0 and batch.min() < -0.99
    dropped = [tuple(b.shape) for b in make_dataset(images, 128, drop_remainder=True)]
    assert len(dropped) == 7
    flat = next(iter(make_dataset(images, 64, output="sigmoid", flatten=True)))
    assert tuple(flat.shape) == (64, 784) and float(flat.numpy().min()) >= 0.0


def test_pipeline_shuffle_is_seeded(mnist_small):
    images = mnist_small[0][:512]
    a = next(iter(make_dataset(images, 32, seed=3))).numpy()
    b = next(iter(make_dataset(images, 32, seed=3))).numpy()
    c = next(iter(make_dataset(images, 32, seed=4))).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pipeline_rejects_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(np.zeros((4, 28, 28), np.uint8), batch_size=0)
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        make_dataset(np.zeros((4, 32, 32), np.uint8))


def test_make_dataset_does_not_autotune():
    # tf.data's autotune thread made each epoch boundary of a fit() stall for tens of seconds (the old
    # iterator waited for it to exit); the pipeline must keep it off and still prefetch.
    images = np.zeros((10, 28, 28), np.uint8)
    ds = make_dataset(images, 4, labels=np.arange(10))
    assert ds.options().autotune.enabled is False
    assert [tuple(x.shape) for x, _ in ds] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]


def test_training_batches_are_addressed_by_step(mnist_small):
    """Batch s is the same from a fresh start or from a resume at s (exact resume), each epoch is a new
    permutation in full batches, and the pixels are scaled to the generator's range."""
    from gan_lab.data import steps_per_epoch, training_batches
    images, labels = mnist_small[0][:200], mnist_small[1][:200]
    assert steps_per_epoch(200, 32) == 6
    it = iter(training_batches(images, 32, seed=3, labels=labels))
    first = [next(it) for _ in range(14)]
    for start in (5, 6, 13):
        x, y = next(iter(training_batches(images, 32, seed=3, labels=labels, start_step=start)))
        np.testing.assert_array_equal(x.numpy(), first[start][0].numpy())
        np.testing.assert_array_equal(y.numpy(), first[start][1].numpy())
    assert all(b[0].shape == (32, 28, 28, 1) for b in first)
    epoch0 = np.concatenate([b[1].numpy() for b in first[:6]])
    epoch1 = np.concatenate([b[1].numpy() for b in first[6:12]])
    assert not np.array_equal(epoch0, epoch1)
    x = first[0][0].numpy()
    assert x.min() == -1.0 and x.max() == 1.0
    other = next(iter(training_batches(images, 32, seed=4, labels=labels)))
    assert not np.array_equal(other[0].numpy(), first[0][0].numpy())
    sig = next(iter(training_batches(images, 32, output="sigmoid", seed=3)))
    np.testing.assert_allclose(sig.numpy(), (first[0][0].numpy() + 1) / 2, atol=1e-6)


def test_training_batches_of_a_tiny_set_and_bad_input():
    from gan_lab.data import DatasetError, training_batches
    one = np.full((1, 28, 28), 255, np.uint8)
    batches = iter(training_batches(one, 64))
    assert next(batches).shape == (1, 28, 28, 1) and next(batches).shape == (1, 28, 28, 1)
    with pytest.raises(DatasetError, match="empty"):
        training_batches(np.zeros((0, 28, 28), np.uint8), 8)
    with pytest.raises(ValueError, match="uint8"):
        training_batches(np.zeros((4, 28, 28), np.float32), 2)
    with pytest.raises(ValueError, match="one label per image"):
        training_batches(one, 2, labels=[1, 2])
