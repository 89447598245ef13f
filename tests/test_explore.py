"""Latent-space interpolation: lerp/slerp maths, interpolate() through a generator, PNG/GIF output, CLI."""
import argparse

import numpy as np
import pytest

from gan_lab.cli import build_parser
from gan_lab.explore import (interpolate, interpolation_path, lerp, row_endpoints, run_interpolate_command,
                             save_interpolation, slerp)
from gan_lab.plots import image_grid

D = 8


# --------------------------------------------------------------------------------------------------
# lerp / slerp
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    return rng.uniform(-1, 1, (5, 16)).astype(np.float32), rng.uniform(-1, 1, (5, 16)).astype(np.float32)


def test_lerp_endpoints_exact_and_midpoint_is_mean(pair):
    z0, z1 = pair
    out = lerp(z0, z1, [0.0, 0.5, 1.0])
    assert out.shape == (5, 3, 16) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], z0)
    np.testing.assert_array_equal(out[:, 2], z1)
    np.testing.assert_allclose(out[:, 1], (z0 + z1) / 2, rtol=0, atol=1e-7)


def test_shapes_vector_batch_and_scalar_t(pair):
    z0, z1 = pair
    assert lerp(z0[0], z1[0], np.linspace(0, 1, 7)).shape == (7, 16)
    assert slerp(z0[0], z1[0], 0.3).shape == (1, 16)
    assert slerp(z0, z1, np.linspace(0, 1, 4)).shape == (5, 4, 16)
    assert slerp(z0[0], z1, [0.0, 1.0]).shape == (5, 2, 16)          # one vector broadcast against a batch
    assert slerp(z0, z1, [0.5]).dtype == np.float32
    with pytest.raises(ValueError, match="same size"):
        lerp(z0, z1[:, :8], 0.5)
    with pytest.raises(ValueError, match="different sizes"):
        slerp(z0, z1[:3], 0.5)
    with pytest.raises(ValueError, match="1-D"):
        slerp(z0, z1, np.zeros((2, 2)))


def test_slerp_endpoints_exact(pair):
    z0, z1 = pair
    out = slerp(z0, z1, np.linspace(0, 1, 9))
    np.testing.assert_array_equal(out[:, 0], z0)
    np.testing.assert_array_equal(out[:, -1], z1)


def test_slerp_of_unit_vectors_stays_on_the_sphere(pair):
    z0, z1 = (z / np.linalg.norm(z, axis=1, keepdims=True) for z in pair)
    out = slerp(z0, z1, np.linspace(0, 1, 21))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-6)
    # the linear path, by contrast, dips inside the sphere (why slerp exists)
    assert np.linalg.norm(lerp(z0, z1, 0.5), axis=-1).max() < 0.99


def test_slerp_magnitude_interpolates_linearly(pair):
    z0, z1 = pair
    z1 = 3.0 * z1
    t = np.linspace(0, 1, 11)
    out = slerp(z0, z1, t)
    expected = (1 - t) * np.linalg.norm(z0, axis=1, keepdims=True) + t * np.linalg.norm(z1, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), expected, rtol=1e-5)


def test_slerp_orthogonal_unit_vectors_midpoint():
    z0 = np.zeros(D, np.float32)
    z1 = np.zeros(D, np.float32)
    z0[0], z1[3] = 1.0, 1.0
    mid = slerp(z0, z1, 0.5)[0]
    np.testing.assert_allclose(mid, (z0 + z1) / np.sqrt(2.0), atol=1e-7)
    # constant angular speed: at t = 1/3 the angle to z0 is 30 degrees
    p = slerp(z0, z1, 1 / 3)[0]
    np.testing.assert_allclose([p[0], p[3]], [np.cos(np.pi / 6), np.sin(np.pi / 6)], atol=1e-6)


