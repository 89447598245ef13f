"""Tests of gan_lab.evaluation (real data via GAN_LAB_DATA_DIR, default ../shared/data)."""
from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest

from gan_lab import classifier, evaluation, sampling
from gan_lab.data import load_dataset, make_dataset
from gan_lab.evaluation import MetricInputError
from gan_lab.presets import Preset
from gan_lab.runs import RunError
from gan_lab.cli import build_parser
from gan_lab.gan import GAN

N = 2000  # moderate sample size keeps the file fast; the floor is taken at the same n


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset("mnist", "test")


def _subset(images, n, seed):
    idx = np.random.default_rng(seed).choice(len(images), size=n, replace=False)
    return images[np.sort(idx)]


# ------------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------------

def test_accepted_formats_give_identical_images():
    rng = np.random.default_rng(4)
    u8 = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    unit = u8.astype(np.float32) / 255.0
    tanh = unit * 2.0 - 1.0
    ref = evaluation.to_unit_images(u8)
    assert ref.shape == (20, 28, 28) and ref.dtype == np.float32
    np.testing.assert_array_equal(ref, unit)
    for variant in (unit, tanh, unit[..., None], tanh.reshape(20, 784), u8.reshape(20, 784),
                    unit.astype(np.float64), unit.astype(np.float16), list(unit)):
        np.testing.assert_allclose(evaluation.to_unit_images(variant), ref, atol=1e-3)
    # Explicit value_range overrides the inference: [0, 1] data read as [-1, 1] maps to [0.5, 1].
    np.testing.assert_allclose(evaluation.to_unit_images(unit, value_range="tanh"), (unit + 1) / 2)
    # An all-[0, 1] tanh output (no negative values) is read as [0, 1] unless told otherwise.
    np.testing.assert_allclose(evaluation.to_unit_images(unit, value_range="unit"), unit)
    np.testing.assert_allclose(evaluation.to_unit_images(unit, value_range="sigmoid"), unit)


@pytest.mark.parametrize("bad,fragment", [
    (np.zeros((100, 32, 32), np.float32), "shape (100, 32, 32)"),
    (np.zeros((28, 28), np.float32), "single image"),
    (np.zeros((100, 1, 28, 28), np.float32), "channels-first"),
    (np.zeros((100, 28, 28, 3), np.float32), "3 channels"),
    (np.zeros((100, 783), np.float32), "shape (100, 783)"),
    (np.zeros((5, 28, 28), np.uint8), "at least 10"),
    (np.zeros((100, 28, 28), np.int64), "astype(np.uint8)"),
    (np.zeros((100, 28, 28), bool), "dtype bool"),
    (np.zeros((100, 28, 28), np.complex64), "dtype complex64"),
    (np.full((100, 28, 28), np.nan, np.float32), "NaN"),
    (np.full((100, 28, 28), 200.0, np.float32), "0-255 pixel values"),
    (np.full((100, 28, 28), -3.0, np.float32), "outside"),
    ("images.npy", "must be an array"),
    (None, "must be an array"),
])
def test_bad_inputs_are_rejected_with_a_clear_message(bad, fragment):
    with pytest.raises(MetricInputError) as err:
        evaluation.evaluate(bad, "mnist", n=N)
    message = str(err.value)
    assert fragment in message
    assert "expected" in message  # every message says what was expected


