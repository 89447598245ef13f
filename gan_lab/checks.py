"""Learner checks: compare your functions with reference values (the fixtures, ``gan-checks-tf.npz``).

Each ``test_*`` function takes *your* function as its argument (defaulting to gan_lab's own), prints one line
``name: PASS (...)`` or ``name: FAIL (...) — hint`` and returns ``True`` / ``False``::

    from gan_lab import checks
    checks.test_leaky_relu(my_leaky_relu)
    checks.test_gan_loss(my_discriminator_loss, my_generator_loss)
    checks.test_discriminator(my_discriminator)            # builds my_discriminator(), counts parameters

The reference values come from ``scripts/make_fixtures.py``, written with plain numpy (independent of
gan_lab and TensorFlow). They ship inside the package (``gan_lab/fixtures/gan-checks-tf.npz``, a byte copy of
the repository's ``unit-testing-data/gan-checks-tf.npz``), so the checks work from an installed wheel. A
CS231n-style ``gan-checks-tf.npz`` from a course works too: ``load_fixtures("gan-checks-tf.npz")`` or
``$GAN_LAB_FIXTURES``. Loss and leaky-ReLU inputs are float64; keep their dtype (relative error < 1e-8).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np

from gan_lab import losses, ops

__all__ = [
    "FIXTURE_NAME", "FIXTURES_ENV", "FIXTURE_KEYS", "CS231N_KEYS", "load_fixtures", "rel_error",
    "test_sample_noise", "test_leaky_relu",
    "test_discriminator", "test_generator", "test_dc_discriminator", "test_dc_generator",
    "test_gan_loss", "test_lsgan_loss",
]

FIXTURE_NAME = "gan-checks-tf.npz"
FIXTURES_ENV = "GAN_LAB_FIXTURES"
PACKAGED_FIXTURES = "fixtures"  # the folder inside the gan_lab package (package data) that holds FIXTURE_NAME
TOLERANCE = 1e-8
_COUNT_KEYS = ("dense_d_params", "dense_g_params_noise4", "dc_d_params", "dc_g_params_noise4")
# What the checks read from gan_lab's own fixture file (it also holds ``minimax_g_loss_true``, for gan_lab's tests).
FIXTURE_KEYS = ("lrelu_x", "lrelu_out_true", "logits_real", "logits_fake", "d_loss_true", "g_loss_true",
                "scores_real", "scores_fake", "d_loss_lsgan_true", "g_loss_lsgan_true") + _COUNT_KEYS
# The keys of the Stanford CS231n assignment's gan-checks-tf.npz. Its notebook checks the LSGAN losses on the
# same logits (no separate scores), and states the parameter counts in code rather than in the file.
CS231N_KEYS = ("lrelu_x", "lrelu_y", "logits_real", "logits_fake", "d_loss_true", "g_loss_true",
               "d_loss_lsgan_true", "g_loss_lsgan_true")


# -------------------------------------------------------------------------------------------- helpers
def load_fixtures(path=None):
    """Load the check fixtures as a dict of numpy arrays (the keys of :data:`FIXTURE_KEYS`).

    Reads ``path`` (a ``.npz`` file or a folder holding ``gan-checks-tf.npz``) if given, else
    ``$GAN_LAB_FIXTURES`` (same) if set, else the copy packaged with gan_lab (``importlib.resources``). The
    file may be gan_lab's or a CS231n-style ``gan-checks-tf.npz`` (:data:`CS231N_KEYS`): its ``lrelu_y``
    becomes ``lrelu_out_true``, its logits also serve as the LSGAN scores, and the parameter counts come from
    the packaged file. A missing file raises ``FileNotFoundError``, a file with other keys ``ValueError``;
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
    if not all(key in fixtures for key in _COUNT_KEYS):
        packaged = _packaged_fixtures()
        for key in _COUNT_KEYS:
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


def _precision_hint(err, how="e.g. tf.ones_like(logits), not tf.ones(shape)"):
    if err < 1e-4:
        return f"close but not exact: did you compute in float32? keep the float64 inputs' dtype ({how})"
    return ""


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
    """Check ``fn(x)`` (alpha 0.01) against the fixture, relative error < 1e-8 in float64."""
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
    hint = (_precision_hint(err, "tf.nn.leaky_relu keeps alpha in float32; use tf.maximum(x, alpha * x)")
            or "leaky_relu(x) = x for x > 0 and alpha * x otherwise, alpha = 0.01")
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


def _check_count(name, builder, kwargs, input_shapes, expected, hint):
    try:
        model = builder(**kwargs)
        count = _count_params(model, input_shapes)
    except Exception as exc:
        return _error(name, exc)
    expected = int(expected)
    diff = count - expected
    details = f"count_params={count}, expected {expected}"
    if diff:
        details += f", off by {diff:+d}"
    return _report(name, diff == 0, details, hint)


def _models():
    import gan_lab.models  # imported lazily: the checks of losses and ops must not need it
    return gan_lab.models


def _noise_adjusted(base_noise4, noise_dim):
    """The fixtures count generators for noise_dim=4; the first FC layer has noise_dim * 1024 weights."""
    return int(base_noise4) + (int(noise_dim) - 4) * 1024


