"""Image shape as a property of the data: DCGAN builders at any shape, FLOPs, colour presets, DiffAugment."""
import os
import subprocess
import sys

import numpy as np
import pytest
import keras
import tensorflow as tf
from keras import layers

from gan_lab.augment import diff_augment, make_augment, parse_policy
from gan_lab.cli import main
from gan_lab.flops import forward_flops, preset_flops
from gan_lab.losses import get_loss
from gan_lab.models import (CONDITIONAL, OPTIONS, MinibatchStd, build_pair, dcgan_discriminator, dcgan_generator,
                            dcgan_layout, keras_faces_generator, preset_pair, with_code_head,
                            with_recon_decoders)
from gan_lab.presets import FIELD_TYPES, PRESETS, get_preset
from gan_lab.runs import sample

COLOUR_PRESETS = ("dcgan64", "keras_faces", "dcgan64_half", "fast64", "fast32", "cgan32", "cgan64")


@pytest.mark.parametrize("size, layout", [(64, (4, 4)), (32, (4, 3)), (28, (7, 2)), (48, (6, 3)), (128, (4, 5))])
def test_dcgan_layout(size, layout):
    assert dcgan_layout(size) == layout


@pytest.mark.parametrize("size", [7, 30 + 1, 6, True])
def test_dcgan_layout_refuses_sizes_it_cannot_halve(size):
    with pytest.raises(ValueError, match="image_size"):
        dcgan_layout(size)


def test_dcgan64_is_the_pytorch_tutorial_layer_list():
    g, d = dcgan_generator(100, (64, 64, 3), 64), dcgan_discriminator((64, 64, 3), 64)
    convs = lambda m, kind: [(l.filters, l.kernel_size, l.strides) for l in m.layers if type(l) is kind]
    assert convs(g, layers.Conv2DTranspose) == [(256, (4, 4), (2, 2)), (128, (4, 4), (2, 2)), (64, (4, 4), (2, 2)),
                                                 (3, (4, 4), (2, 2))]
    assert g.layers[2].target_shape == (4, 4, 512)  # ngf*8 at 4×4
    assert convs(d, layers.Conv2D) == [(64, (4, 4), (2, 2)), (128, (4, 4), (2, 2)), (256, (4, 4), (2, 2)),
                                       (512, (4, 4), (2, 2))]
    assert sum(isinstance(l, layers.BatchNormalization) for l in d.layers) == 3  # none after the first conv
    assert g.output.shape[1:] == (64, 64, 3) and d.output.shape[1:] == (1,)
    assert g.layers[-1].get_config()["activation"] == "tanh"


@pytest.mark.parametrize("shape", [(32, 32, 3), (32, 32, 1), (64, 64, 4), (16, 16, 2)])
def test_any_channel_count_and_size(shape):
    g, d = build_pair("dcgan_any", 16, width=8, image_shape=shape)
    x = g(np.zeros((2, 16), np.float32))
    assert x.shape == (2, *shape) and d(x).shape == (2, 1)


def test_28x28_recipes_keep_their_layers_and_refuse_other_shapes():
    g, _ = build_pair("small", 64, image_shape=(28, 28, 1))
    assert g.count_params() == build_pair("small", 64)[0].count_params()
    with pytest.raises(ValueError, match="draws 28×28 grayscale.*dcgan64"):
        build_pair("small", 64, image_shape=(64, 64, 3))


def test_flops_are_counted_from_the_layers():
    # Dense 4→(4·4·16): 2·4·256; ConvT 16→8 at 4×4 in, k4: 2·16·16·16·8; ConvT 8→3 at 8×8 in: 2·64·16·8·3
    g = dcgan_generator(4, (16, 16, 3), width=8)
    assert forward_flops(g) == 2 * 4 * 256 + 2 * 16 * 16 * 16 * 8 + 2 * 64 * 16 * 8 * 3
    # Conv 3→8 at 8×8 out, k4: 2·64·16·3·8; Conv 8→16 at 4×4 out: 2·16·16·8·16; Dense 256→1
    d = dcgan_discriminator((16, 16, 3), width=8)
    assert forward_flops(d) == 2 * 64 * 16 * 3 * 8 + 2 * 16 * 16 * 8 * 16 + 2 * 256
    faces = keras_faces_generator(128, (64, 64, 3))
    assert 4.5e9 < forward_flops(faces) < 5.5e9  # about 5 GFLOP a generated image: not a CPU recipe