def test_value_range_conflicts_and_bad_arguments_are_rejected():
    u8 = np.zeros((20, 28, 28), np.uint8)
    with pytest.raises(MetricInputError, match="uint8 but value_range='tanh'"):
        evaluation.to_unit_images(u8, value_range="tanh")
    with pytest.raises(MetricInputError, match="needs a uint8 array"):
        evaluation.to_unit_images(u8.astype(np.float32), value_range="uint8")
    with pytest.raises(MetricInputError, match="value_range='tanh'"):
        evaluation.to_unit_images(np.full((20, 28, 28), -0.5, np.float32), value_range="unit")
    with pytest.raises(MetricInputError, match="unknown value_range"):
        evaluation.to_unit_images(u8, value_range="0-255")
    with pytest.raises(MetricInputError, match="n must be an integer"):
        evaluation.evaluate(u8, "mnist", n=3)
    with pytest.raises(ValueError, match="unknown dataset"):
        evaluation.evaluate(u8, "imagenet")
    with pytest.raises(MetricInputError, match="integer dtype int32"):
        evaluation.evaluate(np.full((20, 28, 28), 300, np.int32), "mnist")
    with pytest.raises(MetricInputError, match="n must be an integer"):
        evaluation.real_floor("mnist", n=True)


# ------------------------------------------------------------------------------------------------
# behaviour on real data
# ------------------------------------------------------------------------------------------------

def test_test_set_against_itself_is_perfect(mnist_test):
    images, _ = mnist_test
    result = evaluation.evaluate(images, "mnist", n=10000)
    assert set(result) == set(evaluation.METRIC_KEYS)
    assert isinstance(result["modes"], int)
    assert result["fcd"] == pytest.approx(0.0, abs=1e-3)
    assert result["precision"] == 1.0 and result["recall"] == 1.0 and result["coverage"] == 1.0
    assert result["modes"] == 10 and result["class_kl"] < 0.01
    assert 9.5 < result["score"] <= 10.0


def test_real_floor_is_cached_and_a_fresh_train_subset_lands_near_it(mnist_train):
    floor = evaluation.real_floor("mnist", N)
    hits = evaluation._real_floor.cache_info().hits
    again = evaluation.real_floor("mnist", N)
    assert evaluation._real_floor.cache_info().hits == hits + 1  # served from the cache, not recomputed
    assert again == floor
    again["fcd"] = -1.0  # callers get a copy, the cache is untouched
    assert evaluation.real_floor("mnist", N)["fcd"] == floor["fcd"]

    other = evaluation.evaluate(_subset(mnist_train[0], N, seed=99), "mnist", n=N)
    assert other["fcd"] == pytest.approx(floor["fcd"], rel=0.5, abs=1.0)
    assert other["score"] == pytest.approx(floor["score"], abs=0.2)
    assert other["modes"] == 10 and other["class_kl"] < 0.02
    for key in ("precision", "recall", "density", "coverage"):
        assert other[key] == pytest.approx(floor[key], abs=0.05), key


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_uniform_noise_is_far_worse_than_the_floor_on_every_metric(dataset):
    floor = evaluation.real_floor(dataset, N)
    result = evaluation.evaluate(np.random.default_rng(5).random((N, 28, 28)), dataset, n=N)
    assert result["fcd"] > 100 * floor["fcd"] + 100
    assert result["score"] < 0.3 * floor["score"]
    assert result["modes"] <= 3 and result["class_kl"] > 1.0
    for key in ("precision", "recall", "density", "coverage"):
        assert result[key] < 0.05 * floor[key], key


def test_a_generator_collapsed_to_blank_images_is_caught():
    # All samples identical: k-NN precision can still be high when that one point falls inside a real
    # outlier's ball (a known limit of the metric); FCD, score, modes, recall and coverage catch it.
    floor = evaluation.real_floor("mnist", N)
    result = evaluation.evaluate(np.zeros((N, 28, 28), np.uint8), "mnist", n=N)
    assert result["fcd"] > 100 * floor["fcd"]
    assert result["score"] < 1.01 and result["modes"] == 1
    assert result["class_kl"] == pytest.approx(np.log(10))
    assert result["recall"] < 0.01 and result["coverage"] < 0.01