@pytest.mark.parametrize("factor", [2.0, -1.0, 1.0])
def test_slerp_parallel_falls_back_to_lerp(factor):
    z0 = np.linspace(-1, 1, D).astype(np.float32)
    z1 = factor * z0
    t = np.linspace(0, 1, 5)
    out = slerp(z0, z1, t)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, lerp(z0, z1, t), atol=1e-6)
    # a zero vector has no direction either
    zero = slerp(np.zeros(D), z0, t)
    assert np.all(np.isfinite(zero))
    np.testing.assert_allclose(zero, lerp(np.zeros(D), z0, t), atol=1e-6)


def test_slerp_nearly_parallel_within_tolerance_has_no_nan():
    z0 = np.ones(D, np.float32)
    z1 = z0.copy()
    z1[0] += 1e-7                                   # cos angle = 1 - O(1e-15): degenerate
    out = slerp(z0, z1, np.linspace(0, 1, 5))
    assert np.all(np.isfinite(out))


def test_interpolation_path_open_and_closed(pair):
    pts = pair[0][:3]
    path = interpolation_path(pts, 4, method="linear")
    assert path.shape == (2 * 4 + 1, 16)
    np.testing.assert_array_equal(path[[0, 4, 8]], pts)
    np.testing.assert_allclose(path[2], (pts[0] + pts[1]) / 2, atol=1e-7)
    loop = interpolation_path(pts, 4, method="slerp", closed=True)
    assert loop.shape == (3 * 4, 16)
    np.testing.assert_array_equal(loop[[0, 4, 8]], pts)
    np.testing.assert_allclose(loop[-1], slerp(pts[2], pts[0], 0.75)[0], atol=1e-6)  # heading back to the start
    with pytest.raises(ValueError, match="at least two"):
        interpolation_path(pts[:1], 4)
    with pytest.raises(ValueError, match="steps_per_segment"):
        interpolation_path(pts, 0)
    with pytest.raises(ValueError, match="unknown interpolation method"):
        interpolation_path(pts, 4, method="cubic")


# --------------------------------------------------------------------------------------------------
# through a generator
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_generator():
    import keras

    keras.utils.set_random_seed(0)
    z = keras.Input((D,), name="noise")
    h = keras.layers.Dense(32, activation="relu")(z)
    img = keras.layers.Dense(784, activation="tanh")(h)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(img))


@pytest.fixture(scope="module")
def conditional_generator():
    import keras

    keras.utils.set_random_seed(0)
    z = keras.Input((D,), name="noise")
    y = keras.Input((1,), dtype="int32", name="label")
    e = keras.layers.Flatten()(keras.layers.Embedding(10, 8)(y))
    h = keras.layers.Dense(32, activation="relu")(keras.layers.Concatenate()([z, e * 5.0]))
    return keras.Model([z, y], keras.layers.Dense(784, activation="sigmoid")(h))


