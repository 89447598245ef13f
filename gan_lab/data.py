"""Dataset loading and input pipelines: MNIST, Fashion-MNIST, CIFAR-10, CelebA and any folder of images.

Image shape is a property of the data: :func:`load_dataset` returns uint8 ``(N, 28, 28)`` for MNIST and
Fashion-MNIST as they are, and ``(N, S, S, C)`` for colour data or when ``image_size`` / ``channels`` ask
for another shape (``S`` = ``image_size``, ``C`` = ``channels``: 3 for RGB, 1 for grayscale).

Names: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"`` (the standard ``cifar-10-python.tar.gz``),
``"celeba"`` (the ``img_align_celeba/`` folder, downloaded by the user) and ``"folder:PATH"`` (any folder of
PNG, JPEG, WebP, GIF or BMP pictures; ``"folder"`` alone takes the folder from ``data_dir``). Folders are
decoded once and cached (:func:`load_image_folder`).

For MNIST and Fashion-MNIST the loader never needs the internet when the files are on disk. It looks, in order, in

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
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import struct
import tarfile
import warnings
import zlib
from collections import Counter
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_lab.files import atomic_write, atomic_write_json

DATASETS = ("mnist", "fashion_mnist")          # the 28×28 grayscale sets with gan_lab's classifiers
COLOUR_DATASETS = ("cifar10", "celeba")
FOLDER = "folder"                              # "folder:PATH", or "folder" with data_dir=PATH
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
DEFAULT_IMAGE_SIZE = 64                        # folders and CelebA, unless image_size says otherwise
BACKGROUND = (255, 255, 255)                   # transparent pixels are composited on white
OTHER_CLASS = "other"                          # classes_from_names: the class of pictures no word names
FOLDER_CACHE_VERSION = 1                       # bump when decoding changes: old caches are then re-read
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
    """Map user spellings to the loader's names: ``fashion-mnist`` → ``fashion_mnist``, ``CIFAR-10`` →
    ``cifar10``, ``CelebA`` → ``celeba``; ``folder:PATH`` keeps its path (``~`` expanded), ``folder`` alone
    stays ``folder`` (the path then comes from ``data_dir``)."""
    text = str(name).strip()
    if text.lower().startswith(FOLDER + ":"):
        path = text[len(FOLDER) + 1:].strip()
        if not path:
            raise DatasetError(f"dataset {name!r} names no folder: expected folder:PATH, e.g. "
                               "folder:../shared/data/emoji-64")
        return f"{FOLDER}:{os.path.expanduser(path)}"
    key = text.lower().replace("-", "_")
    key = {"cifar_10": "cifar10"}.get(key, key)
    if key not in DATASETS + COLOUR_DATASETS + (FOLDER,):
        raise DatasetError(
            f"unknown dataset {name!r}: expected one of {', '.join(DATASETS + COLOUR_DATASETS)} or folder:PATH "
            "(for example --dataset mnist, --dataset cifar10, or --data-dir PATH with a folder of pictures)")
    return key


def is_folder(name: str) -> bool:
    """True for ``folder`` and ``folder:PATH`` datasets."""
    return normalize_name(name).split(":", 1)[0] == FOLDER


def has_classifier(name: str) -> bool:
    """True for the datasets gan_lab's classifier metrics know (MNIST, Fashion-MNIST)."""
    return normalize_name(name) in DATASETS


def dataset_label(name: str) -> str:
    """A short name for folder names and titles: ``folder:/x/emoji-64`` → ``emoji-64``."""
    name = normalize_name(name)
    if name.startswith(FOLDER + ":"):
        return Path(name.split(":", 1)[1]).name or FOLDER
    return name


def resolve_dataset(name: str, data_dir=None) -> str:
    """The dataset a run records in its preset: ``folder`` with a ``data_dir`` becomes ``folder:<absolute
    path>``, so the run folder alone says where its pictures were (evaluation and resume read them again)."""
    name = normalize_name(name)
    if name == FOLDER:
        if data_dir is None:
            raise DatasetError("dataset 'folder' needs the folder: pass --data-dir PATH (data_dir=PATH) or "
                               "--dataset folder:PATH")
        return f"{FOLDER}:{Path(data_dir).expanduser().resolve()}"
    if name.startswith(FOLDER + ":"):
        return f"{FOLDER}:{Path(name.split(':', 1)[1]).resolve()}"
    return name


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