def test_a_single_class_is_one_mode_with_low_recall(mnist_train):
    images, labels = mnist_train
    threes = images[labels == 3][:N]
    floor = evaluation.real_floor("mnist", N)
    result = evaluation.evaluate(threes, "mnist", n=N)
    assert 1 <= result["modes"] <= 2
    assert result["class_kl"] > 1.5
    assert result["score"] < 1.5
    # Recall / coverage can only reach the share of real images that are 3s (about 10%).
    assert result["recall"] < 0.2 and result["recall"] < floor["recall"] / 4
    assert result["coverage"] < 0.2
    assert result["fcd"] > 50 * floor["fcd"]


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_metrics_are_monotone_on_a_ladder_of_noisier_real_images(dataset):
    images, _ = load_dataset(dataset, "train")
    base = _subset(images, N, seed=7).astype(np.float32) / 255.0
    rng = np.random.default_rng(8)
    ladder = [evaluation.evaluate(np.clip(base + rng.normal(0, sigma, base.shape), 0, 1), dataset, n=N)
              for sigma in (0.0, 0.2, 0.4, 0.6)]
    for worse, better in zip(ladder[1:], ladder[:-1]):
        assert worse["fcd"] > better["fcd"]
        assert worse["score"] < better["score"]
        for key in ("precision", "recall", "density", "coverage"):
            assert worse[key] < better[key] or worse[key] == better[key] == 0.0, key
        assert worse["modes"] <= better["modes"]
    assert ladder[-1]["fcd"] > 20 * ladder[0]["fcd"]


def test_image_features_validate_and_classify(mnist_test):
    images, labels = mnist_test
    feats, probs = evaluation.image_features(images[:200], "mnist")  # uint8 in, validated and scaled
    assert feats.shape == (200, classifier.FEATURE_DIM) and probs.shape == (200, 10)
    assert (probs.argmax(axis=1) == labels[:200]).mean() > 0.97
    with pytest.raises(MetricInputError, match="channels-first"):
        evaluation.image_features(np.zeros((20, 1, 28, 28), np.float32), "mnist")


# ------------------------------------------------------------------------------------------------
# generators and callables
# ------------------------------------------------------------------------------------------------

def _tiny_generator(noise_dim=8, activation="tanh"):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((noise_dim,)), keras.layers.Dense(784, activation=activation),
                             keras.layers.Reshape((28, 28, 1))])


def _exemplar_generator(mnist_test, classes):
    """A conditional generator [noise, label] -> a real test image of class ``classes[label]`` in [-1, 1]."""
    images, labels = mnist_test
    exemplars = np.stack([images[labels == c][0] for c in classes]).astype(np.float32) / 127.5 - 1.0
    noise, label = keras.Input((8,)), keras.Input((1,), dtype="int32")
    table = keras.layers.Embedding(10, 784, embeddings_initializer=keras.initializers.Constant(
        exemplars.reshape(10, 784)))(label)
    ignored = keras.layers.Dense(784, kernel_initializer="zeros", use_bias=False)(noise)
    out = keras.layers.Add()([keras.layers.Reshape((784,))(table), ignored])
    return keras.Model([noise, label], keras.layers.Reshape((28, 28, 1))(out))


def test_a_mixed_precision_generator_is_scored_in_float32():
    reference = _tiny_generator()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        gen = _tiny_generator()
    finally:
        keras.config.set_dtype_policy("float32")
    gen.set_weights(reference.get_weights())
    assert gen(np.zeros((1, 8), np.float32)).dtype == "bfloat16"
    result = evaluation.evaluate(gen, "mnist", n=200, output="tanh")
    expected = evaluation.evaluate(reference, "mnist", n=200, output="tanh")
    assert result["modes"] == expected["modes"]
    assert result["fcd"] == pytest.approx(expected["fcd"], rel=1e-3)  # bf16 rounding of the pixels only


