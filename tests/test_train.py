import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import models
from gan_lab.callbacks import read_history
from gan_lab.data import make_dataset, to_unit_range
from gan_lab.presets import PRESETS, get_preset
from gan_lab.runs import build_gan, train
from gan_lab.train import GAN, make_train_step, run_a_gan


def _first_step_losses(seed, batch):
    keras.utils.set_random_seed(seed)
    g, d = models.dense_generator(noise_dim=16), models.dense_discriminator()
    step = make_train_step(g, d, keras.optimizers.Adam(1e-3, 0.5), keras.optimizers.Adam(1e-3, 0.5), seed=seed)
    out = step(batch)
    return float(out["d_loss"]), float(out["g_loss"])


def test_same_seed_gives_same_first_step_losses(mnist_small):
    batch = next(iter(make_dataset(mnist_small[0], 64, seed=0, flatten=True)))
    a, b, c = _first_step_losses(7, batch), _first_step_losses(7, batch), _first_step_losses(8, batch)
    assert a == b
    assert a != c


def test_same_seed_gives_same_first_step_losses_through_fit(mnist_small):
    preset = get_preset("cs231n_dense", noise_dim=16, batch_size=64)
    ds = make_dataset(mnist_small[0][:64], 64, seed=0)
    runs = []
    for _ in range(2):
        gan = build_gan(preset)
        hist = gan.fit(ds, epochs=1, verbose=0)
        runs.append((hist.history["d_loss"][0], hist.history["g_loss"][0]))
    assert runs[0] == runs[1]


def test_last_partial_batch_trains_and_counts_steps(mnist_small):
    keras.utils.set_random_seed(0)
    gan = GAN(models.dc_generator(noise_dim=8), models.dc_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-3, 0.5), keras.optimizers.Adam(1e-3, 0.5), loss="lsgan")
    ds = make_dataset(mnist_small[0][:130], batch_size=128, seed=0)  # batches of 128 and 2
    gan.fit(ds, epochs=2, verbose=0)
    assert gan.step == 4
    assert gan.generate(5).shape == (5, 28, 28)


def test_d_steps_and_label_tricks_run(mnist_small):
    keras.utils.set_random_seed(0)
    g, d = models.dense_generator(noise_dim=8), models.dense_discriminator()
    d_opt, g_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    step = make_train_step(g, d, d_opt, g_opt, d_steps=3, label_smoothing=0.1, flip_prob=0.05, seed=0)
    out = step(next(iter(make_dataset(mnist_small[0], 32, flatten=True))))
    assert int(d_opt.iterations.numpy()) == 3 and int(g_opt.iterations.numpy()) == 1
    assert np.isfinite(float(out["d_loss"]))
    with pytest.raises(ValueError, match="label_smoothing"):
        make_train_step(g, d, d_opt, g_opt, loss="lsgan", label_smoothing=0.1)


def test_run_a_gan_loop_shows_grids_and_records_history(mnist_small):
    keras.utils.set_random_seed(0)
    shown = []
    hist = run_a_gan(models.dense_generator(noise_dim=16), models.dense_discriminator(),
                     make_dataset(mnist_small[0][:640], 64, flatten=True), num_epochs=2, show_every=8,
                     print_every=0, show=lambda imgs, step: shown.append((step, imgs.shape, imgs.min(), imgs.max())))
    assert hist["step"] == list(range(20))
    assert [s[0] for s in shown] == [0, 8, 16]
    assert all(s[1] == (16, 28, 28) and s[2] >= 0 and s[3] <= 1 for s in shown)