def test_colour_presets_state_their_flops_and_validate():
    flops = {name: preset_flops(PRESETS[name]) for name in COLOUR_PRESETS}
    assert flops["keras_faces"]["generator"] > 20 * flops["fast64"]["generator"]
    assert flops["fast32"]["generator"] < flops["fast64"]["generator"] < flops["dcgan64"]["generator"]
    # the same layers (spectral norm: a power step per update), but the logit reads the minibatch std channel too
    # (4×4 more inputs to D's Dense, 2 FLOPs each), and the half-size scale adds a width-32 DCGAN discriminator of
    # 32×32 pictures with its own minibatch std: Conv 3→32 to 16×16, 32→64 to 8×8, 64→128 to 4×4 (k 4), Dense.
    # fast64's skip generator: the same layers but the last ConvT 32→3 (32×32 in, k 4), plus RGB 1×1 convs at 8×8
    # (128→3), 16×16 (64→3), 32×32 (32→3) and a 3×3 conv 32→3 at 64×64 (upsampling and sums cost no FLOPs here)
    skip = -2 * 1024 * 16 * 32 * 3 + 2 * (64 * 128 + 256 * 64 + 1024 * 32) * 3 + 2 * 4096 * 9 * 32 * 3
    assert flops["fast64"]["generator"] == flops["dcgan64_half"]["generator"] + skip
    half_scale = (2 * 16 * 16 * 16 * 3 * 32 + 2 * 8 * 8 * 16 * 32 * 64 + 2 * 4 * 4 * 16 * 64 * 128
                  + 2 * 4 * 4 * 129)
    assert flops["fast64"]["discriminator"] == flops["dcgan64_half"]["discriminator"] + 2 * 4 * 4 + half_scale
    # cgan64: dcgan64_half's layers with the label's 32-d embedding beside the noise (32 more inputs to G's first
    # Dense, to 4·4·256) and D's minibatch std channel (4×4 more inputs to its logit)
    assert flops["cgan64"]["generator"] == flops["dcgan64_half"]["generator"] + 2 * 32 * 4 * 4 * 256
    assert flops["cgan64"]["discriminator"] == flops["dcgan64_half"]["discriminator"] + 2 * 4 * 4
    for name in COLOUR_PRESETS:
        p = PRESETS[name].validate()
        assert p.channels == 3 and p.image_size in (32, 64) and p.dataset == ("cifar10" if name == "cgan32" else "folder")
    assert PRESETS["cgan64"].conditional and PRESETS["cgan64"].image_size == 64
    d = PRESETS["dcgan64"]
    assert (d.batch_size, d.g_lr, d.d_lr, d.g_beta1, d.noise_dim) == (128, 2e-4, 2e-4, 0.5, 100)


@pytest.mark.parametrize("overrides, message", [
    (dict(image_size=63), "image_size = 63 is invalid: expected an even number"),
    (dict(channels=2), "channels = 2 is invalid: expected 1 .* or 3"),
    (dict(diff_augment="color,zoom"), "diff_augment = 'color,zoom' is invalid.*'zoom'"),
])
def test_shape_and_augment_fields_are_validated(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_preset("fast64", **overrides).validate()
    with pytest.raises(ValueError, match="architecture 'small_conditional' draws 28×28"):
        get_preset("fast", image_size=64, channels=3).validate()


def test_minibatch_std_appends_the_batch_spread_as_one_channel():
    x = np.random.default_rng(0).normal(size=(6, 4, 4, 5)).astype(np.float32)
    out = np.asarray(MinibatchStd()(x))
    spread = np.mean(np.sqrt(x.var(axis=0) + 1e-8))  # ProGAN §3: std over the batch, averaged over everything
    assert out.shape == (6, 4, 4, 6)
    np.testing.assert_array_equal(out[..., :5], x)
    np.testing.assert_allclose(out[..., 5], spread, rtol=1e-5)
    same = np.asarray(MinibatchStd()(np.repeat(x[:1], 6, axis=0)))  # no variety: s is sqrt(1e-8)
    np.testing.assert_allclose(same[..., 5], 1e-4, rtol=1e-3)


def _assert_reloads_the_same(model, inputs, path):
    """``model`` saved to ``path`` and loaded back gives the same outputs on ``inputs``."""
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(inputs, training=False), model(inputs, training=False),
                               rtol=1e-5, atol=1e-6)