def load_dataset(name: str = "mnist", split: str = "train", data_dir=None, download: bool = True,
                 image_size: int | None = None, channels: int | None = None, cache_dir=None,
                 verbose: bool = True):
    """Load a dataset as ``(images uint8, labels int64 (N,))``.

    Shapes: MNIST and Fashion-MNIST come as ``(N, 28, 28)``; CIFAR-10 as ``(N, 32, 32, 3)``; folders and
    CelebA as ``(N, 64, 64, 3)``. ``image_size`` and ``channels`` ask for another shape ``(N, S, S, C)``
    (centre crop to a square and resize; ``channels=1`` converts to grayscale, 3 to RGB).

    Args:
        name: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"celeba"``, ``"folder:PATH"`` or
            ``"folder"`` (the folder is then ``data_dir``); other spellings as :func:`normalize_name`.
        split: ``"train"`` or ``"test"`` (MNIST-like and CIFAR-10; folders and CelebA have one split).
        data_dir: optional place to look in first (see the module docstring and :func:`load_cifar10`).
        download: allow Keras's download as the last resort (MNIST-like, CIFAR-10).
        image_size, channels: the wanted shape (default: the data's own; 64 and 3 for folders and CelebA).
        cache_dir: where decoded folders are cached (see :func:`load_image_folder`).
        verbose: a progress bar while a folder is decoded.

    Raises:
        DatasetNotFoundError: no local place held the files and the download failed; the message lists
            every place tried.
        DatasetFormatError: a file was found but is truncated or corrupt.
    """
    name = normalize_name(name)
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}: expected 'train' or 'test'")
    if name in DATASETS:
        images, labels = _load_mnist_like(name, split, data_dir, download)
        return fit_images(images, image_size, channels), labels
    if name == "cifar10":
        images, labels = load_cifar10(split, data_dir, download)
        return fit_images(images, image_size, channels), labels
    if split != "train":
        raise DatasetError(f"{dataset_label(name)} has a single split (all its pictures): expected split='train'")
    if name == "celeba":
        folder = find_celeba(data_dir)
    else:
        folder = resolve_dataset(name, data_dir).split(":", 1)[1]
    images, labels, _ = load_image_folder(folder, image_size or DEFAULT_IMAGE_SIZE, channels or 3,
                                          cache_dir=cache_dir, verbose=verbose)
    return images, labels


def _load_mnist_like(name: str, split: str, data_dir, download: bool):
    """MNIST or Fashion-MNIST as ``(images uint8 (N, 28, 28), labels int64 (N,))`` from the first place that
    holds them (see the module docstring)."""
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


# --- any folder of pictures ------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """Where decoded folders are cached: ``$GAN_LAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/gan_lab``, else
    ``~/.cache/gan_lab`` (never inside the data folder, which may be read-only or shared)."""
    if os.environ.get("GAN_LAB_CACHE_DIR"):
        return Path(os.environ["GAN_LAB_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gan_lab"


def _image_files(folder: Path) -> tuple[list[Path], list[str], int]:
    """``(files, class_names, ignored)``: the pictures below ``folder`` (recursively, sorted, hidden files
    and other extensions skipped). With two or more top-level sub-folders holding pictures, those are the
    classes and pictures lying directly in ``folder`` are ignored (their number is ``ignored``)."""
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    classes = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    if len(classes) < 2:
        return files, [], 0
    kept = [p for p in files if len(p.relative_to(folder).parts) > 1]
    return kept, classes, len(files) - len(kept)


def _flatten_alpha(im: Image.Image, background) -> Image.Image:
    """An RGB picture, transparent pixels composited on ``background`` (RGB 0-255)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, tuple(background) + (255,))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return im.convert("RGB")