def test_keras_generators_are_sampled_through_gan_lab_sampling():
    gen = _tiny_generator()
    a = evaluation.evaluate(gen, "mnist", n=500, seed=3)  # noise_dim read from the generator, output inferred
    assert a == evaluation.evaluate(gen, "mnist", n=500, output="tanh", noise_dim=8, seed=3)
    # the same numbers as the images sampling.sample draws with that seed
    assert a == evaluation.evaluate(sampling.sample(gen, 500, seed=3, output="tanh"), "mnist", n=None)
    assert a != evaluation.evaluate(gen, "mnist", n=500, seed=1)
    with pytest.raises(MetricInputError, match="noise_dim must be a positive integer"):
        evaluation.evaluate(gen, "mnist", n=500, noise_dim=0)
    with pytest.raises(MetricInputError, match="either output= or value_range="):
        evaluation.evaluate(gen, "mnist", n=500, output="tanh", value_range="tanh")


def test_a_conditional_generator_is_scored_on_balanced_labels(mnist_test):
    gen = _exemplar_generator(mnist_test, range(10))
    result = evaluation.evaluate(gen, "mnist", n=200, output="tanh")
    assert result["modes"] == 10 and result["class_kl"] == pytest.approx(0.0, abs=1e-12)  # 20 of each label