def test_minibatch_std_field_builds_it_into_the_discriminator_and_it_survives_saving(tmp_path):
    preset = get_preset("fast64", minibatch_std=True, multiscale_d=False, precision="float32").validate()
    _, d = preset_pair(preset)
    assert [type(l) for l in d.layers].count(MinibatchStd) == 1 and d.output_shape == (None, 1)
    plain = preset_pair(get_preset("fast64", minibatch_std=False, multiscale_d=False, precision="float32"))[1]
    assert d.count_params() == plain.count_params() + 4 * 4  # the logit's Dense reads one more 4×4 channel
    x = np.random.default_rng(1).uniform(-1, 1, (8, 64, 64, 3)).astype(np.float32)
    _assert_reloads_the_same(d, x, tmp_path / "d.keras")
    _, cd = preset_pair(get_preset("cgan32", minibatch_std=True, num_classes=10).validate())
    assert MinibatchStd in [type(l) for l in cd.layers]
    with pytest.raises(ValueError, match=r"minibatch_std = True is invalid: expected false with architecture "
                                         r"'small'.*dcgan_any.*--minibatch-std"):
        get_preset("fast_unconditional_plain", minibatch_std=True).validate()


def test_the_multiscale_discriminator_judges_the_half_size_picture_with_a_second_logit(tmp_path):
    d = dcgan_discriminator((16, 16, 3), width=4, multiscale=True)
    assert d.output_shape == (None, 2)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    # the same 2×2 block means, other detail: add ±e in a checkerboard inside every block
    e = 0.3 * np.array([[1, -1], [-1, 1]], np.float32)[None, :, :, None]
    detail = x + np.tile(e, (1, 8, 8, 1))
    out, out_detail = np.asarray(d(x, training=False)), np.asarray(d(detail, training=False))
    np.testing.assert_allclose(out_detail[:, 1], out[:, 1], rtol=1e-5, atol=1e-6)  # the half-size scale
    assert np.abs(out_detail[:, 0] - out[:, 0]).max() > 1e-4                          # the full-size one
    # the losses average the two logits: BCE on (N, 2) = the mean of each scale's BCE
    real, fake = rng.normal(size=(5, 2)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32)
    bce = lambda logits, target: np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))))
    per_scale = [bce(real[:, k], 1.0) + bce(fake[:, k], 0.0) for k in (0, 1)]
    assert float(get_loss("bce")[0](real, fake)) == pytest.approx(np.mean(per_scale), rel=1e-5)
    # fast64 has it; it saves and loads; the preset refuses it where it is not built in
    _, d64 = preset_pair(get_preset("fast64", precision="float32").validate())
    assert d64.output_shape == (None, 2) and [type(l) for l in d64.layers].count(MinibatchStd) == 2
    _assert_reloads_the_same(d64, rng.uniform(-1, 1, (8, 64, 64, 3)).astype(np.float32), tmp_path / "d.keras")
    with pytest.raises(ValueError, match=r"multiscale_d = True is invalid: expected false with architecture "
                                         r"'dcgan_conditional'.*dcgan_any.*--multiscale-d"):
        get_preset("cgan32", multiscale_d=True).validate()
    with pytest.raises(ValueError, match=r"info_codes = 4 is invalid: expected 0 with multiscale_d"):
        get_preset("fast64", info_codes=4).validate()
    with pytest.raises(ValueError, match="architecture 'small': its discriminator has no multi-scale version"):
        build_pair("small", 16, multiscale=True)
    with pytest.raises(ValueError, match="multiscale needs a size that halves twice, a multiple of 4 of at least 16"):
        dcgan_discriminator((8, 8, 3), width=4, multiscale=True)
    for size, ok in ((12, False), (50, False), (20, True), (48, True)):  # the preset refuses what D cannot build
        preset = get_preset("fast64", image_size=size)
        if ok:
            assert preset.validate().multiscale_d and preset.replace(multiscale_d=False).validate()
        else:
            with pytest.raises(ValueError, match=f"image_size = {size} is invalid: .*--multiscale-d false"):
                preset.validate()
            assert preset.replace(multiscale_d=False).validate().image_size == size
    # the Python API: InfoGAN's Q head on a hand-built multi-scale D is refused by name, not by a shape error
    with pytest.raises(ValueError, match=r"with_code_head: the discriminator gives 2 logits per image.*"
                                         r"multiscale=False for info_codes"):
        with_code_head(d64, 4)


