"""Dataset loading and input pipelines for MNIST and Fashion-MNIST.

The loader never needs the internet when the files are on disk. It looks, in order, in

1. the ``data_dir`` argument (the dataset folder itself, or a folder holding ``mnist/`` / ``fashion-mnist/``);
2. ``$GAN_LAB_DATA_DIR/<mnist|fashion-mnist>/`` (and ``$GAN_LAB_DATA_DIR`` itself);
3. the Keras cache, ``~/.keras/datasets`` (``mnist.npz`` or ``fashion-mnist/*.gz``; ``$KERAS_HOME`` respected);
4. ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist`` installs there);
5. last, Keras's own download (``keras.datasets.<name>.load_data()``).

If every place fails, one :class:`DatasetNotFoundError` lists each place tried and how to fix it.
Files are validated (IDX magic numbers, dimensions, counts, labels 0-9): a truncated or corrupt file
raises :class:`DatasetFormatError` naming the file and what is wrong.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

DATASETS = ("mnist", "fashion_mnist")
SPLITS = ("train", "test")
_FOLDER = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
_COUNTS = {"train": 60000, "test": 10000}
_IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_NPZ_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
_IMAGE_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
_LABEL_MAGIC = 0x00000801  # unsigned byte, 1 dimension


class DatasetError(ValueError):
    """Base class of the loader's errors (a ValueError so callers can catch either)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """No place held the dataset, and the download failed too."""


class DatasetFormatError(DatasetError):
    """A file was found but is truncated, corrupt or not the expected dataset."""


def normalize_name(name: str) -> str:
    """Map user spellings (``fashion-mnist``, ``Fashion_MNIST``) to ``mnist`` or ``fashion_mnist``."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise DatasetError(
            f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)} "
            "(for example --dataset mnist or --dataset fashion_mnist)")
    return key


def _read_bytes(path: Path) -> bytes:
    """Read a file, gunzipping it when it is gzip, with errors that name the file."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DatasetFormatError(
            f"{path}: the gzip stream is truncated or corrupt ({exc}); "
            "delete the file and copy or download it again") from None


