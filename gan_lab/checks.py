"""Learner checks: compare your functions with reference values (the fixtures, ``gan-checks-tf.npz``).

Each ``test_*`` function takes *your* function as its argument (defaulting to gan_lab's own), prints one line
``name: PASS (...)`` or ``name: FAIL (...) — hint`` and returns ``True`` / ``False``::

    from gan_lab import checks
    checks.test_leaky_relu(my_leaky_relu)
    checks.test_gan_loss(my_discriminator_loss, my_generator_loss)
    checks.test_discriminator(my_discriminator)            # builds it, counts parameters, compares outputs

The reference values come from ``scripts/make_fixtures.py``, written with plain numpy (independent of
gan_lab and TensorFlow). They ship inside the package (``gan_lab/fixtures/gan-checks-tf.npz``, a byte copy of
the repository's ``unit-testing-data/gan-checks-tf.npz``), so the checks work from an installed wheel. A
CS231n-style ``gan-checks-tf.npz`` from a course works too: ``load_fixtures("gan-checks-tf.npz")`` or
``$GAN_LAB_FIXTURES``. Values must match to a relative error below 1e-5 (float32 computations pass). The model
checks set fixed weights (a rule stored in the fixtures) and compare the model's outputs; loss checks name
the typical mistake a wrong value comes from (sigmoid applied twice, ``from_logits`` missing, wrong labels,
sum instead of mean, ...).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lab import losses, ops

__all__ = [
    "FIXTURE_NAME", "FIXTURES_ENV", "FIXTURE_KEYS", "CS231N_KEYS", "load_fixtures", "rel_error",
    "test_sample_noise", "test_leaky_relu",
    "test_discriminator", "test_generator", "test_dc_discriminator", "test_dc_generator",
    "test_gan_loss", "test_lsgan_loss", "test_train_step", "fixed_weights", "gan_loss_mistakes", "lsgan_loss_mistakes",
    "test_scale_images", "test_spread", "test_frechet_distance", "test_gradient_penalty",
    "test_ring_data", "test_composite", "test_center_square",
]

FIXTURE_NAME = "gan-checks-tf.npz"
FIXTURES_ENV = "GAN_LAB_FIXTURES"
PACKAGED_FIXTURES = "fixtures"  # the folder inside the gan_lab package (package data) that holds FIXTURE_NAME
TOLERANCE = 1e-5  # relative: float32 computations pass (the Keras idioms compute losses in float32)
MODEL_TOLERANCE = 1e-4  # max |out - expected| / max |expected| for a model's outputs (float32 forward passes)
DIAGNOSIS_TOLERANCE = 1e-3  # how close a wrong value must be to a typical mistake's value to name that mistake
_COUNT_KEYS = ("dense_d_params", "dense_g_params_noise4", "dc_d_params", "dc_g_params_noise4")
# What the checks read from gan_lab's own fixture file (it also holds ``minimax_g_loss_true``, for gan_lab's tests).
FIXTURE_KEYS = ("lrelu_x", "lrelu_out_true", "logits_real", "logits_fake", "d_loss_true", "g_loss_true",
                "scores_real", "scores_fake", "d_loss_lsgan_true", "g_loss_lsgan_true") + _COUNT_KEYS
# The keys of the Stanford CS231n assignment's gan-checks-tf.npz. Its notebook checks the LSGAN losses on the
# same logits (no separate scores), and states the parameter counts in code rather than in the file.
# Fixed inputs, expected outputs and the fixed-weights rule of the model checks (gan_lab's file only).
MODEL_KEYS = ("weights_rule", "model_x", "model_z", "dense_d_out_true", "dense_g_out_true", "dc_d_out_true",
              "dc_g_out_true")
CS231N_KEYS = ("lrelu_x", "lrelu_y", "logits_real", "logits_fake", "d_loss_true", "g_loss_true",
               "d_loss_lsgan_true", "g_loss_lsgan_true")


# -------------------------------------------------------------------------------------------- helpers
def load_fixtures(path=None):
    """Load the check fixtures as a dict of numpy arrays (the keys of :data:`FIXTURE_KEYS`).

    Reads ``path`` (a ``.npz`` file or a folder holding ``gan-checks-tf.npz``) if given, else
    ``$GAN_LAB_FIXTURES`` (same) if set, else the copy packaged with gan_lab (``importlib.resources``). The
    file may be gan_lab's or a CS231n-style ``gan-checks-tf.npz`` (:data:`CS231N_KEYS`): its ``lrelu_y``
    becomes ``lrelu_out_true``, its logits also serve as the LSGAN scores, and the parameter counts come from
    the packaged file, and so do the model checks' inputs and outputs. A missing file raises ``FileNotFoundError``, a file with other keys ``ValueError``;
    both say where gan_lab looked and which keys it expected. Loaded with ``allow_pickle=False``.
    """
    if path is None and not os.environ.get(FIXTURES_ENV):
        return _packaged_fixtures()
    source, candidate = ("the path argument", Path(path)) if path is not None else \
        (f"${FIXTURES_ENV}", Path(os.environ[FIXTURES_ENV]))
    candidate = candidate.expanduser()
    if candidate.is_dir():
        candidate = candidate / FIXTURE_NAME
    return _read_fixtures(candidate, source, f"pass load_fixtures(path=...), set ${FIXTURES_ENV} to the .npz file "
                                             f"or its folder, or unset ${FIXTURES_ENV} to use the packaged copy")


def _packaged_fixtures():
    packaged = resources.files("gan_lab").joinpath(PACKAGED_FIXTURES).joinpath(FIXTURE_NAME)
    with resources.as_file(packaged) as path:
        return _read_fixtures(path, "the copy packaged with gan_lab", "reinstall gan_lab (the file is package data)")


def _expected_keys():
    return (f"expected an .npz with gan_lab's keys ({', '.join(FIXTURE_KEYS)}) or CS231n's "
            f"({', '.join(CS231N_KEYS)})")


def _read_fixtures(path, source, hint):
    where = f"{path} (from {source})"
    if not Path(path).is_file():
        raise FileNotFoundError(f"gan_lab check fixtures not found: {where}; {_expected_keys()}. To fix: {hint}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            found = {key: data[key] for key in data.files}
    except Exception as exc:  # not an .npz, a pickle, object arrays, a truncated file ...
        raise ValueError(f"cannot read gan_lab check fixtures {where}: {type(exc).__name__}: {exc}; "
                         f"{_expected_keys()}.") from None
    if all(key in found for key in FIXTURE_KEYS):
        return found
    if all(key in found for key in CS231N_KEYS):
        return _from_cs231n(found)
    missing = [key for key in FIXTURE_KEYS if key not in found]
    missing_cs231n = [key for key in CS231N_KEYS if key not in found]
    raise ValueError(
        f"{where} is not a gan_lab check fixture file: it has the keys {sorted(found)}; {_expected_keys()}. "
        f"Missing for gan_lab's layout: {', '.join(missing)}; for CS231n's: {', '.join(missing_cs231n)}.")


def _from_cs231n(found):
    """A CS231n-style fixture dict in gan_lab's layout (the counts, absent from it, from the packaged file)."""
    fixtures = dict(found)
    fixtures.setdefault("lrelu_out_true", found["lrelu_y"])
    fixtures.setdefault("scores_real", found["logits_real"])
    fixtures.setdefault("scores_fake", found["logits_fake"])
    if not all(key in fixtures for key in _COUNT_KEYS + MODEL_KEYS):
        packaged = _packaged_fixtures()
        for key in _COUNT_KEYS + MODEL_KEYS:
            fixtures.setdefault(key, packaged[key])
    return fixtures