def fit_picture(im: Image.Image, image_size: int, channels: int = 3, fit: str = "crop",
                background=BACKGROUND) -> np.ndarray:
    """One picture as uint8 ``(image_size, image_size, channels)``: alpha composited on ``background``, the
    centred square cut out (``fit="crop"``, the PyTorch DCGAN tutorial's Resize + CenterCrop) or the
    picture centred on a ``background`` square (``fit="pad"``), resized with Lanczos; RGB or grayscale."""
    im = _flatten_alpha(im, background)
    w, h = im.size
    if fit == "crop":
        side = min(w, h)
        im = im.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    elif fit == "pad":
        im = ImageOps.pad(im, (max(w, h), max(w, h)), color=tuple(background))
    else:
        raise DatasetError(f"fit = {fit!r} is invalid: expected 'crop' (centre square) or 'pad' (whole picture)")
    if im.size != (image_size, image_size):
        im = im.resize((image_size, image_size), Image.Resampling.LANCZOS)
    if channels == 1:
        return np.asarray(im.convert("L"), dtype=np.uint8)[..., None]
    return np.asarray(im, dtype=np.uint8)


def _check_shape_args(image_size, channels):
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or not 4 <= image_size <= 1024:
        raise DatasetError(f"image_size = {image_size!r} is invalid: expected a whole number of pixels from 4 to "
                           "1024 (e.g. --image-size 64)")
    if channels not in (1, 3):
        raise DatasetError(f"channels = {channels!r} is invalid: expected 3 (RGB) or 1 (grayscale), e.g. "
                           "--channels 1")


def fit_images(images, image_size: int | None = None, channels: int | None = None) -> np.ndarray:
    """uint8 images ``(N, H, W)`` / ``(N, H, W, C)`` in the shape asked for (unchanged when both are None or
    already right): ``(N, image_size, image_size, channels)``, each picture through :func:`fit_picture`."""
    images = np.asarray(images)
    if image_size is None and channels is None:
        return images
    x = images if images.ndim == 4 else images[..., None]
    size, ch = image_size or x.shape[1], channels or x.shape[3]
    _check_shape_args(size, ch)
    if x.shape[1:] == (size, size, ch):
        return x
    mode = "L" if x.shape[3] == 1 else "RGB"
    return np.stack([fit_picture(Image.fromarray(img[..., 0] if mode == "L" else img, mode), size, ch)
                     for img in x])


def class_names(dataset: str) -> list[str]:
    """The class names of ``dataset`` in label order: a folder's class sub-folders (sorted, as
    :func:`load_image_folder` numbers them; none for a flat folder), else none (MNIST's and CIFAR-10's classes
    are their numbers)."""
    dataset = normalize_name(dataset)
    if not is_folder(dataset) or ":" not in dataset:  # a bare "folder" names no folder yet (--data-dir does)
        return []
    folder = Path(dataset.split(":", 1)[1]).expanduser()
    return _image_files(folder.resolve())[1] if folder.is_dir() else []


def name_class(name, words) -> str:
    """The first of ``words`` that is a word of the file name ``name``, or whose plural (the word + "s") is, else
    ``"other"``. The name's words are its stem split at every character that is neither a letter nor a digit,
    compared case-insensitively: "u1f495_two_hearts.png" is a heart, but "u1f501_clockwise_arrows.png" is not a
    clock, nor "u1face_u+1face.png" a face (a part of a word does not count)."""
    name_words = set(re.split(r"[\W_]+", Path(name).stem.lower()))
    return next((w for w in words if w.lower() in name_words or f"{w.lower()}s" in name_words), OTHER_CLASS)


def classes_from_names(folder, words, out) -> Counter:
    """Sort a flat ``folder`` of pictures into a class folder by words of their file names: every picture lying
    directly in ``folder`` is linked into ``out/<word>/``, its :func:`name_class` (the first of ``words`` that is
    a word of its name; with ``["face", "heart"]`` a "smiling face with heart-shaped eyes" is a face), or into
    ``out/other/``. Symbolic links, or copies where the file system has none; ``folder`` is not changed. Returns
    the count of each class. Refuses an ``out`` that already holds files (classes made with other words would
    mix). A conditional preset (``cgan64``) trains on ``out``; its labels number the classes in sorted order."""
    folder, out = Path(folder).expanduser(), Path(out).expanduser()
    words = [w.strip() for w in words if w.strip()]
    if not words:
        raise ValueError("words = [] is invalid: expected at least one word, e.g. ['face', 'heart']")
    joined = [w for w in words if re.search(r"[\W_]", w)]
    if joined:
        raise ValueError(f"words holds {joined[0]!r}: expected single words of letters and digits (a name's words "
                         "are split at every other character, so this could never match); give them one by one")
    if OTHER_CLASS in (w.lower() for w in words):
        raise ValueError(f"words holds {OTHER_CLASS!r}, the class of the pictures no word names: choose other words")
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a folder: expected a flat folder of pictures")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"out {str(out)!r} is not empty: expected a new or empty folder (remove it first)")
    pictures = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not pictures:
        raise ValueError(f"folder {str(folder)!r} holds no pictures directly ({', '.join(IMAGE_EXTENSIONS)})")
    counts = Counter()
    for picture in pictures:
        label = name_class(picture.name, words)
        target = out / label / picture.name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(picture.resolve(), target)
        except OSError:  # no symbolic links here (some Windows set-ups): copy
            shutil.copy2(picture, target)
        counts[label] += 1
    return counts