def read_idx(path, kind: str, expected_count: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not) and validate it.

    ``kind`` is ``"images"`` (magic 2051, shape (N, 28, 28)) or ``"labels"`` (magic 2049, shape (N,),
    values 0-9). ``expected_count`` checks N when given.
    """
    path = Path(path)
    data = _read_bytes(path)
    magic_expected = _IMAGE_MAGIC if kind == "images" else _LABEL_MAGIC
    header_len = 16 if kind == "images" else 8
    if len(data) < header_len:
        raise DatasetFormatError(
            f"{path}: file is {len(data)} bytes, too short for an IDX {kind} header ({header_len} bytes); "
            "the file is truncated: copy or download it again")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != magic_expected:
        raise DatasetFormatError(
            f"{path}: wrong magic number {magic:#010x}, expected {magic_expected:#010x} for IDX {kind}; "
            "this is not an MNIST-style "
            f"{kind} file (are the images and labels files swapped?)")
    count = struct.unpack(">I", data[4:8])[0]
    if expected_count is not None and count != expected_count:
        raise DatasetFormatError(
            f"{path}: header says {count} items, expected {expected_count} for this split")
    if kind == "images":
        rows, cols = struct.unpack(">II", data[8:16])
        if (rows, cols) != (28, 28):
            raise DatasetFormatError(f"{path}: images are {rows}x{cols}, expected 28x28")
        want = count * rows * cols
    else:
        want = count
    body = np.frombuffer(data, dtype=np.uint8, offset=header_len)
    if body.size != want:
        state = "truncated" if body.size < want else "longer than its header says"
        raise DatasetFormatError(
            f"{path}: file is {state}: {body.size} data bytes, header promises {want}; "
            "copy or download it again")
    if kind == "images":
        return body.reshape(count, 28, 28).copy()
    labels = body.astype(np.int64)
    if labels.size and labels.max() > 9:
        raise DatasetFormatError(f"{path}: label {int(labels.max())} found, labels must be 0-9")
    return labels


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder: Path, split: str):
    """(images, labels) from a folder of IDX files, or None when the files are not there."""
    img_stem, lab_stem = _IDX_NAMES[split]
    img_path, lab_path = _find_file(folder, img_stem), _find_file(folder, lab_stem)
    if img_path is None or lab_path is None:
        return None
    images = read_idx(img_path, "images", _COUNTS[split])
    labels = read_idx(lab_path, "labels", _COUNTS[split])
    return images, labels


def _load_npz(path: Path, split: str):
    x_key, y_key = _NPZ_KEYS[split]
    try:
        with np.load(path, allow_pickle=False) as npz:
            if x_key not in npz or y_key not in npz:
                raise DatasetFormatError(
                    f"{path}: missing arrays {x_key!r}/{y_key!r} (has {sorted(npz.files)}); "
                    "expected the Keras layout x_train, y_train, x_test, y_test")
            images, labels = np.asarray(npz[x_key]), np.asarray(npz[y_key])
    except DatasetFormatError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError, EOFError, OSError
        raise DatasetFormatError(f"{path}: cannot read the .npz file ({exc}); it is truncated or corrupt") from None
    if images.shape != (_COUNTS[split], 28, 28) or images.dtype != np.uint8:
        raise DatasetFormatError(
            f"{path}: {x_key} has shape {images.shape} dtype {images.dtype}, "
            f"expected ({_COUNTS[split]}, 28, 28) uint8")
    if labels.shape != (_COUNTS[split],) or labels.min() < 0 or labels.max() > 9:
        raise DatasetFormatError(f"{path}: {y_key} must be {_COUNTS[split]} labels in 0-9")
    return images, labels.astype(np.int64)


def _keras_cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME")
    return Path(home) / "datasets" if home else Path.home() / ".keras" / "datasets"


def candidate_places(name: str, data_dir=None) -> list[tuple[str, Path]]:
    """The local places the loader tries for ``name``, in order, as (description, path)."""
    name = normalize_name(name)
    folder = _FOLDER[name]
    places: list[tuple[str, Path]] = []
    if data_dir is not None:
        d = Path(data_dir).expanduser()
        places += [("data_dir argument", d / folder), ("data_dir argument", d)]
    env = os.environ.get("GAN_LAB_DATA_DIR")
    if env:
        d = Path(env).expanduser()
        places += [("$GAN_LAB_DATA_DIR", d / folder), ("$GAN_LAB_DATA_DIR", d)]
    cache = _keras_cache_dir()
    if name == "mnist":
        places.append(("Keras cache", cache / "mnist.npz"))
    places.append(("Keras cache", cache / folder))
    places.append(("system datasets", Path("/usr/share/datasets") / folder))
    return places


def _try_place(path: Path, split: str):
    if path.suffix == ".npz":
        return _load_npz(path, split) if path.is_file() else None
    if path.is_dir():
        found = _load_idx_folder(path, split)
        if found is not None:
            return found
        npz = path / f"{path.name}.npz"
        if npz.is_file():
            return _load_npz(npz, split)
    return None


def load_dataset(name: str = "mnist", split: str = "train", data_dir=None, download: bool = True):
    """Load MNIST or Fashion-MNIST as ``(images uint8 (N, 28, 28), labels int64 (N,))``.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"`` (``"fashion-mnist"`` accepted).
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        data_dir: optional folder to look in first.
        download: allow Keras's download as the last resort.

    Raises:
        DatasetNotFoundError: no local place held the files and the download failed; the message lists
            every place tried.
        DatasetFormatError: a file was found but is truncated or corrupt.
    """
    name = normalize_name(name)
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}: expected 'train' or 'test'")
    tried = []
    for label, path in candidate_places(name, data_dir):
        result = _try_place(path, split)
        if result is not None:
            return result
        tried.append(f"  - {label}: {path} (not found)")
    if download:
        try:
            loader = getattr(keras.datasets, name)
            (x_tr, y_tr), (x_te, y_te) = loader.load_data()
            images, labels = (x_tr, y_tr) if split == "train" else (x_te, y_te)
            return np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.int64)
        except Exception as exc:  # no network, blocked host, ...
            tried.append(f"  - Keras download: failed ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
    else:
        tried.append("  - Keras download: not attempted (download=False)")
    idx = ", ".join(n + ".gz" for n in _IDX_NAMES[split])
    raise DatasetNotFoundError(
        f"could not find the {name} {split} split. Looked in:\n" + "\n".join(tried) + "\n"
        f"Fix: put the IDX files ({idx}) in a folder and pass data_dir=... / --data-dir, or set "
        f"GAN_LAB_DATA_DIR to a folder holding {_FOLDER[name]}/ (for example GAN_LAB_DATA_DIR=../shared/data)"
        + (", or install Debian's dataset-fashion-mnist" if name == "fashion_mnist" else "") + ".")


def scale_images(images, output: str = "tanh"):
    """uint8 [0, 255] → float32 in [-1, 1] (``"tanh"``) or [0, 1] (``"sigmoid"``)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    if output == "tanh":
        return x * 2.0 - 1.0
    if output == "sigmoid":
        return x
    raise ValueError(f"unknown output scaling {output!r}: expected 'tanh' ([-1, 1]) or 'sigmoid' ([0, 1])")