def rel_error(x, y):
    """Maximum relative error ``max(|x - y| / max(1e-8, |x| + |y|))`` (as in CS231n)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _report(name, ok, details, hint=""):
    line = f"{name}: {'PASS' if ok else 'FAIL'} ({details})"
    if not ok and hint:
        line += f" — {hint}"
    print(line)
    return bool(ok)


class _CheckFailure(Exception):
    """Raised inside a check for a learner mistake that has its own message and hint."""

    def __init__(self, details, hint):
        super().__init__(details)
        self.details, self.hint = details, hint


def _error(name, exc):
    if isinstance(exc, _CheckFailure):
        return _report(name, False, exc.details, exc.hint)
    msg = f"raised {type(exc).__name__}: {exc}".replace("\n", " ")
    if len(msg) > 300:
        msg = msg[:297] + "..."
    return _report(name, False, msg, "call your function directly to see the full traceback")


def _to_numpy(value):
    """A returned tensor / array / number as a float64 numpy array."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def _scalar(name, value):
    arr = _to_numpy(value)
    if arr.size != 1:
        raise _CheckFailure(f"{name} returned shape {arr.shape}, expected a scalar",
                            "did you forget tf.reduce_mean?")
    return float(arr.reshape(()))


def _tf_float64(x):
    import tensorflow as tf
    return tf.constant(x, dtype=tf.float64)


# ------------------------------------------------------------------------------------------------ ops
def test_sample_noise(fn=ops.sample_noise):
    """Check ``fn(batch_size, dim)``: shape, range [-1, 1], and a roughly uniform spread."""
    name = "test_sample_noise"
    try:
        small = _to_numpy(fn(3, 5))
        if small.shape != (3, 5):
            return _report(name, False, f"fn(3, 5) has shape {small.shape}, expected (3, 5)",
                           "return shape (batch_size, dim)")
        batch, dim = 256, 64
        x = _to_numpy(fn(batch, dim))
    except Exception as exc:  # a learner's bug should print a line, not a traceback
        return _error(name, exc)
    if x.shape != (batch, dim):
        return _report(name, False, f"fn({batch}, {dim}) has shape {x.shape}, expected {(batch, dim)}",
                       "return shape (batch_size, dim)")
    lo, hi, mean, std = float(x.min()), float(x.max()), float(x.mean()), float(x.std())
    stats = f"min={lo:.3f}, max={hi:.3f}, mean={mean:.3f}, std={std:.3f}"
    if not np.all(np.isfinite(x)):
        return _report(name, False, stats, "noise contains NaN or inf")
    if lo < -1.0 or hi > 1.0:
        return _report(name, False, stats, "values must lie in [-1, 1]: use tf.random.uniform(minval=-1, maxval=1)")
    if std == 0.0:
        return _report(name, False, stats, "the noise is constant")
    if lo > -0.9 or hi < 0.9:
        return _report(name, False, stats,
                       "values should spread over all of [-1, 1] (uniform), not e.g. [0, 1] or a narrow range")
    expected_std = 1.0 / np.sqrt(3.0)  # std of U(-1, 1)
    if abs(mean) > 0.05 or abs(std - expected_std) > 0.05:
        return _report(name, False, f"{stats}; uniform on [-1, 1] has mean 0, std {expected_std:.3f}",
                       "sample uniformly on [-1, 1] (tf.random.uniform), not normally")
    return _report(name, True, stats)


def test_leaky_relu(fn=ops.leaky_relu, fixtures=None):
    """Check ``fn(x)`` (alpha 0.01) against the fixture, relative error < :data:`TOLERANCE`."""
    name = "test_leaky_relu"
    f = load_fixtures() if fixtures is None else fixtures
    x, expected = f["lrelu_x"], f["lrelu_out_true"]
    try:
        out = _to_numpy(fn(_tf_float64(x)))
    except Exception as exc:
        return _error(name, exc)
    if out.shape != expected.shape:
        return _report(name, False, f"output shape {out.shape}, expected {expected.shape}",
                       "leaky ReLU is elementwise; keep the input's shape")
    err = rel_error(out, expected)
    hint = "leaky_relu(x) = x for x > 0 and alpha * x otherwise, alpha = 0.01"
    return _report(name, err < TOLERANCE, f"max relative error {err:.2g}", hint)


# --------------------------------------------------------------------------------------------- models
def _count_params(model, input_shapes):
    """``model.count_params()``, building an unbuilt model by calling it on zeros of a candidate shape."""
    if not getattr(model, "built", True):
        last = None
        for shape in input_shapes:
            try:
                model(np.zeros((2,) + tuple(shape), dtype=np.float32))
                break
            except Exception as exc:  # try the next candidate input shape
                last = exc
        else:
            raise ValueError(f"the model is not built and could not be called on inputs of shape "
                             f"{[(None,) + tuple(s) for s in input_shapes]}: {last}")
    return int(model.count_params())


def _models():
    import gan_lab.models  # imported lazily: the checks of losses and ops must not need it
    return gan_lab.models


def _noise_adjusted(base_noise4, noise_dim):
    """The fixtures count generators for noise_dim=4; the first FC layer has noise_dim * 1024 weights."""
    return int(base_noise4) + (int(noise_dim) - 4) * 1024


def fixed_weights(model, rule):
    """Set every weight of ``model`` by the fixtures' rule (see ``scripts/make_fixtures.py``): tensor ``i`` of
    ``model.weights`` is ``u_j = 2 frac(j a + i b) - 1`` scaled by its role (kernel, bias, BatchNorm gamma,
    beta, moving mean, moving variance). Returns the model."""
    a, b = (float(v) for v in np.asarray(rule).ravel()[:2])
    values = []
    for i, w in enumerate(model.weights):
        shape = tuple(int(d) for d in w.shape)
        j = np.arange(int(np.prod(shape)), dtype=np.float64)
        u = (2.0 * np.mod(j * a + i * b, 1.0) - 1.0).reshape(shape)
        name = w.path if hasattr(w, "path") else w.name
        role = name.rsplit("/", 1)[-1].split(":")[0]
        if role == "gamma":
            v = 1.0 + 0.2 * u
        elif role == "moving_mean":
            v = 0.1 * u
        elif role == "moving_variance":
            v = 1.0 + 0.5 * (u + 1.0)
        elif len(shape) >= 2:  # a kernel; a Conv2DTranspose kernel is (k, k, out, in), fan-in k*k*out
            v = u * np.sqrt(3.0 / np.prod(shape[:-1]))
        else:  # bias, beta
            v = 0.1 * u
        values.append(v.astype(np.float32))
    model.set_weights(values)
    return model


def _layer_kinds(model):
    """The model's layers as short names, activations included: 'dense', 'relu', 'lrelu(0.2)', 'bn', ..."""
    kinds = []
    for layer in getattr(model, "layers", []):
        kind = type(layer).__name__
        if kind == "SpectralNormalization":
            layer, kind = layer.layer, type(layer.layer).__name__
        if kind in ("InputLayer", "Reshape", "Flatten"):
            continue
        short = {"Dense": "dense", "Conv2D": "conv", "Conv2DTranspose": "convT", "BatchNormalization": "bn",
                 "MaxPooling2D": "pool", "ReLU": "relu"}.get(kind, kind)
        if kind == "LeakyReLU":
            short = f"lrelu({float(layer.negative_slope):g})"
        elif kind == "Activation":
            short = getattr(layer.activation, "__name__", "activation")
        kinds.append(short)
        activation = getattr(layer, "activation", None)
        act = getattr(activation, "__name__", "linear") if activation is not None else "linear"
        if kind != "Activation" and act not in ("linear", None, "leaky_relu", "<lambda>"):  # a function's slope is unknown
            kinds.append(act)
    return kinds