def _bilinear_2x(x):
    """2× bilinear upsampling with half-pixel centres, written out: output pixel 2i is ¾·x[i] + ¼·x[i−1], 2i+1 is
    ¾·x[i] + ¼·x[i+1], the edge pixel repeated past the border; rows, then columns."""
    def along(a, axis):
        a = np.moveaxis(a, axis, 1)
        prev = np.concatenate([a[:, :1], a[:, :-1]], axis=1)
        nxt = np.concatenate([a[:, 1:], a[:, -1:]], axis=1)
        out = np.stack([0.75 * a + 0.25 * prev, 0.75 * a + 0.25 * nxt], axis=2).reshape(
            a.shape[0], 2 * a.shape[1], *a.shape[2:])
        return np.moveaxis(out, 1, axis)
    return along(along(x, 1), 2)


def _assert_generator_option(option, layer, what, tmp_path):
    """fast64 with ``option``'s preset field on has ``layer`` in G and saves and loads; the preset refuses the
    field, naming its flag, for cgan32, and build_pair refuses the option, naming it as ``what``, for small."""
    field = OPTIONS[option].field
    g64, _ = preset_pair(get_preset("fast64", precision="float32", **{field: True}).validate())
    assert g64.get_layer(layer) is not None
    _assert_reloads_the_same(g64, np.random.default_rng(1).normal(size=(4, 100)).astype(np.float32),
                             tmp_path / "g.keras")
    with pytest.raises(ValueError, match=rf"{field} = True is invalid: expected false with architecture "
                                         rf"'dcgan_conditional'.*dcgan_any.*--{field.replace('_', '-')}"):
        get_preset("cgan32", **{field: True}).validate()
    with pytest.raises(ValueError, match=rf"architecture 'small': its generator has no {what}"):
        build_pair("small", 16, **{option: True})