def _gen(model, *inputs):
    return np.asarray(model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)).reshape(-1, 28, 28)


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolate_shape_range_endpoints_and_smoothness(tiny_generator, method):
    images = interpolate(tiny_generator, n_rows=3, steps=6, method=method, seed=4)
    assert images.shape == (3, 6, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.std() > 0.01
    z_start, z_end = row_endpoints(3, D, seed=4)
    np.testing.assert_allclose(images[:, 0], (_gen(tiny_generator, z_start) + 1) / 2, atol=1e-5)
    np.testing.assert_allclose(images[:, -1], (_gen(tiny_generator, z_end) + 1) / 2, atol=1e-5)
    neighbours = np.abs(np.diff(images, axis=1)).mean(axis=(2, 3))          # (rows, steps - 1)
    ends = np.abs(images[:, -1] - images[:, 0]).mean(axis=(1, 2))           # (rows,)
    assert np.all(neighbours < ends[:, None])
    # deterministic for a seed, different for another
    np.testing.assert_array_equal(images, interpolate(tiny_generator, 3, 6, method=method, seed=4))
    assert not np.allclose(images, interpolate(tiny_generator, 3, 6, method=method, seed=5))


def test_interpolate_sigmoid_output_and_plain_callable(tiny_generator):
    sig = interpolate(tiny_generator, n_rows=2, steps=3, output="sigmoid")
    z_start, _ = row_endpoints(2, D, seed=0)
    np.testing.assert_allclose(sig[:, 0], np.clip(_gen(tiny_generator, z_start), 0, 1), atol=1e-5)
    fn = lambda z: np.asarray(tiny_generator(z, training=False))  # noqa: E731
    np.testing.assert_allclose(interpolate(fn, n_rows=2, steps=3, noise_dim=D),
                               interpolate(tiny_generator, n_rows=2, steps=3), atol=1e-6)


def test_interpolate_conditional_keeps_label_fixed(conditional_generator):
    images = interpolate(conditional_generator, n_rows=4, steps=5, output="sigmoid", label=7)
    assert images.shape == (4, 5, 28, 28)
    z_start, z_end = row_endpoints(4, D, seed=0)
    sevens = np.full((4, 1), 7, np.int32)
    np.testing.assert_allclose(images[:, 0], _gen(conditional_generator, z_start, sevens), atol=1e-5)
    np.testing.assert_allclose(images[:, -1], _gen(conditional_generator, z_end, sevens), atol=1e-5)
    # label=None: row i uses class i % 10
    default = interpolate(conditional_generator, n_rows=4, steps=5, output="sigmoid")
    per_row = np.arange(4, dtype=np.int32)[:, None]
    np.testing.assert_allclose(default[:, -1], _gen(conditional_generator, z_end, per_row), atol=1e-5)
    # every frame of row i: slerp noise at that step, label i
    z_path = slerp(z_start, z_end, np.linspace(0, 1, 5)).reshape(20, D)
    labels = np.repeat(np.arange(4, dtype=np.int32), 5)[:, None]
    np.testing.assert_allclose(default.reshape(20, 28, 28), _gen(conditional_generator, z_path, labels), atol=1e-5)
    assert not np.allclose(default, images)


def test_interpolate_bad_input(tiny_generator, conditional_generator):
    with pytest.raises(ValueError, match="at least 2 steps"):
        interpolate(tiny_generator, steps=1)
    with pytest.raises(ValueError, match="rows = 0"):
        interpolate(tiny_generator, n_rows=0)
    with pytest.raises(ValueError, match="unknown interpolation method 'cubic'.*--method"):
        interpolate(tiny_generator, method="cubic")
    with pytest.raises(ValueError, match="output"):
        interpolate(tiny_generator, output="relu")
    with pytest.raises(ValueError, match="noise of size 8"):
        interpolate(tiny_generator, noise_dim=16)
    with pytest.raises(ValueError, match="unconditional"):
        interpolate(tiny_generator, label=3)
    with pytest.raises(ValueError, match="label"):
        interpolate(conditional_generator, label=-1)
    with pytest.raises(ValueError, match="noise_dim"):
        interpolate(lambda z: z, n_rows=1, steps=2)


# --------------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def images(tiny_generator):
    return interpolate(tiny_generator, n_rows=3, steps=5)


def test_png_grid_has_a_row_per_interpolation(images, tmp_path):
    from PIL import Image

    path = save_interpolation(images, tmp_path / "sub" / "walk.png")
    pic = np.asarray(Image.open(path))
    pad, scale = 2, 2
    assert pic.shape == ((3 * (28 + pad) + pad) * scale, (5 * (28 + pad) + pad) * scale)
    np.testing.assert_array_equal(pic, image_grid(images.reshape(15, 28, 28), ncols=5, scale=scale))
    # tile (row 1, step 4) is images[1, 4]
    top, left = (pad + 1 * (28 + pad)) * scale, (pad + 4 * (28 + pad)) * scale
    np.testing.assert_array_equal(pic[top:top + 56:2, left:left + 56:2],
                                  (images[1, 4] * 255 + 0.5).astype(np.uint8))


def test_gif_goes_forward_then_back(images, tmp_path):
    from PIL import Image, ImageSequence

    path = save_interpolation(images, tmp_path / "walk.gif")
    with Image.open(path) as gif:
        frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
        loop = gif.info.get("loop")
    assert len(frames) == 2 * 5 - 2 and loop == 0
    width = (3 * (28 + 2) + 2) * 2                   # the 3 rows side by side
    assert frames[0].shape == ((28 + 2 + 2) * 2, width)
    order = [0, 1, 2, 3, 4, 3, 2, 1]
    for frame, s in zip(frames, order):
        np.testing.assert_array_equal(frame, image_grid(images[:, s], ncols=3, scale=2))


def test_save_bad_input(images, tmp_path):
    with pytest.raises(ValueError, match=r"expected \.png .*or \.gif"):
        save_interpolation(images, tmp_path / "walk.jpg")
    with pytest.raises(ValueError, match="extension '\\(none\\)'"):
        save_interpolation(images, tmp_path / "walk")
    with pytest.raises(ValueError, match="rows, steps, 28, 28"):
        save_interpolation(images[0], tmp_path / "walk.png")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------------
# command line, on a real (3-step) run folder
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from gan_lab.presets import get_preset
    from gan_lab.train import train

    out = tmp_path_factory.mktemp("explore") / "run"
    images = np.random.default_rng(0).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    train(get_preset("fast_unconditional", batch_size=32), out, max_steps=3, images=images, verbose=0, log=None)
    return out


def _parse(argv):
    return build_parser().parse_args(argv)


def test_parser_defaults():
    args = _parse(["interpolate", "RUN", "--out", "x.png"])
    assert (args.run_dir, args.out, args.rows, args.steps, args.method, args.seed, args.label) == \
        ("RUN", "x.png", 8, 10, "slerp", 0, None)
    assert args.handler == "gan_lab.explore:run_interpolate_command"


def test_cli_end_to_end(run_dir, tmp_path, capsys):
    from PIL import Image

    from gan_lab.runs import Run, load_generator

    preset = Run(run_dir).read_preset()
    out = tmp_path / "walk.png"
    args = _parse(["interpolate", str(run_dir), "--out", str(out), "--rows", "2", "--steps", "4",
                   "--method", "linear", "--seed", "3"])
    assert run_interpolate_command(args) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert Image.open(out).size == ((4 * 30 + 2) * 2, (2 * 30 + 2) * 2)
    # the grid holds exactly what interpolate() gives for that run's generator
    _, generator = load_generator(run_dir)
    expected = interpolate(generator, 2, 4, method="linear", seed=3, output=preset.output)
    np.testing.assert_array_equal(np.asarray(Image.open(out)),
                                  image_grid(expected.reshape(8, 28, 28), ncols=4, scale=2))

    gif = tmp_path / "walk.gif"
    args = argparse.Namespace(run_dir=str(run_dir), out=str(gif), rows=3, steps=5, method="slerp", seed=0,
                              label=None)
    assert run_interpolate_command(args) == 0
    assert Image.open(gif).n_frames == 8
    assert "8-frame animation" in capsys.readouterr().out


@pytest.mark.parametrize("change, message", [
    (dict(steps=1), "at least 2 steps.*--steps"),
    (dict(rows=0), "rows = 0.*--rows"),
    (dict(method="cubic"), "unknown interpolation method.*slerp.*linear"),
    (dict(out="walk.jpg"), r"expected \.png.*\.gif.*--out"),
    (dict(label=3), "unconditional.*drop --label"),
    (dict(run_dir="no/such/run"), "does not exist"),
])
def test_cli_bad_input(run_dir, tmp_path, change, message):
    values = dict(run_dir=str(run_dir), out=str(tmp_path / "walk.png"), rows=2, steps=3, method="slerp", seed=0,
                  label=None)
    values.update(change)
    with pytest.raises(ValueError, match=message):
        run_interpolate_command(argparse.Namespace(**values))
    assert not (tmp_path / "walk.png").exists()