def _structure_hints(kinds, output_activation, hidden):
    """Named mistakes visible in the layer list of a model whose outputs are wrong."""
    hints = []
    for i, k in enumerate(kinds[:-1]):
        if k == "bn" and kinds[i + 1] in ("relu", "lrelu(0.01)", "lrelu(0.2)", "tanh", "sigmoid"):
            hints.append("layer order: BatchNorm before the activation; here each block is "
                         "layer → activation → BatchNorm")
            break
    acts = [k for k in kinds if k in ("relu", "sigmoid", "tanh", "elu", "selu", "gelu") or k.startswith("lrelu")]
    hidden_acts, last = acts[:-1] if output_activation else acts, (acts[-1] if acts else "none")
    if output_activation and last != output_activation:
        hints.append(f"wrong output activation: {last}; the last layer needs {output_activation}")
    if not output_activation and kinds and kinds[-1] not in ("dense", "conv"):
        hints.append(f"wrong output activation: the last layer is followed by {kinds[-1]}; a discriminator "
                     "returns raw logits (no sigmoid: the loss applies it)")
    wrong_hidden = sorted({k for k in hidden_acts if k != hidden})
    if wrong_hidden:
        hints.append(f"hidden activations {', '.join(wrong_hidden)} where {hidden} is expected")
    return hints


def _output_diagnosis(out, expected, output_activation):
    """Named mistakes recognizable from the outputs alone."""
    close = lambda x: x.shape == expected.shape and np.max(np.abs(x - expected)) <= DIAGNOSIS_TOLERANCE * (
        np.max(np.abs(expected)) + 1e-8)
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))
    if output_activation is None:
        if close(np.log(np.clip(out, 1e-12, None)) - np.log(np.clip(1 - out, 1e-12, None))):
            return "sigmoid on the output: a discriminator returns logits (the loss applies the sigmoid)"
        return ""
    pre = np.arctanh(np.clip(expected, -1 + 1e-12, 1 - 1e-12))  # the expected pre-activation
    if out.shape == expected.shape:
        if np.max(np.abs(out - sigmoid(pre))) <= DIAGNOSIS_TOLERANCE:
            return "wrong output activation: sigmoid (pixels in [0, 1]); the data are in [-1, 1]: use tanh"
        if np.max(np.abs(out - pre)) <= DIAGNOSIS_TOLERANCE * np.max(np.abs(pre)):
            return "wrong output activation: none; end with tanh so pixels lie in [-1, 1] like the data"
    return ""


def _check_model(name, builder, kwargs, input_shapes, expected_count, count_hint, fixtures, x_key, out_key,
                 output_activation, hidden, output_kwargs=None):
    """Count the parameters of ``builder(**kwargs)``, then (for the fixture's architecture) set the fixed
    weights and compare its outputs on the fixture's inputs."""
    try:
        model = builder(**kwargs)
        count = _count_params(model, input_shapes)
    except Exception as exc:
        return _error(name, exc)
    diff = count - int(expected_count)
    details = f"count_params={count}, expected {int(expected_count)}"
    if diff:
        hint = count_hint
        if diff < 0 and (-diff) % 4 == 0 and -diff // 4 in (1024, 7 * 7 * 128, 64, 128, 256):
            hint = f"missing BatchNorm: {-diff} parameters = 4 × {-diff // 4} features short. {count_hint}"
        return _report(name, False, f"{details}, off by {diff:+d}", hint)
    if fixtures is None:  # a custom count: the architecture is the caller's, only the count is checked
        return _report(name, True, details)
    try:
        if output_kwargs is not None and output_kwargs != kwargs:
            model = builder(**output_kwargs)
            _count_params(model, input_shapes)
        fixed_weights(model, fixtures["weights_rule"])
        x = fixtures[x_key].astype(np.float32)
        try:
            out = model(x, training=False)
        except Exception:  # a discriminator built for (28, 28, 1) images
            out = model(x.reshape(-1, 28, 28, 1), training=False)
        out = _to_numpy(out).reshape(len(x), -1)
    except Exception as exc:
        return _error(name, exc)
    expected = np.asarray(fixtures[out_key], dtype=np.float64)
    if out.shape != expected.shape:
        return _report(name, False, f"{details}; output shape {out.shape[1:]} per example, expected "
                                    f"{expected.shape[1:]}", count_hint)
    err = float(np.max(np.abs(out - expected)) / (np.max(np.abs(expected)) + 1e-8))
    details = f"{details}; outputs with fixed weights: max error {err:.2g}"
    if err <= MODEL_TOLERANCE:
        return _report(name, True, details)
    named = [_output_diagnosis(out, expected, output_activation)]
    named += _structure_hints(_layer_kinds(model), output_activation, hidden)
    named = [h for h in dict.fromkeys(named) if h]
    return _report(name, False, details, "; ".join(named) or count_hint)


def test_discriminator(fn=None, true_count=None, fixtures=None):
    """Build ``fn()`` (default ``gan_lab.models.dense_discriminator``): its parameter count, then its logits
    on the fixture's images with the fixed weights (see :func:`fixed_weights`)."""
    fn = _models().dense_discriminator if fn is None else fn
    f = fixtures or load_fixtures()
    return _check_model("test_discriminator", fn, {}, [(784,), (28, 28, 1)],
                        f["dense_d_params"] if true_count is None else true_count,
                        "the dense discriminator is Dense 256 → leaky ReLU 0.01 → Dense 256 → leaky ReLU 0.01 → "
                        "Dense 1, each Dense layer with a bias", None if true_count is not None else f,
                        "model_x", "dense_d_out_true", None, "lrelu(0.01)")


def test_generator(fn=None, noise_dim=4, true_count=None, fixtures=None):
    """Build ``fn(noise_dim=noise_dim)`` (default ``gan_lab.models.dense_generator``): its parameter count,
    then its images from the fixture's noise (noise_dim 4) with the fixed weights."""
    fn = _models().dense_generator if fn is None else fn
    f = fixtures or load_fixtures()
    if true_count is None:
        true_count = _noise_adjusted(f["dense_g_params_noise4"], noise_dim)
        checked = f
    else:
        checked = None
    return _check_model("test_generator", fn, {"noise_dim": noise_dim}, [(noise_dim,)], true_count,
                        f"the dense generator is {noise_dim} → Dense 1024 ReLU → Dense 1024 ReLU → Dense 784 tanh, "
                        "each Dense layer with a bias", checked, "model_z", "dense_g_out_true", "tanh", "relu",
                        output_kwargs={"noise_dim": 4})


def test_dc_discriminator(fn=None, true_count=None, fixtures=None):
    """Build ``fn()`` (default ``gan_lab.models.dc_discriminator``): its parameter count, then its logits on
    the fixture's images with the fixed weights."""
    fn = _models().dc_discriminator if fn is None else fn
    f = fixtures or load_fixtures()
    return _check_model(
        "test_dc_discriminator", fn, {}, [(28, 28, 1), (784,)],
        f["dc_d_params"] if true_count is None else true_count,
        "expected Conv 32 5×5 valid → leaky ReLU → maxpool 2, Conv 64 5×5 valid → leaky ReLU → maxpool 2, "
        "Flatten, Dense 1024 → leaky ReLU, Dense 1 (all with bias)", None if true_count is not None else f,
        "model_x", "dc_d_out_true", None, "lrelu(0.01)")


