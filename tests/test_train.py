"""train(): a preset into a run folder: every preset, budgets on an injected clock, full batches, bf16,
exact resume, mid-epoch resume, nothing to train, tiny data sets, unicode folders, failures while saving."""
import importlib
import json
import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.python.checkpoint import checkpoint_management
from tensorflow.python.summary.summary_iterator import summary_iterator

from gan_lab.callbacks import read_history
from gan_lab.cli import main
from gan_lab.clusters import cluster_labels
from gan_lab.data import DatasetError, fit_images, to_unit_range
from gan_lab.gan import build_gan
from gan_lab.presets import PRESETS, get_preset
from gan_lab.runs import RunError, sample
from gan_lab.sampling import num_classes_of
from gan_lab.train import train

train_module = importlib.import_module("gan_lab.train")  # the module (gan_lab.train is also the function)


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
    # Dark pixels (under 0.3; 85 % of real ones, almost none untrained). Not "under 0.1": after 300 steps the
    # background is still dark grey near 0.1, so that share depends on the thread count (the order of float
    # sums): 0.39 of the untrained gap with TensorFlow's default threads, 0.50 with one thread. Under 0.3: 0.07.
    dark = lambda x: (x < 0.3).mean()
    assert abs(dark(after) - dark(real)) < 0.5 * abs(dark(before) - dark(real))
    assert np.abs(after - before).mean() > 0.1


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_trains_a_few_steps(tmp_path, name, mnist_small, emoji_small):
    preset = get_preset(name, batch_size=32, sample_every=1, sample_unit="step")
    if preset.image_shape != (28, 28, 1):  # the colour presets, smaller (the recipe is what is tested): at width 8,
        # or keras_faces (no width: 512 channels) at 32×32, a quarter of its 18 GFLOP per picture at 64×64
        small = {"width": 8} if preset.architecture.startswith("dcgan_") else {"image_size": 32}
        preset = preset.replace(batch_size=8, **small)
        data = fit_images(emoji_small, preset.image_size, preset.channels)
        if preset.conditional:  # emoji have no classes: ten made-up ones (the recipe is what is tested)
            data = (data, np.arange(len(data)) % 10)
    else:
        data = (mnist_small[0][:256], mnist_small[1][:256]) if preset.conditional else mnist_small[0][:256]
    result = train(preset, tmp_path / name, max_steps=3, images=data, verbose=0)
    assert result.step == 3 and result.status == "stopped"
    out = tmp_path / name
    assert len(list((out / "final_generated_images").glob("img_*.png"))) == 100
    assert (out / "generator.keras").exists() and (out / "samples.gif").exists()
    assert sorted(p.name for p in (out / "generated_samples").glob("*.png"))[:2] == ["step_000000.png",
                                                                                    "step_000001.png"]