def to_unit_range(images, output: str = "tanh") -> np.ndarray:
    """Generator output in its own range → float32 in [0, 1] for pictures and metrics."""
    x = np.asarray(images, dtype=np.float32)
    if output == "tanh":
        x = (x + 1.0) / 2.0
    elif output != "sigmoid":
        raise ValueError(f"output = {output!r} is invalid: expected 'tanh' ([-1, 1]) or 'sigmoid' ([0, 1]), "
                         "the generator's last activation (preset.output)")
    return np.clip(x, 0.0, 1.0)


def make_dataset(images, batch_size: int = 128, output: str = "tanh", seed: int | None = 0,
                 shuffle: bool = True, drop_remainder: bool = False, flatten: bool = False,
                 labels=None):
    """A ``tf.data`` pipeline of scaled images: held in memory, seeded shuffle, batch, prefetch (no autotune).

    ``images`` is a uint8 array (N, 28, 28) as :func:`load_dataset` returns. Batches are float32
    (B, 28, 28, 1), or (B, 784) with ``flatten=True``. The last batch may be smaller than ``batch_size``
    unless ``drop_remainder=True``; gan_lab's train steps size their noise from the batch, so both work.
    With ``labels`` the elements are ``(images, labels)`` pairs.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (N, 28, 28), got {images.shape}")
    x = scale_images(images, output)
    x = x.reshape(-1, 784) if flatten else x[..., None]
    tensors = x if labels is None else (x, np.asarray(labels, dtype=np.int64))
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(2)
    # No tf.data autotuning: its background model thread made every epoch boundary stall (measured: 25-50 s
    # on a 2-core machine) while the finished epoch's iterator waited for that thread to wake up and exit.
    # The pipeline only slices tensors already in memory; two prefetched batches keep the step fed.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def check_not_empty(images):
    """``images``, unless there are none (a clear error: nothing to learn from)."""
    if len(images) == 0:
        raise DatasetError("the training set is empty: there is nothing to learn from. Check the data folder "
                           "or the images= you passed")
    return images


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Full batches in one pass over ``n_images`` (1 when there are fewer images than one batch)."""
    return max(1, n_images // batch_size)


def training_batches(images, batch_size: int, output: str = "tanh", seed: int = 0, labels=None,
                     start_step: int = 0):
    """The endless stream of training batches, addressable by global step: batch ``s`` is the same whether a
    run got there in one go or was interrupted and resumed at ``start_step`` (exact resume).

    Epoch ``e`` visits the images in a seeded order (a stateless shuffle of seed ``(seed, e)``) in full
    batches; the few images past the last full batch of one epoch come early in another epoch's order. With
    fewer images than ``batch_size`` every step sees all of them. Batches are float32 (B, H, W, C) in the
    generator's range (``output``), paired with int labels when ``labels`` are given.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W) or (N, H, W, C), got {images.dtype} {images.shape}")
    n = len(check_not_empty(images))
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images: expected one label per image")
    batch = min(batch_size, n)
    per_epoch = steps_per_epoch(n, batch_size)
    pixels = tf.constant(images)
    classes = None if labels is None else tf.constant(np.asarray(labels, dtype=np.int64))
    if output not in ("tanh", "sigmoid"):
        raise ValueError(f"unknown output scaling {output!r}: expected 'tanh' ([-1, 1]) or 'sigmoid' ([0, 1])")
    lo, scale = (-1.0, 2.0 / 255.0) if output == "tanh" else (0.0, 1.0 / 255.0)

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64),
                                                         seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.reshape(order[:per_epoch * batch], [per_epoch, batch]))

    def gather(index):
        x = tf.cast(tf.gather(pixels, index), tf.float32) * scale + lo
        return x if classes is None else (x, tf.gather(classes, index))

    first_epoch, skip = divmod(int(start_step), per_epoch)
    ds = (tf.data.Dataset.range(first_epoch, 2 ** 62).flat_map(epoch_batches).skip(skip)
          .map(gather).prefetch(2))
    options = tf.data.Options()
    options.autotune.enabled = False  # see make_dataset: autotune's model thread stalled epoch boundaries
    return ds.with_options(options)