def test_dc_generator(fn=None, noise_dim=4, true_count=None, fixtures=None):
    """Build ``fn(noise_dim=noise_dim)`` (default ``gan_lab.models.dc_generator``): its parameter count, then
    its images from the fixture's noise with the fixed weights, in inference mode (BatchNorm's moving
    statistics are fixed weights too)."""
    fn = _models().dc_generator if fn is None else fn
    f = fixtures or load_fixtures()
    if true_count is None:
        true_count = _noise_adjusted(f["dc_g_params_noise4"], noise_dim)
        checked = f
    else:
        checked = None
    return _check_model(
        "test_dc_generator", fn, {"noise_dim": noise_dim}, [(noise_dim,)], true_count,
        "expected Dense 1024 ReLU → BN, Dense 7·7·128 ReLU → BN, Conv2DTranspose 64 4×4 s2 ReLU → BN, "
        "Conv2DTranspose 1 4×4 s2 tanh (BatchNorm has 4 parameters per feature; layers with bias)", checked,
        "model_z", "dc_g_out_true", "tanh", "relu", output_kwargs={"noise_dim": 4})


# --------------------------------------------------------------------------------------------- losses
def _bce(logits, target):
    return np.logaddexp(0.0, logits) - target * logits


def _bce_on_probabilities(p, target):
    """Keras's BinaryCrossentropy(from_logits=False): the inputs clipped to [1e-7, 1 - 1e-7] (in float32)."""
    eps = np.float32(1e-7)
    p = np.clip(np.asarray(p, np.float32), eps, np.float32(1) - eps).astype(np.float64)
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gan_loss_mistakes(logits_real, logits_fake):
    """``({mistake: d_loss}, {mistake: g_loss})``: the values typical mistakes give on these logits."""
    r, f = np.asarray(logits_real, np.float64), np.asarray(logits_fake, np.float64)
    m = np.mean
    d = {
        "sigmoid applied twice (a sigmoid on the logits, then a loss that applies its own)":
            m(_bce(_sigmoid(r), 1)) + m(_bce(_sigmoid(f), 0)),
        "from_logits missing: the logits were treated as probabilities (BinaryCrossentropy(from_logits=True))":
            m(_bce_on_probabilities(r, 1)) + m(_bce_on_probabilities(f, 0)),
        "wrong label for fakes: the discriminator's target for fake images is 0":
            m(_bce(r, 1)) + m(_bce(f, 1)),
        "real and fake labels swapped (real → 1, fake → 0)": m(_bce(r, 0)) + m(_bce(f, 1)),
        "mean vs sum: use the mean over each batch (tf.reduce_mean), not the sum": np.sum(_bce(r, 1)) + np.sum(_bce(f, 0)),
        "one mean over both batches gives half the loss: it is a sum of two means":
            m(np.concatenate([_bce(r, 1), _bce(f, 0)])),
        "the fake-image term is missing": m(_bce(r, 1)),
        "the real-image term is missing": m(_bce(f, 0)),
    }
    g = {
        "sigmoid applied twice (a sigmoid on the logits, then a loss that applies its own)": m(_bce(_sigmoid(f), 1)),
        "from_logits missing: the logits were treated as probabilities (BinaryCrossentropy(from_logits=True))":
            m(_bce_on_probabilities(f, 1)),
        "wrong label: the generator wants its fakes called real, target 1": m(_bce(f, 0)),
        "the saturating minimax loss mean(log(1 - D(G(z)))); use the non-saturating mean(BCE(logits_fake, 1))":
            -m(_bce(f, 0)),
        "mean vs sum: use the mean over the batch (tf.reduce_mean), not the sum": np.sum(_bce(f, 1)),
    }
    return d, g


def lsgan_loss_mistakes(scores_real, scores_fake):
    """Like :func:`gan_loss_mistakes`, for the least-squares losses."""
    r, f = np.asarray(scores_real, np.float64), np.asarray(scores_fake, np.float64)
    m = np.mean
    d = {"the factor 1/2 is missing": m((r - 1) ** 2) + m(f ** 2),
         "a sigmoid on the scores: LSGAN works on raw scores": 0.5 * m((_sigmoid(r) - 1) ** 2) + 0.5 * m(_sigmoid(f) ** 2),
         "wrong label for fakes: the target for fake images is 0": 0.5 * m((r - 1) ** 2) + 0.5 * m((f - 1) ** 2),
         "mean vs sum: use the mean, not the sum": 0.5 * np.sum((r - 1) ** 2) + 0.5 * np.sum(f ** 2)}
    g = {"the factor 1/2 is missing": m((f - 1) ** 2),
         "a sigmoid on the scores: LSGAN works on raw scores": 0.5 * m((_sigmoid(f) - 1) ** 2),
         "wrong label: the generator's target is 1": 0.5 * m(f ** 2),
         "mean vs sum: use the mean, not the sum": 0.5 * np.sum((f - 1) ** 2)}
    return d, g


def _named_mistake(value, mistakes):
    for mistake, wrong in mistakes.items():
        if rel_error(value, wrong) < DIAGNOSIS_TOLERANCE:
            return mistake
    return ""


def _check_loss_pair(name, d_fn, g_fn, d_inputs, g_input, d_true, g_true, d_hint, g_hint, mistakes):
    try:
        d = _scalar("d_fn", d_fn(*[_tf_float64(x) for x in d_inputs]))
        g = _scalar("g_fn", g_fn(_tf_float64(g_input)))
    except Exception as exc:
        return _error(name, exc)
    d_err, g_err = rel_error(d, d_true), rel_error(g, g_true)
    d_mistakes, g_mistakes = mistakes
    hints = []
    if d_err >= TOLERANCE:
        hints.append(f"discriminator loss {d:.6g}, expected {float(d_true):.6g}: "
                     f"{_named_mistake(d, d_mistakes) or d_hint}")
    if g_err >= TOLERANCE:
        hints.append(f"generator loss {g:.6g}, expected {float(g_true):.6g}: "
                     f"{_named_mistake(g, g_mistakes) or g_hint}")
    return _report(name, not hints, f"max relative error d={d_err:.2g}, g={g_err:.2g}", "; ".join(hints))


def test_gan_loss(d_fn=losses.discriminator_loss, g_fn=losses.generator_loss, fixtures=None):
    """Check ``d_fn(logits_real, logits_fake)`` and ``g_fn(logits_fake)`` (BCE GAN losses) against the fixture;
    a wrong value that a typical mistake gives is named (:func:`gan_loss_mistakes`)."""
    f = load_fixtures() if fixtures is None else fixtures
    return _check_loss_pair(
        "test_gan_loss", d_fn, g_fn, (f["logits_real"], f["logits_fake"]), f["logits_fake"],
        f["d_loss_true"], f["g_loss_true"],
        "it is mean(BCE(logits_real, 1)) + mean(BCE(logits_fake, 0)) — a sum of two means — "
        "with tf.nn.sigmoid_cross_entropy_with_logits on the logits",
        "the non-saturating generator loss is mean(BCE(logits_fake, 1))",
        gan_loss_mistakes(f["logits_real"], f["logits_fake"]))