def test_discriminator(fn=None, true_count=None, fixtures=None):
    """Build ``fn()`` (default ``gan_lab.models.dense_discriminator``) and compare its parameter count."""
    fn = _models().dense_discriminator if fn is None else fn
    expected = true_count if true_count is not None else (fixtures or load_fixtures())["dense_d_params"]
    return _check_count("test_discriminator", fn, {}, [(784,), (28, 28, 1)], expected,
                        "the dense discriminator is 784 → 256 → 256 → 1, each Dense layer with a bias")


def test_generator(fn=None, noise_dim=4, true_count=None, fixtures=None):
    """Build ``fn(noise_dim=noise_dim)`` (default ``gan_lab.models.dense_generator``) and count parameters."""
    fn = _models().dense_generator if fn is None else fn
    if true_count is None:
        true_count = _noise_adjusted((fixtures or load_fixtures())["dense_g_params_noise4"], noise_dim)
    return _check_count("test_generator", fn, {"noise_dim": noise_dim}, [(noise_dim,)], true_count,
                        f"the dense generator is {noise_dim} → 1024 → 1024 → 784, each Dense layer with a bias")


def test_dc_discriminator(fn=None, true_count=None, fixtures=None):
    """Build ``fn()`` (default ``gan_lab.models.dc_discriminator``) and compare its parameter count."""
    fn = _models().dc_discriminator if fn is None else fn
    expected = true_count if true_count is not None else (fixtures or load_fixtures())["dc_d_params"]
    return _check_count(
        "test_dc_discriminator", fn, {}, [(28, 28, 1), (784,)], expected,
        "expected Conv 32 5×5 valid + maxpool 2, Conv 64 5×5 valid + maxpool 2, Dense 1024, Dense 1 (all with bias)")


def test_dc_generator(fn=None, noise_dim=4, true_count=None, fixtures=None):
    """Build ``fn(noise_dim=noise_dim)`` (default ``gan_lab.models.dc_generator``) and count parameters."""
    fn = _models().dc_generator if fn is None else fn
    if true_count is None:
        true_count = _noise_adjusted((fixtures or load_fixtures())["dc_g_params_noise4"], noise_dim)
    return _check_count(
        "test_dc_generator", fn, {"noise_dim": noise_dim}, [(noise_dim,)], true_count,
        "expected Dense 1024 + BN, Dense 7·7·128 + BN, Conv2DTranspose 64 4×4 + BN, Conv2DTranspose 1 4×4 "
        "(BatchNorm has 4 parameters per feature; layers with bias)")


# --------------------------------------------------------------------------------------------- losses
def _check_loss_pair(name, d_fn, g_fn, d_inputs, g_input, d_true, g_true, d_hint, g_hint):
    try:
        d = _scalar("d_fn", d_fn(*[_tf_float64(x) for x in d_inputs]))
        g = _scalar("g_fn", g_fn(_tf_float64(g_input)))
    except Exception as exc:
        return _error(name, exc)
    d_err, g_err = rel_error(d, d_true), rel_error(g, g_true)
    hints = []
    if d_err >= TOLERANCE:
        hints.append(_precision_hint(d_err) or f"discriminator loss {d:.6g}, expected {float(d_true):.6g}: {d_hint}")
    if g_err >= TOLERANCE:
        hints.append(_precision_hint(g_err) or f"generator loss {g:.6g}, expected {float(g_true):.6g}: {g_hint}")
    return _report(name, not hints, f"max relative error d={d_err:.2g}, g={g_err:.2g}", "; ".join(dict.fromkeys(hints)))


def test_gan_loss(d_fn=losses.discriminator_loss, g_fn=losses.generator_loss, fixtures=None):
    """Check ``d_fn(logits_real, logits_fake)`` and ``g_fn(logits_fake)`` (BCE GAN losses) against the fixture."""
    f = load_fixtures() if fixtures is None else fixtures
    return _check_loss_pair(
        "test_gan_loss", d_fn, g_fn, (f["logits_real"], f["logits_fake"]), f["logits_fake"],
        f["d_loss_true"], f["g_loss_true"],
        "it is mean(BCE(logits_real, 1)) + mean(BCE(logits_fake, 0)) — a sum of two means — "
        "with tf.nn.sigmoid_cross_entropy_with_logits on the logits",
        "the non-saturating generator loss is mean(BCE(logits_fake, 1))")


def test_lsgan_loss(d_fn=losses.ls_discriminator_loss, g_fn=losses.ls_generator_loss, fixtures=None):
    """Check ``d_fn(scores_real, scores_fake)`` and ``g_fn(scores_fake)`` (LSGAN losses) against the fixture."""
    f = load_fixtures() if fixtures is None else fixtures
    return _check_loss_pair(
        "test_lsgan_loss", d_fn, g_fn, (f["scores_real"], f["scores_fake"]), f["scores_fake"],
        f["d_loss_lsgan_true"], f["g_loss_lsgan_true"],
        "it is 0.5 * mean((scores_real - 1)^2) + 0.5 * mean(scores_fake^2), on raw scores (no sigmoid)",
        "it is 0.5 * mean((scores_fake - 1)^2)")


# These are checks to call, not pytest tests: keep pytest from collecting them if they are imported into a
# test module (``from gan_lab.checks import test_gan_loss``).
for _f in (test_sample_noise, test_leaky_relu, test_discriminator, test_generator, test_dc_discriminator,
           test_dc_generator, test_gan_loss, test_lsgan_loss):
    _f.__test__ = False
del _f