def test_conditional_accuracy_is_per_requested_label(mnist_test):
    right = evaluation.conditional_accuracy(_exemplar_generator(mnist_test, range(10)), "mnist", n_per_class=20)
    assert right == {"accuracy": 1.0, "per_class": [1.0] * 10}
    swapped = [0, 1, 2, 5, 4, 3, 6, 7, 8, 9]  # asked for a 3 it draws a 5, and the other way round
    got = evaluation.conditional_accuracy(_exemplar_generator(mnist_test, swapped), "mnist", n_per_class=20)
    assert got["per_class"] == [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert got["accuracy"] == pytest.approx(0.8)
    with pytest.raises(MetricInputError, match="conditional generator"):
        evaluation.conditional_accuracy(_tiny_generator(), "mnist")


def test_callables_and_arrays_larger_or_smaller_than_n(mnist_test):
    images = mnist_test[0]
    calls = []

    def sampler(n):
        calls.append(n)
        return images[:n]

    assert evaluation.evaluate(sampler, "mnist", n=600) == evaluation.evaluate(images[:600], "mnist", n=600)
    assert calls == [600]
    with pytest.raises(MetricInputError, match="must take the number of images"):
        evaluation.evaluate(lambda: images, "mnist", n=600)
    with pytest.warns(UserWarning, match="returned 100 images for n=600"):
        evaluation.evaluate(lambda n: images[:100], "mnist", n=600)
    # more images than n: a seeded random subset, the same for the same seed, another for another seed
    r1 = evaluation.evaluate(images[:3000], "mnist", n=1000)
    assert r1 == evaluation.evaluate(images[:3000], "mnist", n=1000)
    assert r1 != evaluation.evaluate(images[:3000], "mnist", n=1000, seed=1)
    with pytest.warns(UserWarning, match="fewer than n"):
        evaluation.evaluate(images[:100], "mnist", n=1000)


def test_format_table_lists_every_metric_with_the_floor():
    result = {k: 0.5 for k in evaluation.METRIC_KEYS} | {"modes": 9, "fcd": 1234.5678}
    floor = {k: 0.25 for k in evaluation.METRIC_KEYS} | {"modes": 10}
    text = evaluation.format_table(result, floor)
    lines = text.splitlines()
    assert "real floor" in lines[0] and len(lines) == 2 + len(evaluation.METRIC_KEYS)
    for key, line in zip(evaluation.METRIC_KEYS, lines[2:]):
        assert line.split()[0] == key
    assert lines[2 + evaluation.METRIC_KEYS.index("modes")].split()[1:4] == ["9", "10", "higher"]
    assert lines[2 + evaluation.METRIC_KEYS.index("fcd")].split()[1:4] == ["1234.6", "0.250", "lower"]
    assert "real floor" not in evaluation.format_table(result)


# ------------------------------------------------------------------------------------------------
# runs, files, CLI
# ------------------------------------------------------------------------------------------------

def _make_run(tmp_path, dataset="mnist", output="tanh"):
    run = tmp_path / "run"
    run.mkdir()
    _tiny_generator(activation="tanh" if output == "tanh" else "sigmoid").save(run / "generator.keras")
    (run / "preset.json").write_text(Preset(dataset=dataset, noise_dim=8, output=output).to_json())
    return run


def test_evaluate_run_reads_the_run_through_load_generator_and_writes_metrics_json(tmp_path):
    run = _make_run(tmp_path, output="sigmoid")
    payload = evaluation.evaluate_run(run, n=500)
    written = json.loads((run / "metrics.json").read_text())
    assert sorted(p.name for p in run.iterdir()) == ["generator.keras", "metrics.json", "preset.json"]  # no temp
    assert written["n"] == 500 and written["dataset"] == "mnist" and written["source"] == str(run)
    assert set(written["result"]) == set(evaluation.METRIC_KEYS) == set(written["floor"])
    assert written["result"] == payload["result"]
    assert written["floor"] == evaluation.real_floor("mnist", 500)
    assert "conditional_accuracy" not in written  # an unconditional generator
    # the samples are read in the preset's output range: sigmoid, [0, 1]
    gen = keras.saving.load_model(run / "generator.keras")
    assert written["result"] == evaluation.evaluate(gen, "mnist", n=500, output="sigmoid")
    assert written["result"] != evaluation.evaluate(gen, "mnist", n=500, output="tanh")

    other = evaluation.evaluate_run(run, n=500, dataset="fashion-mnist", out=tmp_path / "elsewhere" / "m.json")
    assert other["dataset"] == "fashion_mnist" and other["path"] == str(tmp_path / "elsewhere" / "m.json")
    assert json.loads((tmp_path / "elsewhere" / "m.json").read_text())["floor"] == \
        evaluation.real_floor("fashion_mnist", 500)


def test_evaluate_run_refuses_broken_runs_with_run_errors(tmp_path):
    run = _make_run(tmp_path)
    (run / "preset.json").write_text(Preset(noise_dim=16).to_json())
    with pytest.raises(RunError, match="does not belong to this run"):
        evaluation.evaluate_run(run, n=500)
    (run / "generator.keras").unlink()
    with pytest.raises(RunError, match="no generator.keras"):
        evaluation.evaluate_run(run, n=500)
    (run / "preset.json").unlink()
    with pytest.raises(RunError, match="no preset.json"):
        evaluation.evaluate_run(run, n=500)
    with pytest.raises(RunError, match="does not exist"):
        evaluation.evaluate_run(tmp_path / "nope", n=500)


def test_cli_evaluate_on_a_run_folder_and_a_npy_file(tmp_path, capsys, mnist_test):
    parser = build_parser()
    run = _make_run(tmp_path)
    args = parser.parse_args(["evaluate", str(run), "--n", "500"])
    assert args.handler == "gan_lab.evaluation:run_evaluate_command"
    assert evaluation.run_evaluate_command(args) == 0
    out = capsys.readouterr().out
    assert "real floor" in out and "precision" in out and "metrics.json" in out
    assert json.loads((run / "metrics.json").read_text())["n"] == 500

    npy = tmp_path / "samples.npy"
    np.save(npy, mnist_test[0][:700])
    args = parser.parse_args(["evaluate", str(npy), "--dataset", "mnist", "--n", "10000"])
    assert evaluation.run_evaluate_command(args) == 0
    written = json.loads((tmp_path / "samples.metrics.json").read_text())
    assert written["n"] == 700  # fewer images than --n: all are used, the floor matches
    assert written["floor"] == evaluation.real_floor("mnist", 700)

    with pytest.raises(ValueError, match="--dataset"):
        evaluation.run_evaluate_command(parser.parse_args(["evaluate", str(npy)]))
    with pytest.raises(ValueError, match="no such run folder"):
        evaluation.run_evaluate_command(parser.parse_args(["evaluate", str(tmp_path / "nope")]))
    text = tmp_path / "notes.txt"
    text.write_text("not images")
    with pytest.raises(ValueError, match="expected a run folder"):
        evaluation.run_evaluate_command(parser.parse_args(["evaluate", str(text)]))
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object))  # np.save pickles object arrays by default
    with pytest.raises(ValueError, match="without pickle"):
        evaluation.evaluate_file(pickled, "mnist")