def test_lsgan_loss(d_fn=losses.ls_discriminator_loss, g_fn=losses.ls_generator_loss, fixtures=None):
    """Check ``d_fn(scores_real, scores_fake)`` and ``g_fn(scores_fake)`` (LSGAN losses) against the fixture."""
    f = load_fixtures() if fixtures is None else fixtures
    return _check_loss_pair(
        "test_lsgan_loss", d_fn, g_fn, (f["scores_real"], f["scores_fake"]), f["scores_fake"],
        f["d_loss_lsgan_true"], f["g_loss_lsgan_true"],
        "it is 0.5 * mean((scores_real - 1)^2) + 0.5 * mean(scores_fake^2), on raw scores (no sigmoid)",
        "it is 0.5 * mean((scores_fake - 1)^2)",
        lsgan_loss_mistakes(f["scores_real"], f["scores_fake"]))


# ----------------------------------------------------------------------------------------- train step
def _tiny_pair(f):
    """A small dense generator (4 → 16 ReLU → 784 tanh) and discriminator (784 → 8 leaky ReLU → 1) with the
    fixtures' fixed weights."""
    import keras
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(784, activation="tanh")])
    d = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8), keras.layers.LeakyReLU(0.01),
                          keras.layers.Dense(1)])
    return fixed_weights(g, f["weights_rule"]), fixed_weights(d, f["weights_rule"])


def _reference_step(f, real, z_d, z_g, g_first=False, stale_d=False):
    """gan_lab's update written out (SGD, lr 0.5): D on (real, G(z_d)), then G on D(G(z_g)); variants for the
    diagnoses. Returns the weights of (G, D) afterwards and the two losses."""
    import keras
    import tensorflow as tf
    g, d = _tiny_pair(f)
    d_opt, g_opt = keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5)
    d_before = [w.numpy() for w in d.trainable_variables]

    def d_step():
        with tf.GradientTape() as tape:
            loss = losses.discriminator_loss(d(real, training=True), d(g(z_d, training=True), training=True))
        d_opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
        return loss

    def g_step():
        current = [w.numpy() for w in d.trainable_variables]
        if stale_d:
            for w, v in zip(d.trainable_variables, d_before):
                w.assign(v)
        with tf.GradientTape() as tape:
            loss = losses.generator_loss(d(g(z_g, training=True), training=True))
        g_opt.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables))
        for w, v in zip(d.trainable_variables, current):
            w.assign(v)
        return loss

    if g_first:
        g_loss = g_step()
        d_loss = d_step()
    else:
        d_loss = d_step()
        g_loss = g_step()
    return [w.numpy() for w in g.weights], [w.numpy() for w in d.weights], float(d_loss), float(g_loss)


def test_train_step(fn, fixtures=None):
    """Check a train step ``fn(real_images, generator, discriminator, d_optimizer, g_optimizer, noise_fn)`` →
    ``(d_loss, g_loss)``: one discriminator update on real images and fakes, then one generator update (with
    the *updated* discriminator), each from its own ``tf.GradientTape``.

    It runs ``fn`` once, eagerly, on small dense models with fixed weights and SGD(0.5) optimizers, with
    ``noise_fn`` returning fixed noise (a new batch at each call: calling it once for both updates is fine
    too), and compares the weights afterwards and the returned losses with gan_lab's update written out.
    """
    import keras
    name = "test_train_step"
    f = load_fixtures() if fixtures is None else fixtures
    real = f["model_x"].astype(np.float32)
    z = f["model_z"].astype(np.float32)
    noises = [z, z[::-1].copy()]
    calls = []

    def noise_fn(batch_size):
        calls.append(int(batch_size))
        return noises[min(len(calls), 2) - 1][:int(batch_size)]

    try:
        g, d = _tiny_pair(f)
        d_before, g_before = [w.numpy() for w in d.weights], [w.numpy() for w in g.weights]
        out = fn(real, g, d, keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5), noise_fn)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise _CheckFailure(f"returned {type(out).__name__}, expected a pair (d_loss, g_loss)",
                                "return d_loss, g_loss")
        d_loss, g_loss = _scalar("d_loss", out[0]), _scalar("g_loss", out[1])
    except Exception as exc:
        return _error(name, exc)
    g_after, d_after = [w.numpy() for w in g.weights], [w.numpy() for w in d.weights]
    if calls and any(c != len(real) for c in calls):
        return _report(name, False, f"noise_fn called with batch sizes {calls}",
                       "draw one noise vector per real image: noise_fn(batch_size of the real batch)")
    z_g = noises[1] if len(calls) >= 2 else noises[0]

    def same(a, b):
        return all(x.shape == y.shape and np.max(np.abs(x - y), initial=0.0) <= 1e-5 * (np.max(np.abs(y)) + 1e-3)
                   for x, y in zip(a, b))

    ref_g, ref_d, ref_dl, ref_gl = _reference_step(f, real, noises[0], z_g)
    if same(d_after, d_before):
        return _report(name, False, "the discriminator's weights did not change",
                       "the discriminator was not updated: d_optimizer.apply_gradients(zip(d_grads, "
                       "discriminator.trainable_variables))")
    if same(g_after, g_before):
        return _report(name, False, "the generator's weights did not change",
                       "the generator was not updated: g_optimizer.apply_gradients(zip(g_grads, "
                       "generator.trainable_variables))")
    ok_d, ok_g = same(d_after, ref_d), same(g_after, ref_g)
    ok_losses = rel_error([d_loss, g_loss], [ref_dl, ref_gl]) < 1e-4
    details = f"discriminator update {'ok' if ok_d else 'wrong'}, generator update {'ok' if ok_g else 'wrong'}, " \
              f"losses {'ok' if ok_losses else f'd={d_loss:.5g}, g={g_loss:.5g}, expected d={ref_dl:.5g}, g={ref_gl:.5g}'}"
    if ok_d and ok_g and ok_losses:
        return _report(name, True, details)
    hint = "update D on real and fake images with discriminator_loss, then G with generator_loss"
    if ok_d and not ok_g and same(g_after, _reference_step(f, real, noises[0], z_g, stale_d=True)[0]):
        hint = ("the generator step used the discriminator from before its update: compute the generator loss in "
                "a second tape, after d_optimizer.apply_gradients")
    elif not ok_d and same(d_after, _reference_step(f, real, noises[0], z_g, g_first=True)[1]):
        hint = "update the discriminator first, then the generator"
    elif ok_d and ok_g:
        hint = "return (d_loss, g_loss), the losses each update minimized"
    return _report(name, False, details, hint)


# ------------------------------------------------------------------------- exercises of notebooks 03-06
def _check_value(name, value, expected, mistakes, hint, what="value"):
    """PASS if ``value`` matches ``expected`` (relative :data:`TOLERANCE`); else FAIL, naming the mistake of
    ``mistakes`` (``{description: the value it gives}``) that ``value`` matches, or giving ``hint``."""
    value, expected = _to_numpy(value), _to_numpy(expected)
    if value.shape != expected.shape:
        return _report(name, False, f"{what} has shape {value.shape}, expected {expected.shape}", hint)
    err = rel_error(value, expected) if value.size else 0.0
    if err < TOLERANCE:
        return _report(name, True, f"max relative error {err:.2g}")
    named = next((m for m, wrong in mistakes.items()
                  if np.shape(wrong) == value.shape and np.all(np.isfinite(wrong)) and rel_error(value, wrong) < DIAGNOSIS_TOLERANCE), "")
    return _report(name, False, f"max relative error {err:.2g}", named or hint)