class _Tick(keras.callbacks.Callback):
    """Advances a fake clock by one second at the start of every step: step s ends at second s."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_train_batch_begin(self, batch, logs=None):
        self.clock.now += 1.0


class _Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_max_seconds_stops_at_the_first_step_past_the_budget(tmp_path, mnist_small):
    clock = _Clock()
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", max_seconds=4, images=mnist_small[0], epochs=1000, verbose=0, log=None,
                   clock=clock, callbacks=[_Tick(clock)])
    assert result.status == "stopped" and result.reason == "reached max_seconds=4" and result.step == 4
    rows = read_history(tmp_path / "run" / "history.csv")
    assert [r["seconds"] for r in rows] == ["1.000", "2.000", "3.000", "4.000"]
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


def test_bf16_mixed_precision_trains_with_float32_weights(tmp_path, mnist_small):
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
    images = sample(tmp_path / "run", n=10, label=3)
    assert images.dtype == np.float32 and images.shape == (10, 28, 28) and 0 <= images.min() <= images.max() <= 1


def test_a_self_conditioned_run_trains_on_clusters_and_saves_a_generator_of_noise_alone(tmp_path, mnist_small):
    """clusters=5: the data's labels are not needed (plain images are enough), the generator picks its cluster
    from the noise with the clusters' frequencies, and the saved generator takes noise only."""
    preset = get_preset("cgan", clusters=5, width=8, noise_dim=16, batch_size=32, precision="float32",
                        sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", max_steps=3, images=mnist_small[0][:300], verbose=0, log=None)
    frequencies = result.gan.cluster_frequencies
    assert len(frequencies) == 5 and sum(frequencies) == pytest.approx(1.0) and min(frequencies) > 0
    saved = keras.models.load_model(tmp_path / "run" / "generator.keras")
    assert len(saved.inputs) == 1 and saved.get_layer("cluster").frequencies == frequencies
    assert sample(tmp_path / "run", n=4).shape == (4, 28, 28)
    with pytest.raises(ValueError, match="--label needs a conditional run"):
        sample(tmp_path / "run", n=4, label=1)


def test_clusters_within_classes_keep_a_run_conditional(tmp_path, mnist_small):
    preset = get_preset("fast", class_clusters=3, width=8, noise_dim=16, batch_size=32, precision="float32",
                        sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", max_steps=3, images=mnist_small, verbose=0, log=None)
    assert np.shape(result.gan.cluster_frequencies) == (10, 3)
    saved = keras.models.load_model(tmp_path / "run" / "generator.keras")
    assert len(saved.inputs) == 2
    assert sample(tmp_path / "run", n=4, label=7).shape == (4, 28, 28)


def _emoji_class_folder(root, emoji_small, classes: int, per_class: int = 12):
    """A folder of real emoji pictures in ``classes`` sub-folders (one per class) below ``root``."""
    for c in range(classes):
        (root / f"class_{c}").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(emoji_small[c * per_class + i]).save(root / f"class_{c}" / f"{i:02d}.png")
    return root


def test_a_conditional_run_takes_its_class_count_from_the_data(tmp_path, emoji_small):
    """Regression: a conditional run always used 10 classes, so 3 class sub-folders gave 10-row label
    embeddings, fakes labelled 3-9 with no real pictures, and `sample` without --label asked for classes 3-9."""
    folder = _emoji_class_folder(tmp_path / "pictures", emoji_small, classes=3)
    run = tmp_path / "run"
    assert main(["train", "--preset", "cgan32", "--dataset", f"folder:{folder}", "--width", "4", "--batch-size", "12",
                 "--max-steps", "3", "--sample-every", "1", "--sample-unit", "step", "--out", str(run),
                 "--quiet"]) == 0
    assert json.loads((run / "preset.json").read_text())["num_classes"] == 3
    generator = keras.models.load_model(run / "generator.keras")
    assert num_classes_of(generator) == 3
    assert sample(run, n=6, seed=0).shape == (6, 32, 32, 3)  # labels cycle 0, 1, 2
    assert not np.array_equal(sample(run, n=2, seed=0, label=0), sample(run, n=2, seed=0, label=2))
    grid = Image.open(run / "generated_samples" / "step_000000.png")
    assert grid.size[1] / grid.size[0] == pytest.approx(3 / 8, rel=0.05)  # a row per class × 8 columns
    assert main(["sample", str(run), "--label", "3", "--out", str(tmp_path / "x.npy")]) == 2
    # a class is also asked for by its sub-folder's name
    np.testing.assert_array_equal(sample(run, n=2, seed=0, label="class_2"), sample(run, n=2, seed=0, label=2))
    with pytest.raises(ValueError, match=r"label = 'heart' is invalid: expected a class from 0 to 2 or one of its "
                                         r"class names \(class_0, class_1, class_2\)"):
        sample(run, n=2, label="heart")
    assert main(["sample", str(run), "--label", "class_1", "--n", "4", "--seed", "0", "--out",
                 str(tmp_path / "c1.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "c1.npy"), sample(run, n=4, seed=0, label=1))
    assert main(["interpolate", str(run), "--label", "class_0", "--rows", "2", "--steps", "3", "--out",
                 str(tmp_path / "i.png")]) == 0
    assert main(["train", "--resume", str(run), "--max-steps", "4", "--quiet"]) == 0


def test_a_resumed_conditional_run_refuses_data_with_other_classes(tmp_path, emoji_small):
    images = emoji_small[:48, ::2, ::2]
    preset = get_preset("cgan32", width=4, batch_size=12, sample_every=10 ** 6, sample_unit="step")
    train(preset, tmp_path / "run", max_steps=2, images=(images, np.arange(48) % 4), verbose=0, log=None)
    with pytest.raises(ValueError, match="num_classes = 4 but .* has 3 classes: a run keeps the classes"):
        train(None, tmp_path / "run", resume=True, max_steps=3, images=(images, np.arange(48) % 3), verbose=0,
              log=None)
    with pytest.raises(ValueError, match="num_classes = 5 but .* has 4 classes"):
        train(preset.replace(num_classes=5), tmp_path / "other", max_steps=2, images=(images, np.arange(48) % 4),
              verbose=0, log=None)


@pytest.mark.parametrize("classes", [0, 1])
def test_a_conditional_run_refuses_data_without_classes(tmp_path, emoji_small, classes):
    """A flat folder has one class (every label 0): a conditional GAN would learn nothing from its labels."""
    images = emoji_small[:24, ::2, ::2]
    preset = get_preset("cgan32", width=4, batch_size=12, sample_every=10 ** 6, sample_unit="step")
    labels = None if classes == 0 else np.zeros(24, np.int64)
    match = "pass images=.images, labels." if classes == 0 else \
        "needs at least 2 classes, but .* has 1: for a folder, put the pictures in one sub-folder per class"
    with pytest.raises(ValueError, match=match):
        train(preset, tmp_path / "run", max_steps=2, images=images if labels is None else (images, labels),
              verbose=0, log=None)
    assert not (tmp_path / "run").exists()


def test_clusters_within_three_classes(tmp_path, mnist_small):
    images, labels = mnist_small[0][:300], mnist_small[1][:300] % 3
    preset = get_preset("fast", class_clusters=2, width=8, noise_dim=16, batch_size=32, precision="float32",
                        sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", max_steps=2, images=(images, labels), verbose=0, log=None)
    assert np.shape(result.gan.cluster_frequencies) == (3, 2) and result.gan.num_classes == 3
    assert sample(tmp_path / "run", n=5, label=2).shape == (5, 28, 28)


def test_history_records_infogans_code_loss(tmp_path, mnist_small):
    """Regression: history.csv had fixed columns without info_loss, so InfoGAN's code cross-entropy was shown
    in the logs but not kept."""
    preset = get_preset("fast_infogan", width=8, noise_dim=16, batch_size=32, sample_every=10 ** 6,
                        sample_unit="step")
    train(preset, tmp_path / "run", max_steps=3, images=mnist_small[0][:200], verbose=0, log=None)
    rows = read_history(tmp_path / "run" / "history.csv")
    assert len(rows) == 3 and all(np.isfinite(float(r["info_loss"])) and float(r["info_loss"]) > 0 for r in rows)


def test_history_records_fastgans_reconstruction_loss(tmp_path, emoji_small):
    """Regression: history.csv's fixed columns had no recon_loss, so the decoders' loss (recon_weight) was lost."""
    preset = get_preset("fast32", width=8, noise_dim=16, batch_size=16, recon_weight=1.0, sample_every=10 ** 6,
                        sample_unit="step")
    train(preset, tmp_path / "run", max_steps=3, images=emoji_small[:64, ::2, ::2], verbose=0, log=None)
    rows = read_history(tmp_path / "run" / "history.csv")
    assert len(rows) == 3 and all(np.isfinite(float(r["recon_loss"])) and float(r["recon_loss"]) > 0 for r in rows)
    assert all(r["info_loss"] == "" for r in rows)


# --- exact resume ---------------------------------------------------------------------------------------------


def _weights(model):
    return [w.numpy() for w in model.weights]


@pytest.mark.parametrize("name, overrides", [
    ("cs231n_dense", dict(noise_dim=16, flip_prob=0.1, ema_decay=0.99)),   # label flips and EMA
    ("tf_tutorial_dcgan", dict(noise_dim=8)),                             # dropout in the discriminator
    ("fast32", dict(noise_dim=8, width=8, image_size=28, channels=1,       # DiffAugment's per-image draws
                    diff_augment="color,translation,cutout")),
    ("fast_infogan", dict(noise_dim=12, width=8, info_codes=4)),         # InfoGAN's code head in the checkpoint
    ("fast32", dict(noise_dim=8, width=8, image_size=28, channels=1,       # spectral norm's power-iteration
                    spectral_norm=True)),                                 # vectors (fast64 uses it)
    ("fast32", dict(noise_dim=8, width=8, image_size=28, channels=1,       # two logits: the multi-scale D,
                    multiscale_d=True, skip_g=True)),                     # and the skip generator (fast64's)
    ("fast32", dict(noise_dim=8, width=8, recon_weight=1.0)),            # FastGAN's decoders, their quarters
    ("fast32", dict(noise_dim=8, width=8, ema_bn_samples=64)),           # the EMA's recomputed statistics
    ("cgan", dict(noise_dim=12, width=8, clusters=6)),                   # k-means clusters read back on resume
    ("fast", dict(noise_dim=12, width=8, class_clusters=2)),             # clusters within classes
])
def test_resumed_run_is_bit_for_bit_the_uninterrupted_run(tmp_path, mnist_small, emoji_small, name, overrides):
    """Regression: flip_prob drew from a stateful global RNG and dropout's RNG state was not checkpointed, so a
    resumed run was another run. 16 steps at once == 7 steps, a fresh process state, then 9 more."""
    preset = get_preset(name, batch_size=16, sample_every=10 ** 6, sample_unit="step", checkpoint_every=0,
                        **overrides)
    colour = emoji_small[:200, ::2, ::2]  # 32×32 RGB
    images = (colour if preset.channels == 3 else mnist_small[0])[:200]  # 12 steps per epoch: the stop and the
    # end fall in different epochs
    if preset.conditional:
        images = (images, mnist_small[1][:200])
    whole = train(preset, tmp_path / "whole", max_steps=16, images=images, verbose=0, log=None)
    train(preset, tmp_path / "parts", max_steps=7, images=images, verbose=0, log=None)
    keras.utils.set_random_seed(12345)  # a resumed process has its own global RNG state: it must not matter
    parts = train(None, tmp_path / "parts", resume=True, max_steps=16, images=images, verbose=0, log=None)
    pairs = [(whole.gan.generator, parts.gan.generator), (whole.gan.discriminator, parts.gan.discriminator)]
    pairs += [(getattr(whole.gan, k), getattr(parts.gan, k)) for k in ("ema_generator", "code_head", "recon_head")
              if getattr(whole.gan, k) is not None]
    for a, b in pairs:
        for wa, wb in zip(_weights(a), _weights(b)):
            np.testing.assert_array_equal(wa, wb)
    losses = lambda run: [(r["step"], r["d_loss"], r["g_loss"]) for r in read_history(run / "history.csv")]
    assert losses(tmp_path / "whole") == losses(tmp_path / "parts")


@pytest.mark.parametrize("name, overrides", [("cgan", dict(clusters=6)), ("fast", dict(class_clusters=2))])
def test_a_resume_reads_the_k_means_labels_the_run_stored(tmp_path, mnist_small, monkeypatch, name, overrides):
    """Regression: k-means ran again on every resume (about 9 s on MNIST). The labels are kept in the run folder
    with a fingerprint of the data; other data (or other class labels) are clustered anew."""
    monkeypatch.setenv("GAN_LAB_CACHE_DIR", str(tmp_path / "cache"))  # k-means labels of other tests: not here
    preset = get_preset(name, noise_dim=12, width=8, batch_size=16, sample_every=10 ** 6, sample_unit="step",
                        **overrides)
    images, classes = mnist_small[0][:200], mnist_small[1][:200]
    data = (images, classes) if preset.conditional else images
    first = train(preset, tmp_path / "run", max_steps=2, images=data, verbose=0, log=None)
    stored = tmp_path / "run" / "cluster_labels.npz"
    computed, written = np.load(stored)["labels"], stored.stat().st_mtime_ns
    assert computed.shape == (200,) and len(np.unique(computed)) > 1

    def no_kmeans(*args, **kwargs):
        raise AssertionError("k-means ran again")
    monkeypatch.setattr(train_module, "cluster_labels", no_kmeans)
    resumed = train(None, tmp_path / "run", resume=True, max_steps=4, images=data, verbose=0, log=None)
    assert (first.step, resumed.step) == (2, 4)
    assert stored.stat().st_mtime_ns == written  # read back, not written again

    other = (images[::-1].copy(), classes[::-1].copy()) if preset.conditional else images[::-1].copy()
    with pytest.raises(AssertionError, match="k-means ran again"):
        train(None, tmp_path / "run", resume=True, max_steps=6, images=other, verbose=0, log=None)
    if preset.conditional:  # same images, other class labels: other clusters
        relabelled = (images, (classes + 1) % 10)
        with pytest.raises(AssertionError, match="k-means ran again"):
            train(None, tmp_path / "run", resume=True, max_steps=6, images=relabelled, verbose=0, log=None)


def test_a_new_run_on_the_same_data_reads_the_k_means_labels_from_the_cache(tmp_path, mnist_small, monkeypatch,
                                                                           capsys):
    """k-means (about 16 s for MNIST on 2 cores) runs once per data, k and seed: a new run folder on the same data
    reads the labels from the cache folder; another seed, a damaged file, another LABELS_VERSION or an unwritable
    cache computes them."""
    monkeypatch.setenv("GAN_LAB_CACHE_DIR", str(tmp_path / "cache"))
    computed = []

    def counted_kmeans(*args, **kwargs):
        computed.append(1)
        return cluster_labels(*args, **kwargs)
    monkeypatch.setattr(train_module, "cluster_labels", counted_kmeans)
    preset = get_preset("cgan", clusters=6, noise_dim=12, width=8, batch_size=16, sample_every=10 ** 6,
                        sample_unit="step")
    images = mnist_small[0][:200]
    labels = lambda run: np.load(tmp_path / run / "cluster_labels.npz")["labels"]

    train(preset, tmp_path / "a", max_steps=1, images=images, verbose=2, log=None)
    cached = list((tmp_path / "cache").glob("clusters-*.npy"))
    assert len(computed) == 1 and len(cached) == 1
    assert f"k-means: 6 clusters of 200 images, once for this data, k and seed (kept in {tmp_path / 'cache'})" \
        in capsys.readouterr().out  # said before the seconds it takes on real data
    train(preset, tmp_path / "b", max_steps=1, images=images, verbose=2, log=None)
    assert len(computed) == 1  # read from the cache, and kept in the new run folder for its resumes
    assert "k-means" not in capsys.readouterr().out
    np.testing.assert_array_equal(labels("b"), labels("a"))

    train(preset.replace(seed=1), tmp_path / "c", max_steps=1, images=images, verbose=0, log=None)
    assert len(computed) == 2 and len(list((tmp_path / "cache").glob("clusters-*.npy"))) == 2
    cached[0].write_bytes(b"half a file")
    train(preset, tmp_path / "d", max_steps=1, images=images, verbose=0, log=None)
    assert len(computed) == 3
    np.testing.assert_array_equal(np.load(cached[0]), labels("a"))  # written again
    monkeypatch.setattr(train_module, "LABELS_VERSION", 2)  # a gan_lab whose k-means gives other labels
    train(preset, tmp_path / "v2", max_steps=1, images=images, verbose=0, log=None)
    assert len(computed) == 4 and len(list((tmp_path / "cache").glob("clusters-v2-*.npy"))) == 1
    monkeypatch.setattr(train_module, "LABELS_VERSION", 1)

    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("GAN_LAB_CACHE_DIR", str(tmp_path / "not-a-folder"))
    with pytest.warns(UserWarning, match="cannot keep the k-means labels .* set GAN_LAB_CACHE_DIR"):
        train(preset, tmp_path / "e", max_steps=1, images=images, verbose=0, log=None)
    assert len(computed) == 5
    np.testing.assert_array_equal(labels("e"), labels("a"))


def test_a_run_stopped_mid_epoch_resumes_the_missing_steps_only(tmp_path, mnist_small):
    """Regression: the epoch counter ran on_epoch_end after a mid-epoch stop, so `--epochs E` on resume trained
    less than asked. 200 images at batch 32 = 6 steps per epoch; 2 epochs = 12 steps, stopped at step 4."""
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, epochs=2, sample_every=10 ** 6,
                        sample_unit="step")
    images = mnist_small[0][:200]
    first = train(preset, tmp_path / "run", max_steps=4, images=images, verbose=0, log=None)
    assert (first.step, first.epoch, first.status) == (4, 0, "stopped")
    done = train(None, tmp_path / "run", resume=True, images=images, verbose=0, log=None)
    assert (done.step, done.epoch, done.status) == (12, 2, "finished")
    more = train(None, tmp_path / "run", resume=True, epochs=3, images=images, verbose=0, log=None)
    assert (more.step, more.status) == (18, "finished")
    steps = [int(r["step"]) for r in read_history(tmp_path / "run" / "history.csv")]
    epochs = [int(r["epoch"]) for r in read_history(tmp_path / "run" / "history.csv")]
    assert steps == list(range(1, 19)) and epochs == [(s - 1) // 6 for s in steps]


def test_nothing_to_train_is_said_and_changes_nothing(tmp_path, mnist_small):
    """Regression: --max-steps 0, --epochs 0, or resuming a run already at --max-steps ended in a traceback
    and left run_state.json at "running"."""
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, sample_every=10 ** 6, sample_unit="step")
    images = mnist_small[0][:256]
    said = []
    result = train(preset, tmp_path / "zero", max_steps=0, images=images, verbose=0, log=said.append)
    assert result.status == "nothing to train" and not (tmp_path / "zero").exists()
    assert said == ["already at step 0 (target step 0): nothing to train; no run folder written"]
    result = train(preset.replace(epochs=0), tmp_path / "zero", images=images, verbose=0, log=None)
    assert result.status == "nothing to train" and not (tmp_path / "zero").exists()

    train(preset, tmp_path / "run", max_steps=5, images=images, verbose=0, log=None)
    state = (tmp_path / "run" / "run_state.json").read_text()
    history = (tmp_path / "run" / "history.csv").read_text()
    said.clear()
    result = train(None, tmp_path / "run", resume=True, max_steps=5, images=images, verbose=0, log=said.append)
    assert result.status == "nothing to train" and result.step == 5
    assert said[-1] == "already at step 5 (target step 5): nothing to train"
    assert (tmp_path / "run" / "run_state.json").read_text() == state
    assert (tmp_path / "run" / "history.csv").read_text() == history


def test_an_empty_training_set_is_a_clear_error_and_one_image_trains(tmp_path):
    preset = get_preset("fast_unconditional_plain", batch_size=32, width=8, sample_every=10 ** 6, sample_unit="step")
    with pytest.raises(DatasetError, match="training set is empty"):
        train(preset, tmp_path / "empty", max_steps=2, images=np.zeros((0, 28, 28), np.uint8), verbose=0, log=None)
    assert not (tmp_path / "empty" / "preset.json").exists()
    one = np.full((1, 28, 28), 200, np.uint8)
    result = train(preset, tmp_path / "one", max_steps=3, images=one, verbose=0, log=None)
    assert result.step == 3 and result.epoch == 3  # every step is one epoch of the one image
    assert np.isfinite(result.gan.generate(4)).all()


def test_a_unicode_run_folder_trains_resumes_and_samples(tmp_path, mnist_small):
    run = tmp_path / "läufe 🎨" / "первый"
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, checkpoint_every=2, sample_every=2,
                        sample_unit="step")
    train(preset, run, max_steps=2, images=mnist_small[0][:256], verbose=0, log=None)
    result = train(None, run, resume=True, max_steps=4, images=mnist_small[0][:256], verbose=0, log=None)
    assert result.step == 4 and (run / "checkpoints" / "ckpt-4.index").exists()
    assert sample(run, n=3).shape == (3, 28, 28)


# --- failures while saving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [tf.errors.ResourceExhaustedError(None, None, "No space left on device"),
                                   tf.errors.PermissionDeniedError(None, None, "Read-only file system")])
def test_disk_full_or_read_only_while_saving_keeps_the_last_checkpoint(tmp_path, mnist_small, monkeypatch, error):
    """A checkpoint write that fails (simulated: the manager's save raises what TensorFlow raises on a full
    disk or a read-only folder) stops the run with a clear error; the previous checkpoint stays usable."""
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, checkpoint_every=3, sample_every=10 ** 6,
                        sample_unit="step")
    real_save = tf.train.CheckpointManager.save
    saves = []

    def failing_save(self, checkpoint_number=None, **kwargs):
        saves.append(checkpoint_number)
        if len(saves) > 1:
            raise error
        return real_save(self, checkpoint_number=checkpoint_number, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", failing_save)
    run = tmp_path / "run"
    with pytest.raises(RunError, match=f"cannot write a checkpoint.*{error.message}.*ckpt-3, is intact"):
        train(preset, run, max_steps=20, images=mnist_small[0][:256], verbose=0, log=None)
    assert saves == [3, 6]
    assert json.loads((run / "run_state.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(tf.train.CheckpointManager, "save", real_save)
    result = train(None, run, resume=True, max_steps=8, images=mnist_small[0][:256], verbose=0, log=None)
    assert result.step == 8
    assert [int(r["step"]) for r in read_history(run / "history.csv")] == list(range(1, 9))


def _signal_while_registering(monkeypatch, signum, at_step):
    """Send ``signum`` to this process while the checkpoint of ``at_step`` is being registered: its files are
    written, its entry in checkpoints/checkpoint is not yet."""

    real = checkpoint_management.CheckpointManager._record_state
    sent = []

    def record_state(self):
        if not sent and self._latest_checkpoint and self._latest_checkpoint.endswith(f"ckpt-{at_step}"):
            sent.append(signum)
            os.kill(os.getpid(), signum)
        return real(self)

    monkeypatch.setattr(checkpoint_management.CheckpointManager, "_record_state", record_state)


def test_sigterm_during_a_checkpoint_write_finishes_it_then_stops_cleanly(tmp_path, mnist_small, monkeypatch):
    _signal_while_registering(monkeypatch, signal.SIGTERM, at_step=4)
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, checkpoint_every=4, sample_every=10 ** 6,
                        sample_unit="step")
    run = tmp_path / "run"
    result = train(preset, run, max_steps=100, images=mnist_small[0][:256], verbose=0, log=None)
    assert result.status == "interrupted" and result.reason == "received SIGTERM" and result.step == 4
    state = json.loads((run / "run_state.json").read_text())
    assert (state["status"], state["step"]) == ("interrupted", 4)
    assert "ckpt-4" in (run / "checkpoints" / "checkpoint").read_text()
    assert (run / "generator.keras").exists() and (run / "final_grid.png").exists()


def test_a_second_ctrl_c_during_the_final_checkpoint_interrupts_and_the_run_still_resumes(
        tmp_path, mnist_small, monkeypatch):

    class CtrlCAtStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.step == 5:
                os.kill(os.getpid(), signal.SIGINT)

    _signal_while_registering(monkeypatch, signal.SIGINT, at_step=5)  # the final save, after the first Ctrl-C
    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, checkpoint_every=2, sample_every=10 ** 6,
                        sample_unit="step")
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN when pytest runs in the background
    with pytest.raises(KeyboardInterrupt, match="second signal"):
        train(preset, run, max_steps=100, images=mnist_small[0][:256], verbose=0, log=None,
              callbacks=[CtrlCAtStep()])
    state = json.loads((run / "run_state.json").read_text())
    assert state["status"] == "interrupted" and "--resume" in state["reason"]
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    monkeypatch.undo()
    result = train(None, run, resume=True, max_steps=7, images=mnist_small[0][:256], verbose=0, log=None)
    assert result.step == 7
    assert [int(r["step"]) for r in read_history(run / "history.csv")] == list(range(1, 8))


@pytest.mark.parametrize("name", ["wgan_gp", "hinge"])
def test_wgan_gp_and_hinge_presets_train(tmp_path, name, mnist_small):
    preset = get_preset(name, batch_size=16)
    result = train(preset, tmp_path / name, max_steps=3, images=mnist_small[0][:128], verbose=0, log=None)
    assert result.step == 3
    assert int(result.gan.d_optimizer.iterations.numpy()) == 3 * preset.d_steps
    assert json.loads((tmp_path / name / "preset.json").read_text())["loss"] == preset.loss


def test_tensorboard_logs_losses_and_grids(tmp_path, mnist_small):
    run = tmp_path / "run"
    train(get_preset("fast_unconditional", batch_size=32, sample_every=5), run, max_steps=10, images=mnist_small[0][:512],
          verbose=0, log=None, tensorboard=True)
    tags = set()
    for event_file in (run / "tensorboard").glob("events.out.tfevents.*"):
        for event in summary_iterator(str(event_file)):
            tags |= {v.tag for v in event.summary.value}
    assert {"d_loss", "g_loss", "samples"} <= tags


def test_cgan_run_samples_by_label_and_grids_have_a_row_per_class(tmp_path, mnist_small):
    run = tmp_path / "run"
    result = train(get_preset("cgan", batch_size=32), run, max_steps=4, images=mnist_small, verbose=0, log=None)
    assert result.step == 4
    x3 = sample(run, n=6, seed=0, label=3)
    x4 = sample(run, n=6, seed=0, label=4)
    assert x3.shape == (6, 28, 28) and not np.array_equal(x3, x4)
    grid = Image.open(run / "generated_samples" / "step_000000.png")
    assert grid.size[1] / grid.size[0] == pytest.approx(10 / 8, rel=0.05)  # 10 rows (classes) × 8 columns
    assert main(["sample", str(run), "--label", "12", "--out", str(tmp_path / "x.npy")]) == 2


def test_a_run_stopped_by_a_callback_of_yours_says_so(tmp_path, mnist_small):
    class StopAtThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = self.model.step >= 3

    preset = get_preset("cs231n_dense", batch_size=32, noise_dim=16, sample_every=10 ** 6, sample_unit="step")
    result = train(preset, tmp_path / "run", images=mnist_small[0][:256], verbose=0, log=None,
                   callbacks=[StopAtThree()])
    assert (result.status, result.reason, result.step) == ("stopped", "a callback stopped training", 3)
    assert (tmp_path / "run" / "generator.keras").exists()
