"""Latent-space exploration: walk between noise vectors and watch the generator's images change.

Interpolating linearly between two noise vectors drawn from a high-dimensional distribution passes through
points of unusually small norm (the middle of the segment is closer to the origin than typical samples), so
the middle images can look washed out. Spherical interpolation ("slerp", White 2016, *Sampling Generative
Networks*, arXiv:1609.04468) follows the great circle between the two directions instead, here with the
magnitude interpolated linearly, so every point has a typical norm.

    z = interpolate(generator, n_rows=8, steps=10)        # (8, 10, 28, 28) in [0, 1] ((8, 10, H, W, 3) in colour)
    save_interpolation(z, "walk.png")                       # one row per interpolation
    save_interpolation(z, "walk.gif")                       # animation, forward then back

Command line: ``gan-lab interpolate RUN_DIR --out walk.gif`` (:func:`run_interpolate_command`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gan_lab.data import to_unit_range
from gan_lab.plots import image_grid, save_grid
from gan_lab.runs import class_index, load_generator
from gan_lab.sampling import generate, is_conditional, noise_dim_of, num_classes_of

PARALLEL_TOL = 1e-6
OUTPUTS = ("tanh", "sigmoid")
EXTENSIONS = (".png", ".gif")


# --------------------------------------------------------------------------------------------------
# interpolation of vectors
# --------------------------------------------------------------------------------------------------

def _prepare(z0, z1, t):
    """float64 copies of z0, z1 (broadcast to a common shape (D,) or (N, D)) and t as a 1-D array."""
    a = np.asarray(z0, dtype=np.float64)
    b = np.asarray(z1, dtype=np.float64)
    for name, v in (("z0", a), ("z1", b)):
        if v.ndim not in (1, 2):
            raise ValueError(f"{name} has shape {v.shape}: expected a vector (D,) or a batch of vectors (N, D)")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"z0 has {a.shape[-1]} dimensions but z1 has {b.shape[-1]}: both must have the same "
                         "size D")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"z0 {a.shape} and z1 {b.shape} are batches of different sizes: pass the same number "
                         "of vectors N (or one vector (D,) for either)") from None
    tt = np.asarray(t, dtype=np.float64)
    if tt.ndim > 1:
        raise ValueError(f"t has shape {tt.shape}: expected a number or a 1-D array of positions")
    tt = np.atleast_1d(tt)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(np.isfinite(tt))):
        raise ValueError("z0, z1 and t must be finite (found NaN or inf)")
    return a, b, tt


def _lerp64(a, b, tt):
    w = tt[:, None]                                   # (T, 1)
    # (1 - t) z0 + t z1: exactly z0 at t=0 and exactly z1 at t=1 (unlike z0 + t (z1 - z0))
    return (1.0 - w) * a[..., None, :] + w * b[..., None, :]


def lerp(z0, z1, t) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    ``z0``, ``z1``: (D,) or (N, D) (a single vector is broadcast against a batch); ``t``: a number or a 1-D
    array of positions (usually in [0, 1]). Returns float32 (len(t), D) for vectors, (N, len(t), D) for batches.
    """
    a, b, tt = _prepare(z0, z1, t)
    return _lerp64(a, b, tt).astype(np.float32)


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical interpolation: the direction moves along the great circle from ``z0`` to ``z1`` at constant
    angular speed and the length goes linearly from ``|z0|`` to ``|z1|``.

    Pairs that are parallel or anti-parallel (``1 - |cos angle| < 1e-6``), or where either vector is zero, have
    no unique great circle: those fall back to :func:`lerp`. Shapes as in :func:`lerp`; float32 out.
    """
    a, b, tt = _prepare(z0, z1, t)
    linear = _lerp64(a, b, tt)
    na = np.linalg.norm(a, axis=-1, keepdims=True)    # (..., 1)
    nb = np.linalg.norm(b, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ua = a / na
        ub = b / nb
        cos = np.clip(np.sum(ua * ub, axis=-1, keepdims=True), -1.0, 1.0)
        degenerate = (na == 0) | (nb == 0) | (1.0 - np.abs(cos) < PARALLEL_TOL)   # (..., 1)
        omega = np.arccos(cos)
        sin_omega = np.sin(omega)
        w = tt[:, None]                               # (T, 1)
        # (..., T, 1) coefficients on the unit directions
        c0 = np.sin((1.0 - w) * omega[..., None, :]) / sin_omega[..., None, :]
        c1 = np.sin(w * omega[..., None, :]) / sin_omega[..., None, :]
        length = (1.0 - w) * na[..., None, :] + w * nb[..., None, :]
        spherical = length * (c0 * ua[..., None, :] + c1 * ub[..., None, :])
    out = np.where(degenerate[..., None, :], linear, spherical)
    # the endpoints are the inputs, bit for bit (|z| * z/|z| can be off by an ulp)
    out = np.where((tt == 0.0)[:, None], a[..., None, :], out)
    out = np.where((tt == 1.0)[:, None], b[..., None, :], out)
    return out.astype(np.float32)


METHODS = {"slerp": slerp, "linear": lerp, "lerp": lerp}


def _method(method: str):
    if method not in METHODS:
        raise ValueError(f"unknown interpolation method {method!r}: expected 'slerp' (spherical) or 'linear'; "
                         "pass --method slerp or --method linear")
    return METHODS[method]


def interpolation_path(z_points, steps_per_segment: int, method: str = "slerp", closed: bool = False) -> np.ndarray:
    """A path through noise vectors ``z_points`` (K, D), K >= 2: float32 (M, D).

    Each segment ``z_points[k] -> z_points[k+1]`` contributes ``steps_per_segment`` points starting at
    ``z_points[k]`` (its end is the start of the next segment). An open path then ends with ``z_points[-1]``:
    M = (K - 1) * steps_per_segment + 1. With ``closed=True`` a last segment goes back to ``z_points[0]``, which
    is not repeated, so the path loops seamlessly: M = K * steps_per_segment.
    """
    fn = _method(method)
    z = np.asarray(z_points, dtype=np.float32)
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z_points has shape {z.shape}: expected at least two noise vectors, shape (K >= 2, D)")
    if int(steps_per_segment) != steps_per_segment or steps_per_segment < 1:
        raise ValueError(f"steps_per_segment = {steps_per_segment} is invalid: expected an integer >= 1")
    steps_per_segment = int(steps_per_segment)
    starts = z
    ends = np.roll(z, -1, axis=0) if closed else z[1:]
    starts = starts[:len(ends)]
    t = np.arange(steps_per_segment, dtype=np.float64) / steps_per_segment
    path = fn(starts, ends, t).reshape(-1, z.shape[1])        # segment by segment
    if not closed:
        path = np.concatenate([path, z[-1:]], axis=0)
    return path.astype(np.float32)


# --------------------------------------------------------------------------------------------------
# interpolation through a generator
# --------------------------------------------------------------------------------------------------

def row_endpoints(n_rows: int, noise_dim: int, seed: int | None = 0):
    """The noise vectors each row of :func:`interpolate` starts from and ends at: two float32 (n_rows, D)
    arrays, uniform in [-1, 1] (the project's noise convention)."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1.0, 1.0, size=(2, n_rows, noise_dim)).astype(np.float32)
    return z[0], z[1]


def _row_labels(label, n_rows: int, num_classes: int) -> np.ndarray:
    if label is None:
        return np.arange(n_rows) % num_classes
    if np.ndim(label) == 0:
        value = label
        if isinstance(value, (bool, np.bool_)) or int(value) != value or int(value) < 0:
            raise ValueError(f"label = {label!r} is invalid: expected a class index (an integer >= 0)")
        return np.full(n_rows, int(value))
    labels = np.asarray(label)
    if labels.shape != (n_rows,) or not np.all(labels == np.round(labels)) or np.any(labels < 0):
        raise ValueError(f"label has shape {labels.shape}: expected one integer >= 0, or one per row ({n_rows})")
    return labels.astype(np.int64)


def _validate_counts(n_rows, steps):
    if isinstance(n_rows, bool) or int(n_rows) != n_rows or n_rows < 1:
        raise ValueError(f"rows = {n_rows} is invalid: expected at least 1 interpolation row (e.g. --rows 8)")
    if isinstance(steps, bool) or int(steps) != steps or steps < 2:
        raise ValueError(f"steps = {steps} is invalid: an interpolation needs at least 2 steps (its two "
                         "endpoints); pass e.g. --steps 10")


def interpolate(generator, n_rows: int = 8, steps: int = 10, method: str = "slerp", seed: int | None = 0,
                output: str = "tanh", noise_dim: int | None = None, label=None) -> np.ndarray:
    """Images along ``n_rows`` interpolations of ``steps`` points each: float32 (n_rows, steps, H, W) in [0, 1]
    ((n_rows, steps, H, W, 3) for a colour generator; (…, 28, 28) for the MNIST recipes).

    Row ``i`` goes from ``row_endpoints(n_rows, D, seed)[0][i]`` (first column) to ``...[1][i]`` (last column).

    Args:
        generator: a Keras model with one input (noise (N, D)) or two (noise (N, D) and an integer class label
            (N,) or (N, 1)), or any callable ``noise -> images`` (then ``noise_dim`` is required).
        method: ``"slerp"`` (spherical, default) or ``"linear"``.
        output: the generator's output activation, ``"tanh"`` ([-1, 1]) or ``"sigmoid"`` ([0, 1]).
        noise_dim: the noise size D (default: read from the generator's input).
        label: conditional generators only: a class for every row, one per row, or None (row i uses class i
            modulo the generator's class count).
            The label stays fixed along a row.
    """
    fn = _method(method)
    _validate_counts(n_rows, steps)
    n_rows, steps = int(n_rows), int(steps)
    if output not in OUTPUTS:
        raise ValueError(f"output = {output!r} is invalid: expected 'tanh' or 'sigmoid' (the generator's last "
                         "activation, preset.output)")
    conditional = is_conditional(generator)
    if hasattr(generator, "inputs"):
        model_dim = noise_dim_of(generator)
        if noise_dim is not None and int(noise_dim) != model_dim:
            raise ValueError(f"noise_dim = {noise_dim} but the generator takes noise of size {model_dim}: "
                             "leave noise_dim out or pass the generator's size")
        noise_dim = model_dim
    if noise_dim is None:
        raise ValueError("noise_dim is unknown: pass noise_dim= (the generator has no Keras input to read it from)")
    noise_dim = int(noise_dim)
    if label is not None and not conditional:
        raise ValueError("label was given but the generator is unconditional (one noise input): drop the label")

    z_start, z_end = row_endpoints(n_rows, noise_dim, seed)
    z = fn(z_start, z_end, np.linspace(0.0, 1.0, steps)).reshape(n_rows * steps, noise_dim)
    if conditional:  # fixed along each row
        labels = np.repeat(_row_labels(label, n_rows, num_classes_of(generator)), steps)
    else:
        labels = None
    images = to_unit_range(generate(generator, z, labels), output)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(f"the generator returned images of shape {images.shape[1:]} for {len(z)} noise vectors: "
                         "expected square images, (N, 784), (N, H, W), (N, H, W, 1) or (N, H, W, 3)")
    return images.reshape(n_rows, steps, *images.shape[1:])


# --------------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------------

def _as_rows(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 784:
        x = x.reshape(*x.shape[:2], 28, 28)
    if x.ndim == 5 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (4, 5) or (x.ndim == 5 and x.shape[-1] != 3) or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"images have shape {x.shape}: expected (rows, steps, 28, 28) as interpolate() returns "
                         "for the MNIST recipes, or (rows, steps, H, W, 3) for colour")
    return x


def _check_extension(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(f"output file {str(path)!r} has extension {suffix or '(none)'!r}: expected .png (a grid, "
                         "one row per interpolation) or .gif (an animation); e.g. --out walk.png")
    return suffix


def save_interpolation(images, path, scale: int = 2, duration_ms: int = 120) -> Path:
    """Write interpolation images (rows, steps, H, W) or (rows, steps, H, W, 3) in [0, 1] to ``path``; returns
    the path.

    ``.png``: one grid, a row per interpolation and a column per step. ``.gif``: a looping animation that goes
    through the steps forward then backward (2 * steps - 2 frames, the ends not repeated); each frame shows
    every row's image at that step, side by side.
    """


    suffix = _check_extension(path)
    x = _as_rows(images)
    rows, steps = x.shape[:2]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        return save_grid(x.reshape(rows * steps, *x.shape[2:]), path, ncols=steps, scale=scale)
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = [Image.fromarray(image_grid(x[:, s], ncols=rows, scale=scale)) for s in order]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path


# --------------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------------

def run_interpolate_command(args) -> int:
    """Run ``interpolate`` for parsed ``args`` (``run_dir``, ``out``, ``rows``, ``steps``, ``method``, ``seed``,
    ``label``): write the picture and print what was written."""
    out = Path(args.out)
    rows, steps, method, seed, label = args.rows, args.steps, args.method, args.seed, args.label
    # check everything cheap before loading the model
    _check_extension(out)
    _validate_counts(rows, steps)
    _method(method)
    preset, generator = load_generator(args.run_dir)
    if label is not None and not is_conditional(generator):
        raise ValueError(f"--label {label}: the generator of {args.run_dir} is unconditional (noise input only); "
                         "drop --label")
    if label is not None:
        label = class_index(preset, num_classes_of(generator), label)
    images = interpolate(generator, n_rows=rows, steps=steps, method=method, seed=seed, output=preset.output,
                         noise_dim=preset.noise_dim, label=label)
    save_interpolation(images, out)
    kind = f"{2 * steps - 2}-frame animation" if out.suffix.lower() == ".gif" else "grid"
    print(f"wrote {out}: {rows} {method} interpolation(s) x {steps} steps ({kind}) from {args.run_dir}")
    return 0