def folder_picture_names(folder) -> list[str]:
    """The pictures :func:`load_image_folder` reads below ``folder``, as paths relative to it, in the order of
    its images (files it could not decode included: then the list is longer than the images)."""
    folder = Path(folder).expanduser().resolve()
    return [str(p.relative_to(folder)) for p in _image_files(folder)[0]]


def _folder_manifest(folder: Path, files: list[Path], settings: dict) -> dict:
    return {"folder": str(folder), "settings": settings,
            "files": [[str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]}


def load_image_folder(folder, image_size: int = DEFAULT_IMAGE_SIZE, channels: int = 3, fit: str = "crop",
                      background=BACKGROUND, cache_dir=None, verbose: bool = True):
    """Every picture below ``folder`` as ``(images uint8 (N, S, S, C), labels int64 (N,), class_names)``.

    - PNG, JPEG, WebP, GIF (its first frame) and BMP, found recursively; other files (a README, a licence)
      and hidden ones are skipped.
    - Classes: when two or more top-level sub-folders hold pictures, each is a class (labels 0, 1, ... in
      sorted order; pictures lying directly in ``folder`` are then ignored, with a warning). Otherwise every
      label is 0 and ``class_names`` is empty.
    - Each picture: alpha composited on ``background`` (white), centre-cropped to a square (``fit="crop"``)
      or padded to one (``fit="pad"``), resized to ``image_size`` with Lanczos, RGB (``channels=3``) or
      grayscale (``channels=1``).
    - Decoded once, then cached in ``cache_dir`` (default :func:`default_cache_dir`) as one ``.npy`` array
      beside a manifest of the files' sizes and modification times: a folder whose files changed is decoded
      again. A progress bar shows while decoding (``verbose``).
    - Unreadable files are skipped and counted in one warning line. A folder with no picture, or with a
      single one, is a :class:`DatasetError`.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"image folder {folder} does not exist (or is not a folder): expected a folder "
                                   "of PNG/JPEG/WebP/GIF/BMP pictures, e.g. --data-dir ../shared/data/emoji-64")
    _check_shape_args(image_size, channels)
    folder = folder.resolve()
    files, classes, ignored = _image_files(folder)
    if ignored:
        warnings.warn(f"{folder}: ignored {ignored} picture(s) lying beside the class sub-folders "
                      f"{', '.join(classes)}: move them into a class folder to use them", stacklevel=2)
    settings = {"image_size": int(image_size), "channels": int(channels), "fit": fit,
                "background": list(background), "version": FOLDER_CACHE_VERSION}
    manifest = _folder_manifest(folder, files, settings)
    key = hashlib.sha256(json.dumps([str(folder), settings]).encode()).hexdigest()[:20]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    npy, labels_npy, manifest_path = (cache / f"folder-{key}.npy", cache / f"folder-{key}.labels.npy",
                                      cache / f"folder-{key}.json")
    try:
        cached = json.loads(manifest_path.read_text())
        if cached["files"] == manifest["files"]:
            return (np.load(npy, allow_pickle=False), np.load(labels_npy, allow_pickle=False),
                    cached.get("classes", []))
    except (OSError, ValueError, KeyError):
        pass  # no cache yet, a changed folder or a damaged cache: decode again
    if len(files) < 2:
        raise DatasetError(f"{folder} holds {len(files)} picture(s) ({', '.join(IMAGE_EXTENSIONS)}, searched "
                           "recursively): a GAN learns from many pictures (hundreds at least). Point "
                           "--data-dir at a folder of them")
    bar = keras.utils.Progbar(len(files), unit_name="image") if verbose else None
    images, labels, bad = [], [], []
    for i, path in enumerate(files):
        try:
            with Image.open(path) as im:
                im.seek(0)  # GIF: the first frame
                images.append(fit_picture(im, image_size, channels, fit, background))
            labels.append(classes.index(path.relative_to(folder).parts[0]) if classes else 0)
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError):
            bad.append(path.name)
        if bar is not None and ((i + 1) % 50 == 0 or i + 1 == len(files)):
            bar.update(i + 1)
    if bad:
        warnings.warn(f"{folder}: skipped {len(bad)} unreadable file(s) of {len(files)} "
                      f"(e.g. {', '.join(bad[:3])}); the other {len(images)} are used", stacklevel=2)
    if len(images) < 2:
        raise DatasetError(f"{folder}: only {len(images)} of its {len(files)} picture files could be read: a GAN "
                           "needs many readable pictures (PNG, JPEG, WebP, GIF, BMP)")
    images, labels = np.stack(images), np.asarray(labels, dtype=np.int64)
    try:
        atomic_write(npy, lambda tmp: np.save(tmp, images))
        atomic_write(labels_npy, lambda tmp: np.save(tmp, labels))
        atomic_write_json(manifest_path, {**manifest, "classes": classes, "skipped": bad})
    except OSError as exc:  # a read-only home: work without the cache
        warnings.warn(f"cannot cache the decoded folder in {cache} ({exc.strerror or exc}); set "
                      "GAN_LAB_CACHE_DIR to a writable folder to decode it only once", stacklevel=2)
    return images, labels, classes


# --- CIFAR-10 --------------------------------------------------------------------------------------------

CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
_CIFAR_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
# What a CIFAR-10 batch pickle may reference: numpy's array reconstruction, and _codecs.encode (how a
# protocol-2 pickle written by Python 3 stores bytes); nothing else.
_CIFAR_GLOBALS = {("_codecs", "encode"), ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                  ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                  ("numpy._core.multiarray", "scalar")}


class _CifarUnpickler(pickle.Unpickler):
    """The CIFAR-10 "python version" is a set of pickles (the format's own choice): they are read with
    :mod:`pickle`, but only numpy's array reconstruction may be called, so a tampered archive cannot run
    code. (numpy's ``allow_pickle`` is never used: gan_lab's own ``.npy`` files are read without it.)"""

    def find_class(self, module, name):
        if (module, name) in _CIFAR_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")


def _cifar_batch(raw: bytes, where: str):
    try:
        batch = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:  # UnpicklingError, KeyError, EOFError, ...
        raise DatasetFormatError(f"{where}: not a CIFAR-10 batch ({type(exc).__name__}: {exc}); copy or "
                                 f"download {CIFAR10_ARCHIVE} again") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DatasetFormatError(f"{where}: data has shape {data.shape} with {len(labels)} labels, expected "
                                 "(N, 3072) (32×32 RGB planes) and one label per row")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetFormatError(f"{where}: labels must be 0-9, found {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar10(path, split: str = "train"):
    """CIFAR-10 ``(images uint8 (N, 32, 32, 3), labels int64)`` from ``cifar-10-python.tar.gz`` or from the
    ``cifar-10-batches-py/`` folder it unpacks to (what Keras's cache holds)."""
    path = Path(path)
    parts = []
    if path.is_dir():
        for name in _CIFAR_BATCHES[split]:
            member = path / name
            if not member.is_file():
                raise DatasetFormatError(f"{path}: {name} is missing; expected the batches of {CIFAR10_ARCHIVE}")
            parts.append(_cifar_batch(member.read_bytes(), str(member)))
    else:
        try:
            with tarfile.open(path, "r:gz") as tar:
                for name in _CIFAR_BATCHES[split]:
                    member = tar.extractfile(f"{CIFAR10_FOLDER}/{name}")
                    parts.append(_cifar_batch(member.read(), f"{path}:{name}"))
        except (tarfile.TarError, KeyError, EOFError, OSError, zlib.error) as exc:
            raise DatasetFormatError(f"{path}: cannot read {CIFAR10_FOLDER}/ from it ({type(exc).__name__}: "
                                     f"{exc}); expected the standard {CIFAR10_ARCHIVE}: copy or download it "
                                     "again") from None
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _cifar_places(data_dir) -> list[tuple[str, Path]]:
    places = []
    for label, root in (("data_dir argument", data_dir), ("$GAN_LAB_DATA_DIR", os.environ.get("GAN_LAB_DATA_DIR"))):
        if root:
            root = Path(root).expanduser()
            places += [(label, root)] if root.suffix == ".gz" else [
                (label, root / CIFAR10_ARCHIVE), (label, root / "cifar10" / CIFAR10_ARCHIVE),
                (label, root / CIFAR10_FOLDER), (label, root / "cifar10" / CIFAR10_FOLDER)]
    cache = _keras_cache_dir()
    return places + [("Keras cache", cache / CIFAR10_FOLDER), ("Keras cache", cache / CIFAR10_ARCHIVE)]


def load_cifar10(split: str = "train", data_dir=None, download: bool = True):
    """CIFAR-10 (Krizhevsky 2009), ``(images uint8 (N, 32, 32, 3), labels int64)``: 50,000 training and
    10,000 test images of 10 classes. Looked for, in order: ``data_dir`` (the archive itself, or a folder
    holding ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/``, directly or in ``cifar10/``), the same
    under ``$GAN_LAB_DATA_DIR``, the Keras cache, and last Keras's download (about 170 MB)."""
    tried = []
    for label, path in _cifar_places(data_dir):
        if path.exists():
            return read_cifar10(path, split)
        tried.append(f"  - {label}: {path} (not found)")
    if download:
        try:
            (x_tr, y_tr), (x_te, y_te) = keras.datasets.cifar10.load_data()
            x, y = (x_tr, y_tr) if split == "train" else (x_te, y_te)
            return np.asarray(x, np.uint8), np.asarray(y, np.int64).reshape(-1)
        except Exception as exc:  # no network, blocked host, ...
            tried.append(f"  - Keras download: failed ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
    pictures = data_dir is not None and Path(data_dir).expanduser().is_dir()
    raise DatasetNotFoundError(
        "could not find CIFAR-10. Looked in:\n" + "\n".join(tried) + f"\nFix: download {CIFAR10_ARCHIVE} from "
        "https://www.cs.toronto.edu/~kriz/cifar.html and pass its path (or its folder) with --data-dir, or put "
        "it in $GAN_LAB_DATA_DIR." + (f"\nTo train on the pictures in {data_dir} instead, pass --dataset "
                                      f"folder:{data_dir}" if pictures else ""))


# --- CelebA ----------------------------------------------------------------------------------------------

CELEBA_FOLDER = "img_align_celeba"


def find_celeba(data_dir=None) -> Path:
    """The ``img_align_celeba/`` folder of CelebA (Liu et al. 2015): ``data_dir`` itself or below it
    (also ``celeba/img_align_celeba``), the same below ``$GAN_LAB_DATA_DIR``, then the Keras cache. gan_lab
    does not download it: get ``img_align_celeba.zip`` (1.4 GB, 202,599 aligned 178×218 faces) from
    https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (its Google Drive link) and unzip it there. Loaded as
    an image folder, centre-cropped to the square around the face and resized, as the PyTorch DCGAN
    tutorial does (Resize(64) + CenterCrop(64))."""
    tried = []
    roots = [("data_dir argument", data_dir), ("$GAN_LAB_DATA_DIR", os.environ.get("GAN_LAB_DATA_DIR")),
             ("Keras cache", _keras_cache_dir())]
    for label, root in roots:
        if not root:
            continue
        root = Path(root).expanduser()
        for path in (root, root / CELEBA_FOLDER, root / "celeba" / CELEBA_FOLDER):
            if path.name == CELEBA_FOLDER and path.is_dir():
                return path
            tried.append(f"  - {label}: {path}")
    raise DatasetNotFoundError(
        f"could not find CelebA's {CELEBA_FOLDER}/ folder. Looked in:\n" + "\n".join(dict.fromkeys(tried)) +
        "\nFix: download img_align_celeba.zip from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, unzip it "
        "and pass the folder holding img_align_celeba/ with --data-dir (gan_lab does not download CelebA).")


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
