"""Small domain classifiers (one per dataset) whose features drive :mod:`gan_lab.evaluation`.

Inception-based FID needs weights from the internet and was trained on photographs, not digits. gan_lab
ships its own: a small CNN per dataset, trained by ``scripts/train_classifiers.py`` with a fixed seed on
the training split, stored in ``gan_lab/weights/<dataset>_classifier.npz`` as a plain ``.npz`` of float32
arrays (read with ``np.load(..., allow_pickle=False)``; no pickle, no Keras file), the model rebuilt in code.

Architecture (about 422k parameters, 1.5 MB compressed)::

    input (28, 28, 1) float in [0, 1]
    conv 3x3 same, 32, ReLU -> max-pool 2   (28 -> 14)
    conv 3x3 same, 64, ReLU -> max-pool 2   (14 -> 7)
    flatten (3136) -> dropout 0.25
    dense 128, ReLU            <- "features": the penultimate layer the metrics use (128-d)
    dropout 0.3 -> dense 11, softmax        <- "probs": the 10 classes + "junk"

The 11th output, "junk", is trained on synthetic non-examples (:func:`make_junk`: noise, flat images,
blobs, scrambled pixels or patches). Without it the penultimate features of uniform noise sat among the
real images' features (improved precision 1.0 for noise); with it noise lands far away. The metrics use
p(y | x) over the 10 real classes (junk column dropped, renormalized) — :func:`class_probs`.

Public API: :func:`build_classifier`, :func:`load_classifier` (cached per process),
:func:`classify` (images in [0, 1] -> features, probabilities), :func:`train_classifier`,
:func:`save_classifier`, :func:`weights_path`, :func:`weights_info`.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from gan_lab.data import normalize_name

FEATURE_DIM = 128
NUM_CLASSES = 10
NUM_OUTPUTS = NUM_CLASSES + 1  # the 10 classes plus "junk" (not a digit / garment)
JUNK_PER_EPOCH = 12000
DROPOUT = (0.25, 0.3)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_EPOCHS = {"mnist": 6, "fashion_mnist": 10}
DEFAULT_SEED = 1234
_META_PREFIX = "meta__"
_WEIGHT_PREFIX = "w__"
# The layers that hold weights, in the order build_classifier creates them.
_WEIGHTED_LAYERS = ("conv1", "conv2", "features", "probs")


def weights_path(dataset: str) -> Path:
    """Where the shipped weights of ``dataset``'s classifier live (inside the package)."""
    return WEIGHTS_DIR / f"{normalize_name(dataset)}_classifier.npz"