def test_scale_images(fn=None):
    """Check ``fn(images, output)``: uint8 images in [0, 255] → float32 in [-1, 1] (``output="tanh"``) or
    [0, 1] (``"sigmoid"``), the range of the generator's last activation (notebook 03)."""
    from gan_lab import data
    name = "test_scale_images"
    fn = data.scale_images if fn is None else fn
    images = np.array([[0, 1, 60, 127, 128], [129, 200, 254, 255, 90]], np.uint8).reshape(2, 1, 5)
    x = images.astype(np.float64)
    wrapped = (images * np.uint8(2)).astype(np.float64)  # uint8 arithmetic wraps around at 256
    tanh, sigmoid = x / 127.5 - 1.0, x / 255.0
    common = {"the images were not divided by 255": x,
              "the shift by -1 is missing: x / 127.5 lies in [0, 2]": x / 127.5,
              "centred but not stretched: (x - 127.5) / 255 lies in [-0.5, 0.5]": (x - 127.5) / 255.0}
    cases = {"tanh": (tanh, {"uint8 arithmetic overflowed (images * 2 wraps around at 256): convert to float32 "
                             "first": wrapped / 255.0 - 1.0,
                             "that is the [0, 1] scaling, for a sigmoid generator; tanh needs [-1, 1]": sigmoid}),
             "sigmoid": (sigmoid, {"that is the [-1, 1] scaling, for a tanh generator; sigmoid needs [0, 1]": tanh})}
    for output, (expected, mistakes) in cases.items():
        try:
            out = fn(images.copy(), output)
        except Exception as exc:
            return _error(name, exc)
        dtype, values = str(getattr(out, "dtype", type(out).__name__)), _to_numpy(out)
        if values.shape != expected.shape or rel_error(values, expected) >= TOLERANCE:
            return _check_value(name, out, expected, {**mistakes, **common},
                                "tanh: x / 127.5 - 1 (0 → -1, 255 → 1); sigmoid: x / 255", f"fn(images, {output!r})")
        if "float32" not in dtype:
            return _report(name, False, f"fn(images, {output!r}) has dtype {dtype}, expected float32",
                           "the models compute in float32: np.asarray(images, np.float32) first")
    return _report(name, True, "tanh: 0 → -1, 255 → 1; sigmoid: 0 → 0, 255 → 1; float32")


def test_spread(fn):
    """Check ``fn(images)`` → the per-pixel standard deviation across the batch, averaged over the pixels
    (notebook 04's crude diversity number); a batch of identical images must give 0."""
    name = "test_spread"
    rng = np.random.default_rng(4)  # a shared pattern, a brightness per image and noise: the three stds differ
    images = (0.5 * rng.uniform(0, 1, (1, 28, 28)) + rng.uniform(0, 0.3, (8, 1, 1))
              + rng.uniform(0, 0.2, (8, 28, 28))).astype(np.float32)
    x = images.astype(np.float64)
    try:
        value = _scalar("fn(images)", fn(images))
        same = _scalar("fn(identical images)", fn(np.repeat(images[:1], 8, axis=0)))
    except Exception as exc:
        return _error(name, exc)
    mistakes = {"axis: that is the spread of the pixels within each image; take the std across images (axis 0)":
                    np.std(x.reshape(len(x), -1), axis=1).mean(),
                "one std over every number of the batch mixes both: take the std across images (axis 0), then "
                "the mean over the pixels": np.std(x),
                "the variance, not the standard deviation": np.var(x, axis=0).mean(),
                "the sample std (ddof=1): use the population std, np.std's default": np.std(x, axis=0, ddof=1).mean()}
    hint = "np.std(images, axis=0).mean(): per pixel across the batch, then the mean"
    if abs(same) > 1e-6 and rel_error(value, np.std(x, axis=0).mean()) < TOLERANCE:
        return _report(name, False, f"fn(8 identical images) = {same:.4g}, expected 0",
                       "images that are all the same have no spread: the std across images (axis 0) is 0")
    return _check_value(name, value, np.std(x, axis=0).mean(), mistakes, hint)


def _trace_sqrt_product(s1, s2):
    """Tr((Σ1Σ2)^½) as the sum of the square roots of the eigenvalues of Σ1Σ2 (real and ≥ 0 for covariances)."""
    return float(np.sum(np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None))))


def test_frechet_distance(fn=None):
    """Check ``fn(mu1, sigma1, mu2, sigma2)`` → ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½) (Heusel et al. 2017, the
    formula of FID and of notebook 05's FCD) on two fixed 4-d Gaussians; identical Gaussians must give 0."""
    from gan_lab import metrics
    name = "test_frechet_distance"
    fn = metrics.frechet_distance if fn is None else fn
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    s1, s2 = a @ a.T / 4 + np.eye(4) * 0.5, b @ b.T / 4 + np.eye(4) * 0.5
    try:
        value = _scalar("fn(mu1, sigma1, mu2, sigma2)", fn(mu1, s1, mu2, s2))
        same = _scalar("fn(mu1, sigma1, mu1, sigma1)", fn(mu1, s1, mu1, s1))
    except Exception as exc:
        return _error(name, exc)
    d2, tr, tr_sqrt = float((mu1 - mu2) @ (mu1 - mu2)), float(np.trace(s1) + np.trace(s2)), _trace_sqrt_product(s1, s2)
    expected = d2 + tr - 2 * tr_sqrt
    mistakes = {"the factor 2 before Tr((Σ1Σ2)^½) is missing": d2 + tr - tr_sqrt,
                "Tr(Σ1Σ2) instead of Tr((Σ1Σ2)^½): the matrix square root is missing": d2 + tr - 2 * np.trace(s1 @ s2),
                "Tr(Σ1^½ Σ2^½): the square root is of the product, sqrtm(Σ1 Σ2)":
                    d2 + tr - 2 * np.trace(_psd_sqrt(s1) @ _psd_sqrt(s2)),
                "‖μ1 − μ2‖ is not squared": np.sqrt(d2) + tr - 2 * tr_sqrt,
                "the square root of the distance: FID and FCD are the squared distance d²": np.sqrt(max(expected, 0.0))}
    if abs(same) > 1e-6 and rel_error(value, expected) < TOLERANCE:
        return _report(name, False, f"fn(mu1, sigma1, mu1, sigma1) = {same:.4g}, expected 0",
                       "a Gaussian is at distance 0 from itself: Tr(Σ + Σ − 2(ΣΣ)^½) = 0")
    return _check_value(name, value, expected, mistakes,
                        "‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2 Tr(sqrtm(Σ1 Σ2)), with scipy.linalg.sqrtm (take .real)")