# ------------------------------------------------------------------------------------------------
# the training callback, driven by a fake clock
# ------------------------------------------------------------------------------------------------

class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float):
        self.now += seconds


class Tick(keras.callbacks.Callback):
    """Every training batch costs ``seconds`` on the fake clock (listed before the QualityCallback)."""

    def __init__(self, clock: FakeClock, seconds: float):
        super().__init__()
        self.clock, self.seconds, self.batches = clock, seconds, 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        self.clock.advance(self.seconds)


def _toy_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _fit(model, callbacks, batches_per_epoch, epochs=1):
    x = np.ones((32 * batches_per_epoch, 4), np.float32)
    model.fit(x, x[:, :1], epochs=epochs, batch_size=32, verbose=0, callbacks=callbacks)


def _csv_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_quality_callback_every_epoch_excludes_its_own_time(tmp_path, mnist_test):
    clock = FakeClock()
    images = mnist_test[0]

    def slow_sampler(n):
        clock.advance(10.0)  # scoring costs time, which must not count as training time
        return images[:n].astype(np.float32) / 255.0

    cb = evaluation.QualityCallback(slow_sampler, "mnist", tmp_path / "q", every_epochs=1, n=400, verbose=False,
                                    clock=clock)
    clock.advance(100.0)  # time before fit() is not training time either
    _fit(_toy_model(), [Tick(clock, 0.5), cb], batches_per_epoch=2, epochs=3)
    rows = _csv_rows(tmp_path / "q" / "quality.csv")
    assert list(rows[0]) == list(evaluation.QualityCallback.COLUMNS)
    assert [int(r["step"]) for r in rows] == [2, 4, 6] and [float(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["seconds"]) for r in rows] == [1.0, 2.0, 3.0]  # 2 batches of 0.5 s per epoch
    assert [float(r["eval_seconds"]) for r in rows] == [10.0, 10.0, 10.0]
    assert cb.elapsed() == 3.0
    assert (tmp_path / "q" / "quality.png").stat().st_size > 1000
    assert float(rows[0]["precision"]) > 0.5 and int(rows[0]["modes"]) == 10
    assert cb.floor == evaluation.real_floor("mnist", 400)

    row = cb.score_now(step=99, epoch=3)  # outside fit too
    assert row["step"] == 99 and row["seconds"] == 3.0
    assert len(_csv_rows(tmp_path / "q" / "quality.csv")) == 4


def test_quality_callback_every_seconds_and_append(tmp_path, mnist_test):
    clock = FakeClock()
    images = mnist_test[0]
    cb = evaluation.QualityCallback(lambda n: images[:n], "mnist", tmp_path, every_seconds=1.0, n=300,
                                    final=False, verbose=False, clock=clock)
    _fit(_toy_model(), [Tick(clock, 0.4), cb], batches_per_epoch=6)
    # 0.4 s per batch: 1.2 s after batch 3 (>= 1 s since the start), 2.4 s after batch 6 (1.2 s later)
    assert [r["step"] for r in cb.rows] == [3, 6]
    assert [r["seconds"] for r in cb.rows] == [1.2, 2.4]
    assert [r["epoch"] for r in cb.rows] == [0.5, 1.0]
    resumed = evaluation.QualityCallback(lambda n: images[:n], "mnist", tmp_path, n=300, append=True,
                                         verbose=False, clock=clock)
    clock.advance(5.0)
    resumed.score_now(step=10, epoch=2)
    rows = _csv_rows(tmp_path / "quality.csv")
    assert [int(r["step"]) for r in rows] == [3, 6, 10]
    assert [float(r["seconds"]) for r in rows] == [1.2, 2.4, 7.4]  # continues from the last row's time
    fresh = evaluation.QualityCallback(lambda n: images[:n], "mnist", tmp_path, n=300, verbose=False, clock=clock)
    fresh.score_now(step=1)
    assert [int(r["step"]) for r in _csv_rows(tmp_path / "quality.csv")] == [1]  # without append: a new file