def test_short_real_mnist_run_learns(tmp_path, mnist_train):
    """A few hundred steps on real MNIST: losses move and samples move toward real statistics."""
    preset = get_preset("cs231n_dense", batch_size=64, sample_every=100, checkpoint_every=0)
    rng_noise = np.random.default_rng(0).uniform(-1, 1, (256, preset.noise_dim)).astype("float32")
    untrained = build_gan(preset)
    before = to_unit_range(np.asarray(untrained.generator(rng_noise)).reshape(-1, 28, 28))
    result = train(preset, tmp_path / "run", max_steps=300, images=mnist_train[0], verbose=0)
    after = to_unit_range(np.asarray(result.gan.generator(rng_noise)).reshape(-1, 28, 28))
    real = mnist_train[0][:256] / 255.0

    rows = read_history(tmp_path / "run" / "history.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 301))
    d = np.array([float(r["d_loss"]) for r in rows])
    g = np.array([float(r["g_loss"]) for r in rows])
    assert np.all(np.isfinite(d)) and np.all(np.isfinite(g))
    assert abs(d[:10].mean() - d[-50:].mean()) > 0.05 and g.std() > 0.05
    # Untrained samples are grey (about 0.5); real digits average about 0.13 with mostly black pixels.
    gap_before = abs(before.mean() - real.mean())
    gap_after = abs(after.mean() - real.mean())
    assert gap_after < 0.5 * gap_before
    black = lambda x: (x < 0.1).mean()
    assert abs(black(after) - black(real)) < 0.5 * abs(black(before) - black(real))
    assert np.abs(after - before).mean() > 0.1


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_trains_a_few_steps(tmp_path, name, mnist_small):
    from gan_lab.models import is_conditional
    preset = get_preset(name, batch_size=32, sample_every=1, sample_unit="step")
    data = (mnist_small[0][:256], mnist_small[1][:256]) if is_conditional(preset.architecture) else mnist_small[0][:256]
    result = train(preset, tmp_path / name, max_steps=3, images=data, verbose=0)
    assert result.step == 3 and result.status == "stopped"
    out = tmp_path / name
    assert len(list((out / "final_generated_images").glob("img_*.png"))) == 100
    assert (out / "generator.keras").exists() and (out / "samples.gif").exists()
    assert sorted(p.name for p in (out / "generated_samples").glob("*.png"))[:2] == ["step_000000.png",
                                                                                    "step_000001.png"]


def test_max_seconds_is_honoured(tmp_path, mnist_small):
    preset = get_preset("fast_unconditional", batch_size=32, sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", max_seconds=4, images=mnist_small[0], epochs=1000, verbose=0, log=None)
    assert result.status == "stopped" and "max_seconds" in result.reason
    rows = read_history(tmp_path / "run" / "history.csv")
    last = float(rows[-1]["seconds"])
    assert 4.0 <= last < 4.0 + 2.0  # stops at the first step past the budget
    assert (tmp_path / "run" / "final_grid.png").exists()  # outputs still written


class _StepCounter(keras.callbacks.Callback):
    """Counts the training batches fit() runs."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def test_train_uses_full_batches_only(tmp_path, mnist_small):
    """100 images at batch 64: one full batch per epoch, no extra 36-image batch (a small last batch
    gives BatchNorm noisy statistics)."""
    preset = get_preset("cs231n_dense", batch_size=64, epochs=3, sample_every=10 ** 6, sample_unit="step")
    probe = _StepCounter()
    result = train(preset, tmp_path / "run", images=mnist_small[0][:100], verbose=0, log=None, callbacks=[probe])
    assert result.step == 3 and result.status == "finished" and probe.steps == 3  # 3 epochs x 1 batch of 64
    # fewer images than one batch: still trains, on one smaller batch per epoch
    small = train(preset, tmp_path / "small", images=mnist_small[0][:40], verbose=0, log=None)
    assert small.step == 3


def test_precision_auto_follows_the_cpu_flags():
    from gan_lab.presets import cpu_has_native_bf16, resolve_precision
    assert cpu_has_native_bf16("processor : 0\nflags : fpu sse avx2 avx512f avx512_bf16\n")
    assert cpu_has_native_bf16("flags\t\t: fpu amx_bf16 amx_tile\n")
    assert not cpu_has_native_bf16("flags : fpu sse avx2 avx512f avx512_vnni\n")
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert resolve_precision("auto") == ("mixed_bfloat16" if cpu_has_native_bf16() else "float32")
    with pytest.raises(ValueError, match="precision"):
        get_preset("fast", precision="bf16").validate()


def test_bf16_mixed_precision_trains_with_float32_weights(tmp_path, mnist_small):
    import json
    preset = get_preset("fast", precision="mixed_bfloat16", width=16, batch_size=32, sample_every=10 ** 6,
                        sample_unit="step")
    result = train(preset, tmp_path / "run", max_steps=4, images=mnist_small, verbose=0, log=None)
    gan = result.gan
    assert result.step == 4
    assert all(w.dtype == "float32" for w in gan.generator.weights + gan.discriminator.weights)
    assert gan.generator.layers[-1].compute_dtype == "bfloat16"
    rows = read_history(tmp_path / "run" / "history.csv")
    assert all(np.isfinite(float(r["d_loss"])) and np.isfinite(float(r["g_loss"])) for r in rows)
    state = json.loads((tmp_path / "run" / "run_state.json").read_text())
    assert state["precision"] == "mixed_bfloat16"
    from gan_lab.runs import sample
    images = sample(tmp_path / "run", n=10, label=3)
    assert images.dtype == np.float32 and images.shape == (10, 28, 28) and 0 <= images.min() <= images.max() <= 1


def test_parse_overrides_converts_by_field_type_and_names_bad_items():
    from gan_lab.presets import parse_overrides
    got = parse_overrides(["g_lr=2e-4", "batch_size=32", "spectral_norm=true", "ema_decay=0", "precision=auto"])
    assert got == {"g_lr": 2e-4, "batch_size": 32, "spectral_norm": True, "ema_decay": 0.0, "precision": "auto"}
    assert type(got["batch_size"]) is int and type(got["ema_decay"]) is float
    for bad, message in ((["nope=1"], "nope=1"), (["batch_size=x"], "batch_size takes a int"),
                         (["spectral_norm=maybe"], "spectral_norm takes a bool"), (["g_lr"], "FIELD=VALUE")):
        with pytest.raises(ValueError, match=message):
            parse_overrides(bad)