def _psd_sqrt(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def test_gradient_penalty(fn=None):
    """Check ``fn(critic, real, fake, alpha)`` → E[(‖∇D(x̂)‖₂ − 1)²] with x̂ = α·real + (1 − α)·fake, one α per
    example, the norm over all pixels of each image (Gulrajani et al. 2017, eq. 3; notebook 06). The critic is
    D(x) = Σ tanh(w·x) with fixed weights, whose gradient is known in closed form."""
    import tensorflow as tf
    name = "test_gradient_penalty"
    fn = losses.gradient_penalty if fn is None else fn
    rng = np.random.default_rng(6)
    real, fake = (rng.uniform(-1, 1, (4, 3, 3, 1)).astype(np.float32) for _ in range(2))
    w = rng.normal(0, 0.8, (1, 3, 3, 1)).astype(np.float32)
    alpha = np.array([0.1, 0.4, 0.7, 0.95], np.float32)
    wt = tf.constant(w)

    def critic(x):
        return tf.reduce_sum(tf.tanh(wt * x), axis=[1, 2, 3])

    try:
        value = _scalar("fn(critic, real, fake, alpha)", fn(critic, tf.constant(real), tf.constant(fake),
                                                            tf.constant(alpha)))
    except Exception as exc:
        if "shape" in str(exc).lower() or "broadcast" in str(exc).lower() or "incompatible" in str(exc).lower():
            return _report(name, False, f"raised {type(exc).__name__}",
                           "alpha has one value per example, shape (N,): reshape it to (N, 1, 1, 1) to mix images")
        return _error(name, exc)
    r, f, a, w64 = (np.asarray(t, np.float64) for t in (real, fake, alpha.reshape(-1, 1, 1, 1), w))

    def grads(x):  # ∇ Σ tanh(w x) = w (1 − tanh²(w x))
        return w64 * (1 - np.tanh(w64 * x) ** 2)

    def norms(g):
        return np.sqrt((g ** 2).reshape(len(g), -1).sum(axis=1))

    g = grads(a * r + (1 - a) * f)
    expected = np.mean((norms(g) - 1) ** 2)
    mistakes = {"the penalty is squared: mean((‖∇‖ − 1)²), not mean(|‖∇‖ − 1|)": np.mean(np.abs(norms(g) - 1)),
                "the squared norm ‖∇‖² was used: the norm is the square root of the sum of squares":
                    np.mean((norms(g) ** 2 - 1) ** 2),
                "one norm over the whole batch: take one norm per example (reduce over the pixel axes 1, 2, 3)":
                    (np.sqrt((g ** 2).sum()) - 1) ** 2,
                "the gradient was taken at the real images: take it at x̂ = α·real + (1 − α)·fake":
                    np.mean((norms(grads(r)) - 1) ** 2),
                "α and 1 − α swapped: this check expects x̂ = α·real + (1 − α)·fake (the paper's convention)":
                    np.mean((norms(grads(a * f + (1 - a) * r)) - 1) ** 2),
                "alpha was not reshaped: α of shape (N,) times images (N, H, W, 1) broadcasts to (N, H, W, N); "
                "reshape it to (N, 1, 1, 1)": np.mean((norms(grads(a.reshape(-1) * r + (1 - a.reshape(-1)) * f)) - 1) ** 2)}
    return _check_value(name, value, expected, mistakes,
                        "x̂ = α·real + (1 − α)·fake; the gradient of critic(x̂) with respect to x̂ (tape.watch); "
                        "its norm per example; mean((norm − 1)²)")


# ------------------------------------------------------------------------- exercises of notebooks 00 and 07
def test_ring_data(fn=None, n=8000):
    """Check a sampler ``fn(n, seed)`` → ``(n, 2)`` float32 points of notebook 00's ring (Metz et al. 2017):
    8 modes evenly spaced on a circle of radius 2, the first at angle 0, each chosen with probability 1/8, plus
    Gaussian noise of standard deviation 0.02 in x and in y, drawn from ``np.random.default_rng(seed)``.

    A sample is random, so the check compares the statistics of ``n`` points drawn with a fixed seed with the
    mixture's: the distance from the origin, the angles of the modes, each mode's share, the noise's standard
    deviation per axis and the correlation of its x and y; and it calls ``fn`` again to see that the seed
    fixes the draw. The centres are computed here from the definition, not taken from gan_lab.
    """
    from gan_lab import toy
    name = "test_ring_data"
    fn = toy.ring_data if fn is None else fn
    modes, radius, std = toy.MODES, toy.RADIUS, toy.STD
    try:
        out, again, other = fn(n, seed=7), fn(n, seed=7), fn(n, seed=8)
    except Exception as exc:
        return _error(name, exc)
    dtype, x = str(getattr(out, "dtype", type(out).__name__)), _to_numpy(out)
    if x.shape != (n, 2):
        return _report(name, False, f"fn({n}, seed=7) has shape {x.shape}, expected ({n}, 2)",
                       "one row per point: the chosen centres, shape (n, 2), plus noise of shape (n, 2)")
    if not np.array_equal(x, _to_numpy(again)):
        return _report(name, False, "two calls with seed=7 gave different points",
                       "draw every number from rng = np.random.default_rng(seed), not from np.random's global state")
    if np.array_equal(x, _to_numpy(other)):
        return _report(name, False, "seed=7 and seed=8 gave the same points",
                       "the seed is not used: rng = np.random.default_rng(seed)")
    distance = float(np.median(np.linalg.norm(x, axis=1)))
    if abs(distance - radius) > 0.1:
        return _report(name, False, f"the points lie at a median distance {distance:.3g} from the origin, "
                                    f"expected {radius:g}",
                       f"the centres lie on the circle of radius {radius:g}: radius * (cos θ, sin θ)")
    step = 2 * np.pi / modes
    angle = np.arctan2(x[:, 1], x[:, 0])
    k = np.round(angle / step).astype(int) % modes  # the mode whose angle 2πk/8 is nearest
    off_angle = float(np.median(np.abs((angle - k * step + np.pi) % (2 * np.pi) - np.pi)))
    if off_angle > 0.05:
        return _report(name, False, f"the points lie {np.degrees(off_angle):.0f}° (median) from the nearest "
                                    f"angle 2πk/{modes}",
                       f"the modes are at the angles θ = 2πk/{modes}, k = 0..{modes - 1}, in radians (np.cos and "
                       f"np.sin take radians: 45° is π/4)")
    shares = np.bincount(k, minlength=modes) / n
    if shares.min() < 0.25 / modes:
        return _report(name, False, f"mode(s) {np.flatnonzero(shares < 0.25 / modes).tolist()} get "
                                    f"{shares.min():.1%} of the points, expected {1 / modes:.1%} each",
                       f"choose each point's mode among all {modes}: rng.integers(0, {modes}, n) draws 0..{modes - 1} "
                       "(the upper bound is excluded)")
    if np.max(np.abs(shares - 1 / modes)) > 0.02:
        return _report(name, False, f"the modes' shares are {np.round(shares, 3).tolist()}, expected "
                                    f"{1 / modes:.3f} each",
                       f"choose the modes uniformly: rng.integers(0, {modes}, n)")
    centres = radius * np.stack([np.cos(k * step), np.sin(k * step)], axis=1)
    noise = x - centres
    spread = noise.std(axis=0)
    details = f"noise std (x, y) = ({spread[0]:.4g}, {spread[1]:.4g}), expected {std:g}"
    if spread.min() > 0.1 * std and abs(np.corrcoef(noise.T)[0, 1]) > 0.9:
        return _report(name, False, details + f"; x and y noise correlation {np.corrcoef(noise.T)[0, 1]:.2f}",
                       "the same noise was added to x and y (the points sit on a diagonal): draw (n, 2) numbers, "
                       f"rng.normal(0, {std:g}, (n, 2))")
    if np.max(np.abs(spread / std - 1)) > 0.1:
        mistakes = {"no noise: add Gaussian noise, rng.normal(0, std, (n, 2))": 0.0,
                    f"std² = {std ** 2:g} was passed as the standard deviation: rng.normal's scale is the "
                    f"standard deviation, {std:g} itself": std ** 2,
                    f"√std = {np.sqrt(std):.3g}: {std:g} is already the standard deviation, pass it as the scale":
                        np.sqrt(std),
                    f"uniform noise in [−{std:g}, {std:g}] (its std is {std:g}/√3): the noise is Gaussian, "
                    "rng.normal": std / np.sqrt(3)}
        named = next((m for m, wrong in mistakes.items() if np.all(np.abs(spread - wrong) <= 0.1 * max(wrong, 1e-6))),
                     "")
        return _report(name, False, details, named or f"Gaussian noise of standard deviation {std:g} in x and in y")
    if "float32" not in dtype:
        return _report(name, False, f"the points have dtype {dtype}, expected float32",
                       "the networks compute in float32: return points.astype(np.float32)")
    return _report(name, True, f"radius {distance:.3f}, shares {shares.min():.3f}-{shares.max():.3f}, " + details)


def _check_picture(name, out, expected, mistakes, hint, what):
    """PASS if the uint8 picture ``out`` is ``expected`` to within 1 grey level (rounding or truncating both
    pass); else FAIL, naming the mistake of ``mistakes`` (``{description: the picture it gives}``) that
    ``out`` matches to within 1 grey level, or giving ``hint``. Returns None when it passed, so that a
    check can test several cases."""
    dtype, values = str(getattr(out, "dtype", type(out).__name__)), _to_numpy(out)
    named = next((m for m, wrong in mistakes.items() if np.shape(wrong) == values.shape
                  and np.max(np.abs(values - wrong), initial=0.0) <= 1.0), "")
    if values.shape != expected.shape:
        return _report(name, False, f"{what} has shape {values.shape}, expected {expected.shape}", named or hint)
    err = float(np.max(np.abs(values - expected), initial=0.0))
    if err > 1.0:
        return _report(name, False, f"{what}: max difference {err:.3g} grey levels", named or hint)
    if "uint8" not in dtype:
        return _report(name, False, f"{what} has dtype {dtype}, expected uint8",
                       "pictures are uint8 in [0, 255]: np.round(x).astype(np.uint8)")
    return None


def _lanczos(picture, size):
    return np.asarray(Image.fromarray(np.ascontiguousarray(picture)).resize((size, size), Image.Resampling.LANCZOS),
                      np.float64)


def test_composite(fn):
    """Check ``fn(rgba, background)``: an RGBA picture, uint8 ``(H, W, 4)``, composited on an opaque
    ``background`` colour (three numbers in [0, 255]) → RGB uint8 ``(H, W, 3)``: α·rgb + (1 − α)·background
    with α = A / 255, Porter & Duff's "over" (1984), as gan_lab's folder loader does on white (notebook 07).
    The picture has fully transparent, half and fully opaque pixels; two backgrounds, white and a colour."""
    name = "test_composite"
    rgba = np.random.default_rng(7).integers(0, 256, (3, 4, 4)).astype(np.uint8)
    rgba[0, :, 3] = [0, 255, 128, 64]  # transparent, opaque, half, a quarter
    rgb, a = rgba[..., :3].astype(np.float64), rgba[..., 3:].astype(np.float64) / 255
    for background in ((255, 255, 255), (20, 120, 220)):
        bg = np.array(background, np.float64)
        try:
            out = fn(rgba.copy(), background)
        except Exception as exc:
            if "broadcast" in str(exc).lower():
                return _report(name, False, f"raised {type(exc).__name__}",
                               "α = rgba[..., 3] has shape (H, W): keep its channel axis, rgba[..., 3:] / 255 of "
                               "shape (H, W, 1), to multiply the (H, W, 3) colours")
            return _error(name, exc)
        mistakes = {"the alpha channel was dropped: a transparent pixel shows whatever colour it hides; mix with "
                    "the background by α": rgb,
                    "α and 1 − α are swapped: an opaque pixel (α = 1) keeps its own colour, a transparent one "
                    "(α = 0) shows the background": (1 - a) * rgb + a * bg,
                    "composited on black: add (1 − α)·background": a * rgb}
        if background != (255, 255, 255):
            mistakes["the background argument was ignored (white was used)"] = a * rgb + (1 - a) * 255.0
        failed = _check_picture(name, out, a * rgb + (1 - a) * bg, mistakes,
                                "α·rgb + (1 − α)·background with α = A / 255, computed in float, then "
                                "rounded to uint8", f"fn(rgba, {background})")
        if failed is not None:
            return failed
    return _report(name, True, "white and coloured backgrounds, to within 1 grey level")


def test_center_square(fn):
    """Check ``fn(picture, size)``: a uint8 picture ``(H, W, 3)`` → its centred square of side min(H, W), rows
    from (H − side) // 2 and columns from (W − side) // 2, resized to ``(size, size, 3)`` with Lanczos (PIL's
    ``Image.Resampling.LANCZOS``), uint8: what gan_lab's folder loader does (the centre crop of the PyTorch
    DCGAN tutorial; notebook 07). Three pictures: a wide one and a tall one (odd difference) kept at their
    side, and a wide one resized down."""
    name = "test_center_square"
    rng = np.random.default_rng(8)
    cases = [(rng.integers(0, 256, (6, 10, 3)).astype(np.uint8), 6),   # wide: columns 2..7
             (rng.integers(0, 256, (11, 6, 3)).astype(np.uint8), 6),   # tall, odd difference: rows 2..7
             (rng.integers(0, 256, (8, 12, 3)).astype(np.uint8), 4)]   # wide, resized 8 → 4
    for picture, size in cases:
        h, w = picture.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        expected = _lanczos(picture[top:top + side, left:left + side], size)
        up, back = (h - side + 1) // 2, (w - side + 1) // 2
        mistakes = {"the top-left square: centre it, top = (H − side) // 2, left = (W − side) // 2":
                        _lanczos(picture[:side, :side], size),
                    "height and width swapped: a picture array is (height, width, channels), H = picture.shape[0]":
                        _lanczos(picture[left:left + side, top:top + side], size),
                    "the picture was squashed to a square: crop the centre square first, then resize (that keeps "
                    "the proportions)": _lanczos(picture, size),
                    "the square was not resized: Image.fromarray(square).resize((size, size), "
                    "Image.Resampling.LANCZOS)": picture[top:top + side, left:left + side].astype(np.float64),
                    "off by one: with an odd difference the extra row or column is left at the end, top = "
                    "(H − side) // 2 (floor division)": _lanczos(picture[up:up + side, back:back + side], size),
                    "the resize filter: gan_lab resizes with Image.Resampling.LANCZOS (PIL's default for "
                    "resize is bicubic)": np.asarray(Image.fromarray(picture[top:top + side, left:left + side]).resize(
                        (size, size), Image.Resampling.BICUBIC), np.float64)}
        try:
            out = fn(picture.copy(), size)
        except Exception as exc:
            return _error(name, exc)
        failed = _check_picture(name, out, expected, mistakes,
                                "the centred square of side min(H, W), then Image.fromarray(square).resize((size, "
                                "size), Image.Resampling.LANCZOS)", f"fn(picture {h}×{w}, {size})")
        if failed is not None:
            return failed
    return _report(name, True, "wide, tall (odd difference) and resized pictures, to within 1 grey level")


# These are checks to call, not pytest tests: keep pytest from collecting them if they are imported into a
# test module (``from gan_lab.checks import test_gan_loss``).
for _f in (test_sample_noise, test_leaky_relu, test_discriminator, test_generator, test_dc_discriminator,
           test_dc_generator, test_gan_loss, test_lsgan_loss, test_train_step, test_scale_images, test_spread,
           test_frechet_distance, test_gradient_penalty, test_ring_data, test_composite, test_center_square):
    _f.__test__ = False
del _f