def test_skip_layer_excitation_gates_each_map_by_the_map_a_quarter_its_size(tmp_path):
    """sle_g (FastGAN's SLE): the 16×16 and 32×32 maps of a 64×64 G are multiplied per channel by
    sigmoid(conv1×1(swish(conv4×4(avgpool to 4×4(the 4×4 / 8×8 map))))), checked in numpy from the model's own
    maps and kernels; it costs the two convolutions' FLOPs; the preset builds it, it saves and loads, and the
    architectures without it refuse it."""
    g = dcgan_generator(16, (64, 64, 3), width=4, sle=True, skip=True)
    assert [l.name for l in g.layers if l.name in ("sle_8", "sle_16", "sle_32", "sle_64")] == ["sle_16", "sle_32"]
    relu = {l.output.shape[1]: l.output for l in g.layers if isinstance(l, layers.ReLU)}
    z = np.random.default_rng(0).normal(size=(3, 16)).astype(np.float32)
    for size, small_size in ((16, 4), (32, 8)):
        product = g.get_layer(f"sle_{size}")
        small, big, out = (np.asarray(t, np.float64) for t in keras.Model(
            g.input, [relu[small_size], product.input[0], product.output])(z, training=False))
        pooled = small.reshape(3, 4, small_size // 4, 4, small_size // 4, -1).mean(axis=(2, 4))
        squeeze = np.einsum("nhwc,hwcd->nd", pooled, g.get_layer(f"sle_{size}_squeeze").kernel.numpy())
        swish = squeeze / (1 + np.exp(-squeeze))
        gate = 1 / (1 + np.exp(-swish @ g.get_layer(f"sle_{size}_excite").kernel.numpy()[0, 0]))
        np.testing.assert_allclose(out, big * gate[:, None, None, :], rtol=1e-4, atol=1e-6)
    # the next layers read the gated maps; the cost is the two convolutions of each gate
    assert g.get_layer("rgb_16").input is g.get_layer("sle_16").output
    plain = dcgan_generator(16, (64, 64, 3), width=4, skip=True)
    convs = 2 * (4 * 4 * 32 * 8 + 8 * 8) + 2 * (4 * 4 * 16 * 4 + 4 * 4)  # 4×4 map: 32 channels, 16×16: 8, ...
    assert forward_flops(g) - forward_flops(plain) == convs
    _assert_generator_option("sle", "sle_32", "skip-layer excitation", tmp_path)


def test_the_skip_generator_sums_an_rgb_picture_from_every_resolution(tmp_path):
    """skip_g (StyleGAN2's skip generator): the picture is tanh(up(up(up(rgb_8) + rgb_16) + rgb_32) + rgb_64),
    up = bilinear 2×, rgb_64 a 3×3 conv of the nearest-upsampled 32×32 features (no transposed conv at the
    output), checked against that formula in numpy from the model's own RGB layers."""
    g = dcgan_generator(16, (64, 64, 3), width=4, skip=True)
    rgb = ["rgb_8", "rgb_16", "rgb_32", "rgb_64"]
    assert [l.name for l in g.layers if l.name.startswith("rgb")] == rgb
    assert not any(isinstance(l, layers.Conv2DTranspose) and l.output.shape[1] == 64 for l in g.layers)
    z = np.random.default_rng(0).normal(size=(3, 16)).astype(np.float32)
    parts = keras.Model(g.input, [g.get_layer(n).output for n in rgb])(z, training=False)
    r8, r16, r32, r64 = (np.asarray(p, np.float64) for p in parts)
    want = np.tanh(_bilinear_2x(_bilinear_2x(_bilinear_2x(r8) + r16) + r32) + r64)
    np.testing.assert_allclose(np.asarray(g(z, training=False)), want, rtol=1e-4, atol=1e-5)
    # without skip: the seeds' layer list, a transposed conv to RGB at the end
    plain = dcgan_generator(16, (64, 64, 3), width=4)
    assert isinstance(plain.layers[-2], layers.Conv2DTranspose) and not any(l.name.startswith("rgb") for l in plain.layers)
    # RGB 1×1 convs from 16, 8, 4 channels and a 3×3 conv from 4 (with biases) replace the ConvT 4→3, k 4
    assert g.count_params() - plain.count_params() == (16 + 8 + 4 + 9 * 4 + 4) * 3 - (16 * 4 * 3 + 3)
    # fast64 has it; it saves and loads; the preset refuses it where the generator has no skip version
    _assert_generator_option("skip", "rgb_64", "skip version", tmp_path)


def test_each_builder_option_is_a_build_pair_keyword_set_by_its_preset_field():
    """models.OPTIONS is the one list of the builders' options: each is a keyword of build_pair, its field a
    bool field of Preset, and turning the field on or off in fast64 puts the option in or takes it out of the
    models preset_pair builds; build_pair refuses a keyword that is not an option."""
    with pytest.raises(TypeError, match="unknown option.*minibatch_sdt.*expected keywords of models.OPTIONS"):
        build_pair("dcgan_any", 16, width=8, image_shape=(16, 16, 3), minibatch_sdt=True)
    marks = {"minibatch_std": lambda g, d: any(isinstance(l, MinibatchStd) for l in d.layers),
             "multiscale": lambda g, d: d.output.shape[-1] == 2,
             "skip": lambda g, d: any(l.name == "rgb_64" for l in g.layers),
             "sle": lambda g, d: any(l.name == "sle_32" for l in g.layers)}
    assert set(marks) == set(OPTIONS)
    for option, spec in OPTIONS.items():
        assert FIELD_TYPES[spec.field] is bool
        on = get_preset("fast64", precision="float32", **{spec.field: True}).validate()
        off = get_preset("fast64", precision="float32", **{spec.field: False}).validate()
        assert marks[option](*preset_pair(on)) and not marks[option](*preset_pair(off)), option


def test_a_saved_discriminator_loads_in_a_fresh_process_after_importing_gan_lab_models(tmp_path):
    """What the README's run-folder section tells users: gan_lab's own layers (MinibatchStd here) are registered
    by importing gan_lab.models, then plain keras.saving.load_model reads the file."""
    _, d = preset_pair(get_preset("fast64", precision="float32").validate())
    d.save(tmp_path / "d.keras")
    code = ("import gan_lab.models, keras; "
            f"print(keras.saving.load_model({str(tmp_path / 'd.keras')!r}).count_params())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) == d.count_params()


def test_policy_parsing():
    assert parse_policy(" Color, translation ,cutout") == ("color", "translation", "cutout")
    assert parse_policy("") == () and make_augment("") is None
    with pytest.raises(ValueError, match="repeats"):
        parse_policy("cutout,cutout")


def test_diff_augment_is_per_image_seeded_and_differentiable():
    x = tf.random.stateless_uniform((6, 16, 16, 3), seed=(1, 2), minval=-1, maxval=1)
    a = diff_augment(x, "color,translation,cutout", tf.constant([3, 4], tf.int64))
    b = diff_augment(x, "color,translation,cutout", tf.constant([3, 4], tf.int64))
    c = diff_augment(x, "color,translation,cutout", tf.constant([3, 5], tf.int64))
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # a function of the seed alone
    assert not np.allclose(a.numpy(), c.numpy())
    same = tf.repeat(x[:1], 6, axis=0)  # one image six times: each copy gets its own draw
    out = diff_augment(same, "translation", tf.constant([0, 1], tf.int64)).numpy()
    assert len({o.tobytes() for o in out}) > 1
    for policy in ("color,translation,cutout", "cutout"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(diff_augment(x, policy, tf.constant([3, 4], tf.int64)) ** 2)
        grad = tape.gradient(y, x).numpy()
        assert np.isfinite(grad).all() and (grad != 0).mean() > 0.5
    assert (grad == 0).any()  # cutout alone: the cut-out pixels get no gradient


def test_translation_fills_with_zeros_and_cutout_zeroes_a_quarter():
    ones = tf.ones((64, 16, 16, 1))
    shifted = diff_augment(ones, "translation", tf.constant([7, 7], tf.int64)).numpy()
    assert set(np.unique(shifted)) <= {0.0, 1.0} and shifted.min() == 0.0  # shifted in zeros (at most 2 rows/cols)
    assert (shifted.reshape(64, -1).mean(axis=1) >= (14 / 16) ** 2 - 1e-6).all()
    cut = diff_augment(ones, "cutout", tf.constant([7, 7], tf.int64)).numpy()
    holes = 1 - cut.reshape(64, -1).mean(axis=1)
    assert holes.max() == pytest.approx(0.25) and holes.min() > 0.05  # an 8×8 square, partly outside sometimes


def test_cli_trains_a_colour_preset_on_a_folder_and_samples_in_colour(tmp_path, capsys):
    from conftest import DATA_DIR
    run = tmp_path / "run"
    assert main(["train", "--preset", "fast32", "--data-dir", str(DATA_DIR / "emoji-64"), "--max-steps", "3",
                 "--width", "8", "--batch-size", "16", "--diff-augment", "color,translation,cutout",
                 "--sample-every", "2", "--out", str(run), "--quiet"]) == 0
    from PIL import Image
    assert Image.open(run / "final_grid.png").mode == "RGB"
    assert Image.open(run / "final_generated_images" / "img_000.png").size == (32, 32)
    assert Image.open(run / "samples.gif").convert("RGB").getcolors(2 ** 20) is not None
    assert "emoji-64" in (run / "preset.json").read_text()
    images = sample(run, n=5)
    assert images.shape == (5, 32, 32, 3) and 0 <= images.min() <= images.max() <= 1
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (4, 32, 32, 3)
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "pngs")]) == 0
    assert Image.open(tmp_path / "pngs" / "img_000.png").mode == "RGB"