def test_quality_callback_scores_at_step_and_time_marks_then_stops(tmp_path, monkeypatch, mnist_test):
    clock = FakeClock()
    images = mnist_test[0]
    seen = []
    monkeypatch.chdir(tmp_path)
    cb = evaluation.QualityCallback(lambda n: images[:n], "mnist", out_dir=None, at_steps=[5, 2],
                                    at_seconds=[1.0], stop_after_marks=True, n=300, verbose=False,
                                    on_score=seen.append, clock=clock)
    assert cb.every_epochs is None  # marks replace the every-epoch default
    tick = Tick(clock, 0.3)
    _fit(_toy_model(), [tick, cb], batches_per_epoch=10, epochs=5)
    # step 2 (0.6 s), step 4 (1.2 s: the 1 s mark), step 5; then training stops
    assert [r["step"] for r in cb.rows] == [2, 4, 5]
    assert [r["seconds"] for r in cb.rows] == [0.6, 1.2, 1.5]
    assert tick.batches == 5 and seen == cb.rows
    assert list(tmp_path.iterdir()) == []  # out_dir=None writes nothing


def test_quality_callback_samples_the_trained_gan_with_fixed_noise(mnist_test):
    keras.utils.set_random_seed(0)
    generator = _tiny_generator()
    discriminator = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = GAN(generator, discriminator, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3), loss="bce")
    real = make_dataset(mnist_test[0][:128], batch_size=64, output="tanh")
    clock = FakeClock()
    cb = evaluation.QualityCallback(dataset="mnist", out_dir=None, at_steps=[1], n=300, output="tanh", seed=3,
                                    verbose=False, clock=clock)
    gan.fit(real, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
    assert [r["step"] for r in cb.rows] == [1, 2]  # the mark, then the final score
    final = {k: cb.rows[-1][k] for k in evaluation.METRIC_KEYS}
    assert final == evaluation.evaluate(sampling.sample(gan.sampler, 300, seed=3, output="tanh"), "mnist", n=None)
    # the step is the GAN's global step: a second fit continues from 2
    again = evaluation.QualityCallback(dataset="mnist", out_dir=None, at_steps=[3], n=300, final=False,
                                       verbose=False, clock=clock)
    gan.fit(real, epochs=1, shuffle=False, verbose=0, callbacks=[again])
    assert [r["step"] for r in again.rows] == [3]
    # a model without a generator to sample cannot be scored without a sample_fn
    plain = evaluation.QualityCallback(dataset="mnist", out_dir=None, n=300, verbose=False, clock=clock)
    with pytest.raises(ValueError, match="pass sample_fn"):
        _fit(_toy_model(), [plain], batches_per_epoch=1)


def test_quality_callback_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="every_seconds"):
        evaluation.QualityCallback(lambda n: None, "mnist", tmp_path, every_seconds=0)
    with pytest.raises(ValueError, match="every_epochs"):
        evaluation.QualityCallback(lambda n: None, "mnist", tmp_path, every_epochs=0)
    with pytest.raises(ValueError, match="at_steps must all be > 0"):
        evaluation.QualityCallback(lambda n: None, "mnist", tmp_path, at_steps=[0, 10])
    with pytest.raises(ValueError, match="needs at_steps or at_seconds"):
        evaluation.QualityCallback(lambda n: None, "mnist", tmp_path, stop_after_marks=True)
    with pytest.raises(ValueError, match="sample_fn must be a callable"):
        evaluation.QualityCallback(np.zeros((10, 28, 28)), "mnist", tmp_path)
    with pytest.raises(ValueError, match="output = 'relu' is invalid"):
        evaluation.QualityCallback(dataset="mnist", out_dir=tmp_path, output="relu")