def build_classifier():
    """The untrained Keras model: input (28, 28, 1) in [0, 1] -> softmax over 10 classes.

    The penultimate layer is named ``"features"``; :func:`feature_model` exposes it.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(DROPOUT[0], name="drop1")(x)
    x = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = layers.Dropout(DROPOUT[1], name="drop2")(x)
    outputs = layers.Dense(NUM_OUTPUTS, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="domain_classifier")


def feature_model(model):
    """A two-output view of ``model``: image -> (128-d penultimate features, class probabilities)."""
    import keras

    return keras.Model(model.inputs, [model.get_layer("features").output, model.output],
                       name="domain_classifier_features")


def save_classifier(model, path, **meta) -> Path:
    """Save ``model``'s weights as a compressed ``.npz`` of float32 arrays (plus scalar/string metadata).

    Keys are ``w__<layer>__<i>`` for the weights and ``meta__<name>`` for metadata (numbers or strings,
    stored as plain NumPy scalars so the file loads with ``allow_pickle=False``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name in _WEIGHTED_LAYERS:
        for i, w in enumerate(model.get_layer(name).get_weights()):
            arrays[f"{_WEIGHT_PREFIX}{name}__{i}"] = np.asarray(w, dtype=np.float32)
    for key, value in meta.items():
        arrays[_META_PREFIX + key] = np.asarray(value if not isinstance(value, str) else np.str_(value))
    np.savez_compressed(path, **arrays)
    return path


def _read_npz(path: Path) -> tuple[dict, dict]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            weights = {k[len(_WEIGHT_PREFIX):]: npz[k] for k in npz.files if k.startswith(_WEIGHT_PREFIX)}
            meta = {k[len(_META_PREFIX):]: npz[k].item() for k in npz.files if k.startswith(_META_PREFIX)}
    except FileNotFoundError:
        raise
    except Exception as exc:  # BadZipFile, ValueError (pickled object arrays), EOFError ...
        raise ValueError(f"{path}: cannot read the classifier weights ({type(exc).__name__}: {exc}); "
                         "the file is corrupt: restore it from git or retrain with "
                         "python scripts/train_classifiers.py") from None
    return weights, meta


def weights_info(dataset: str) -> dict:
    """The metadata stored with the shipped weights (seed, epochs, test accuracy, ...)."""
    path = weights_path(dataset)
    if not path.is_file():
        raise FileNotFoundError(_missing_message(dataset, path))
    return _read_npz(path)[1]


def _missing_message(dataset, path) -> str:
    return (f"no classifier weights for {normalize_name(dataset)!r} at {path}; they ship with gan_lab "
            "(package data gan_lab/weights/*.npz). Restore them from git or retrain with "
            "python scripts/train_classifiers.py")


def load_weights_into(model, path) -> dict:
    """Set ``model``'s weights from an ``.npz`` written by :func:`save_classifier`; returns the metadata."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classifier weights not found: {path}")
    weights, meta = _read_npz(path)
    for name in _WEIGHTED_LAYERS:
        layer = model.get_layer(name)
        current = layer.get_weights()
        new = []
        for i, w in enumerate(current):
            key = f"{name}__{i}"
            if key not in weights:
                raise ValueError(f"{path}: missing array {_WEIGHT_PREFIX + key!r}; the file does not match "
                                 "this version's classifier: retrain with python scripts/train_classifiers.py")
            if weights[key].shape != w.shape:
                raise ValueError(f"{path}: {key} has shape {weights[key].shape}, expected {w.shape}; "
                                 "retrain with python scripts/train_classifiers.py")
            new.append(weights[key])
        layer.set_weights(new)
    return meta


@functools.lru_cache(maxsize=None)
def load_classifier(dataset: str = "mnist"):
    """The trained classifier of ``dataset`` (Keras model, softmax output), cached per process."""
    dataset = normalize_name(dataset)
    path = weights_path(dataset)
    if not path.is_file():
        raise FileNotFoundError(_missing_message(dataset, path))
    model = build_classifier()
    load_weights_into(model, path)
    return model


@functools.lru_cache(maxsize=None)
def _feature_fn(dataset: str):
    import tensorflow as tf

    fmodel = feature_model(load_classifier(dataset))

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)], reduce_retracing=True)
    def forward(x):
        feats, probs = fmodel(x, training=False)
        return feats, probs

    return forward


def classify(images, dataset: str = "mnist", batch_size: int = 1000, return_junk: bool = False):
    """Run ``dataset``'s classifier on images already in [0, 1].

    Args:
        images: float array (N, 28, 28) or (N, 28, 28, 1) with values in [0, 1] (no checks here;
            :func:`gan_lab.evaluation.to_unit_images` validates and converts user input).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        batch_size: images per forward pass.

    Returns:
        ``(features float64 (N, 128), probs float64 (N, 10))``: penultimate features and p(y | x) over
        the 10 classes (junk column dropped, renormalized); with ``return_junk=True`` also the junk
        probability (N,).
    """
    dataset = normalize_name(dataset)
    x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    forward = _feature_fn(dataset)
    feats, probs = [], []
    for start in range(0, len(x), batch_size):
        f, p = forward(x[start:start + batch_size])
        feats.append(f.numpy())
        probs.append(p.numpy())
    if not feats:
        return np.zeros((0, FEATURE_DIM)), np.zeros((0, NUM_CLASSES))
    features = np.concatenate(feats).astype(np.float64)
    p = np.concatenate(probs).astype(np.float64)
    if return_junk:
        return features, class_probs(p), p[:, NUM_CLASSES]
    return features, class_probs(p)


def class_probs(outputs) -> np.ndarray:
    """p(y | x) over the 10 classes: the softmax outputs without the junk column, renormalized."""
    p = np.asarray(outputs, np.float64)[:, :NUM_CLASSES]
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


def _box_blur(x, passes: int = 2):
    """3x3 box blur of a batch (N, H, W), edges replicated."""
    for _ in range(passes):
        pad = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
        x = sum(pad[:, i:i + x.shape[1], j:j + x.shape[2]] for i in range(3) for j in range(3)) / 9.0
    return x


def make_junk(n: int, real_images, rng) -> np.ndarray:
    """``n`` synthetic non-examples in [0, 1], float32 (n, 28, 28), for the classifier's junk class.

    Six kinds in equal shares: uniform noise, Gaussian noise around a grey level, flat images (half black), soft
    random blobs (smoothed low-resolution noise), real images with their pixels scrambled (same ink, no
    shape) and real images cut into 7x7 patches that are shuffled (stroke fragments, no shape). Training
    on them gives the feature space a direction for "not from the dataset", so that noise and blobs land
    away from the real images (without it, uniform noise sat among real features: precision 1.0).
    """
    real = np.asarray(real_images, np.float32)
    kinds = rng.integers(0, 6, size=n)
    out = np.empty((n, 28, 28), np.float32)
    for kind in range(6):
        idx = np.flatnonzero(kinds == kind)
        m = len(idx)
        if m == 0:
            continue
        if kind == 0:  # uniform noise, random amplitude
            x = rng.random((m, 28, 28)) * rng.uniform(0.2, 1.0, (m, 1, 1))
        elif kind == 1:  # Gaussian noise around a grey level
            x = rng.normal(rng.uniform(0.0, 0.6, (m, 1, 1)), rng.uniform(0.05, 0.5, (m, 1, 1)), (m, 28, 28))
        elif kind == 2:  # flat images, half of them (near) black, with faint noise or none
            level = np.where(rng.random((m, 1, 1)) < 0.5, rng.uniform(0.0, 0.05, (m, 1, 1)),
                             rng.uniform(0.0, 1.0, (m, 1, 1)))
            x = level + rng.normal(0.0, 1.0, (m, 28, 28)) * rng.uniform(0.0, 0.03, (m, 1, 1))
        elif kind == 3:  # soft blobs
            x = np.empty((m, 28, 28))
            res = rng.choice([4, 7, 14], size=m)
            for r in (4, 7, 14):
                sel = np.flatnonzero(res == r)
                low = rng.random((len(sel), r, r))
                x[sel] = np.repeat(np.repeat(low, 28 // r, axis=1), 28 // r, axis=2)
            x = _box_blur(x, passes=2)
            thresh, gain = rng.uniform(0.45, 0.7, (m, 1, 1)), rng.uniform(6.0, 25.0, (m, 1, 1))
            x = 1.0 / (1.0 + np.exp(-(x - thresh) * gain))
        elif kind == 4:  # pixels of a real image scrambled
            src = real[rng.integers(0, len(real), m)].reshape(m, -1)
            order = rng.permuted(np.tile(np.arange(784), (m, 1)), axis=1)
            x = np.take_along_axis(src, order, axis=1).reshape(m, 28, 28)
        else:  # 7x7 patches of a real image shuffled
            src = real[rng.integers(0, len(real), m)]
            patches = src.reshape(m, 4, 7, 4, 7).transpose(0, 1, 3, 2, 4).reshape(m, 16, 7, 7)
            order = rng.permuted(np.tile(np.arange(16), (m, 1)), axis=1)
            patches = np.take_along_axis(patches, order[:, :, None, None], axis=1)
            x = patches.reshape(m, 4, 4, 7, 7).transpose(0, 1, 3, 2, 4).reshape(m, 28, 28)
        out[idx] = np.clip(x, 0.0, 1.0)
    return out


def train_classifier(dataset: str = "mnist", epochs: int | None = None, seed: int = DEFAULT_SEED,
                     batch_size: int = 128, data_dir=None, n_junk: int = JUNK_PER_EPOCH, verbose: int = 2):
    """Train ``dataset``'s classifier from scratch with a fixed seed on the training split.

    The 60,000 training images plus ``n_junk`` synthetic non-examples (:func:`make_junk`, label 10);
    Adam (lr 1e-3, halved for the last third of the epochs), batch 128, no augmentation. Returns
    ``(model, info)``; ``info`` holds the test accuracy over the 10 classes (the test split is used only for
    that final number: no early stopping or model selection on it), the share of fresh junk recognised as
    junk, the share of test images wrongly called junk, the seed, the epochs and the time taken.
    """
    import time

    import keras
    import tensorflow as tf

    from gan_lab.data import load_dataset

    dataset = normalize_name(dataset)
    epochs = DEFAULT_EPOCHS[dataset] if epochs is None else int(epochs)
    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass
    x_train, y_train = load_dataset(dataset, "train", data_dir=data_dir)
    x_test, y_test = load_dataset(dataset, "test", data_dir=data_dir)
    x_train = x_train.astype(np.float32) / 255.0
    x_test = x_test.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    junk = make_junk(n_junk, x_train, rng)
    x_fit = np.concatenate([x_train, junk])[..., None]
    y_fit = np.concatenate([y_train, np.full(n_junk, NUM_CLASSES, np.int64)])

    model = build_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    cut = max(1, (2 * epochs) // 3)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 1e-3 if epoch < cut else 5e-4)
    start = time.perf_counter()
    history = model.fit(x_fit, y_fit, batch_size=batch_size, epochs=epochs, shuffle=True,
                        callbacks=[schedule], verbose=verbose)
    seconds = time.perf_counter() - start
    out_test = model.predict(x_test[..., None], batch_size=1000, verbose=0)
    fresh_junk = make_junk(5000, x_train, np.random.default_rng(seed + 1))
    out_junk = model.predict(fresh_junk[..., None], batch_size=1000, verbose=0)
    info = {
        "dataset": dataset, "seed": int(seed), "epochs": epochs, "batch_size": int(batch_size),
        "n_junk": int(n_junk),
        "test_accuracy": float((class_probs(out_test).argmax(axis=1) == y_test).mean()),
        "test_called_junk": float((out_test.argmax(axis=1) == NUM_CLASSES).mean()),
        "junk_recognised": float((out_junk.argmax(axis=1) == NUM_CLASSES).mean()),
        "train_accuracy_last_epoch": float(history.history["accuracy"][-1]),
        "train_seconds": float(seconds), "keras_version": keras.__version__,
    }
    return model, info