def test_the_readme_states_each_colour_presets_flops_as_the_code_counts_them():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in COLOUR_PRESETS:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` | "))
        f = preset_flops(PRESETS[name])
        for value in (f["generator"], f["train_per_image"]):
            assert f"| {value / 1e6:,.0f} M |" in row, f"README row of {name} should state {value / 1e6:,.0f} M"


def test_the_conditional_dcgan_draws_and_judges_by_label():
    g, d = build_pair("dcgan_conditional", 8, width=4, image_shape=(16, 16, 3), num_classes=3)
    z = np.random.default_rng(0).uniform(-1, 1, (6, 8)).astype("float32")
    y0, y2 = np.zeros((6, 1), "int32"), np.full((6, 1), 2, "int32")
    a, b = g([z, y0]).numpy(), g([z, y2]).numpy()
    assert a.shape == (6, 16, 16, 3) and np.abs(a - b).max() > 0.05 * np.abs(a).max()  # same noise, other label
    x = np.random.default_rng(1).uniform(-1, 1, (6, 16, 16, 3)).astype("float32")
    logit0, logit2 = d([x, y0], training=False).numpy(), d([x, y2], training=False).numpy()
    assert logit0.shape == (6, 1) and np.abs(logit0 - logit2).max() > 0.05 * np.abs(logit0).max()
    assert "dcgan_conditional" in CONDITIONAL and get_preset("cgan32").conditional
    with pytest.raises(ValueError, match="clusters = 5 is invalid: expected 0 with architecture .dcgan_any.*--architecture dcgan_conditional"):
        get_preset("fast32", clusters=5).validate()
    assert get_preset("fast32", architecture="dcgan_conditional", clusters=5).validate().label_architecture


def test_latent_walks_in_colour(tmp_path):
    from PIL import Image

    from gan_lab.explore import interpolate, save_interpolation
    g, _ = build_pair("dcgan_any", 8, width=4, image_shape=(16, 16, 3))
    walk = interpolate(g, n_rows=2, steps=3)
    assert walk.shape == (2, 3, 16, 16, 3)
    assert Image.open(save_interpolation(walk, tmp_path / "w.png")).mode == "RGB"
    assert save_interpolation(walk, tmp_path / "w.gif").stat().st_size > 0


@pytest.mark.parametrize("size, spectral_norm, multiscale", [(64, True, True), (32, False, False)])
def test_recon_decoders_share_the_discriminator_and_redraw_the_whole_picture_and_a_quarter(size, spectral_norm,
                                                                                            multiscale):
    """FastGAN's decoders read D's 8×8 features (whole) and a quarter of its 16×16 ones (part); every
    discriminator layer is shared, so training the model with decoders trains D."""
    _, d = build_pair("dcgan_any", 16, spectral_norm, 8, (size, size, 3), multiscale=multiscale)
    head = with_recon_decoders(d)
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    logits, whole, part = head([x, np.array([[0], [3]])])
    assert logits.shape == (2, 2 if multiscale else 1) and whole.shape == part.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(logits, d(x), rtol=1e-5)
    d_vars = {id(v) for v in d.trainable_variables}
    assert d_vars < {id(v) for v in head.trainable_variables}
    assert np.abs(whole).max() <= 1 and not np.allclose(part[0], part[1])
    # the part decoder sees only the chosen quarter: another quarter of the same picture, another drawing
    _, _, other = head([x, np.array([[1], [3]])])
    assert not np.allclose(other[0], part[0]) and np.allclose(other[1], part[1])


def test_recon_decoders_refuse_a_discriminator_without_the_features_they_read():
    _, d = build_pair("keras_faces", 16, image_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="features_8 and features_16"):
        with_recon_decoders(d)
    with pytest.raises(ValueError, match="recon_weight.*dcgan_any"):
        get_preset("keras_faces", recon_weight=1.0).validate()
    for size in (16, 48):  # 48: halves to 6×6, no 8×8 features
        with pytest.raises(ValueError, match=r"recon_weight.*32, 64, 128"):
            get_preset("fast32", image_size=size, recon_weight=1.0).validate()
        with pytest.raises(ValueError, match="features_8 and features_16"):
            with_recon_decoders(dcgan_discriminator((size, size, 3), 8))
    for size in (32, 64, 128):
        get_preset("fast32", image_size=size, recon_weight=1.0).validate()
    with pytest.raises(ValueError, match="recon_weight = -1.0 is invalid: expected a number >= 0"):
        get_preset("fast64", recon_weight=-1.0).validate()


def test_recon_weight_trains_the_decoders_with_the_discriminator(emoji_small):
    """With recon_weight the D step adds the reconstruction loss on the real batch: the decoders learn (their
    loss falls on a fixed batch) and D's update differs from the one without decoders; G is trained as before."""
    from gan_lab.gan import build_gan
    batch = emoji_small[:16].astype("float32") / 127.5 - 1
    gans = {w: build_gan(get_preset("fast64", noise_dim=16, width=8, batch_size=16, recon_weight=w))
            for w in (0.0, 1.0)}
    decoders = [gans[1.0].recon_head.get_layer(f"{d}_picture") for d in ("whole", "part")]
    before = [d.get_weights()[0] for d in decoders]
    steps = {w: tf.function(gan.train_step) for w, gan in gans.items()}  # traced as fit() does: 30 eager steps are slow
    logs = {w: [step(tf.constant(batch)) for _ in range(30)] for w, step in steps.items()}
    recon = [float(out["recon_loss"]) for out in logs[1.0]]
    assert "recon_loss" not in logs[0.0][0] and recon[-1] < 0.7 * recon[0]
    assert all(not np.allclose(d.get_weights()[0], w) for d, w in zip(decoders, before))
    d0, d1 = (gan.discriminator.get_layer("logit_sn").get_weights()[0] for gan in gans.values())
    assert not np.allclose(d0, d1)
