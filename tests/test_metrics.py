"""Tests of gan_lab.metrics and gan_lab.classifier (real data via GAN_LAB_DATA_DIR, default ../shared/data)."""
from __future__ import annotations

import argparse
import csv
import json
import os
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("GAN_LAB_DATA_DIR", str(REPO.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gan_lab import classifier, metrics  # noqa: E402
from gan_lab.data import load_dataset  # noqa: E402
from gan_lab.metrics import MetricInputError  # noqa: E402

N = 2000  # moderate sample size keeps the file fast; the floor is taken at the same n


@pytest.fixture(scope="module")
def mnist_train():
    return load_dataset("mnist", "train")


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset("mnist", "test")


def _subset(images, n, seed):
    idx = np.random.default_rng(seed).choice(len(images), size=n, replace=False)
    return images[np.sort(idx)]


# ------------------------------------------------------------------------------------------------
# the classifier and its shipped weights
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset,min_acc", [("mnist", 0.99), ("fashion_mnist", 0.90)])
def test_shipped_weights_load_without_pickle_and_reach_the_accuracy(dataset, min_acc):
    path = classifier.weights_path(dataset)
    assert path.is_file() and path.stat().st_size < 3 * 1024 * 1024
    with np.load(path, allow_pickle=False) as npz:  # raises if anything in it needs pickle
        assert all(npz[k].dtype != object for k in npz.files)
    info = classifier.weights_info(dataset)
    assert info["test_accuracy"] >= min_acc and info["seed"] == classifier.DEFAULT_SEED
    # The model rebuilt in code from the .npz reproduces the recorded accuracy on the test split.
    images, labels = load_dataset(dataset, "test")
    feats, probs = classifier.classify(images.astype(np.float32) / 255.0, dataset)
    assert feats.shape == (10000, classifier.FEATURE_DIM) and probs.shape == (10000, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    acc = float((probs.argmax(axis=1) == labels).mean())
    assert acc >= min_acc
    assert acc == pytest.approx(info["test_accuracy"], abs=2e-3)


def test_corrupt_weights_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "w.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="corrupt"):
        classifier.load_weights_into(classifier.build_classifier(), bad)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{"w__conv1__0": np.zeros((5, 5, 1, 32), np.float32)})
    with pytest.raises(ValueError, match="shape"):
        classifier.load_weights_into(classifier.build_classifier(), wrong)


# ------------------------------------------------------------------------------------------------
# the metric formulas on small synthetic inputs
# ------------------------------------------------------------------------------------------------

def test_frechet_distance_matches_the_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    s1, s2 = np.diag([1.0, 2.0, 3.0, 4.0]), np.diag([4.0, 1.0, 0.5, 4.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(np.diag(s1) + np.diag(s2) - 2 * np.sqrt(np.diag(s1) * np.diag(s2)))
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    a = rng.normal(size=(6, 6))
    s = a @ a.T + np.eye(6)
    assert metrics.frechet_distance(mu1[:1].repeat(6), s, mu1[:1].repeat(6), s) == pytest.approx(0.0, abs=1e-6)


def test_sqrtm_fallback_without_scipy_agrees():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    s1, s2 = a @ a.T + 0.1 * np.eye(8), b @ b.T + 0.1 * np.eye(8)
    root = metrics._sqrtm_eig(s1 @ s2)
    np.testing.assert_allclose((root @ root).real, s1 @ s2, rtol=1e-6, atol=1e-8)
    assert np.trace(root).real == pytest.approx(np.trace(metrics._sqrtm(s1 @ s2)).real, rel=1e-8)


def test_frechet_distance_survives_singular_covariances():
    # Rank-deficient covariances (dead ReLU units, few samples): finite, non-negative result.
    rng = np.random.default_rng(2)
    f1 = np.zeros((5, 16))
    f1[:, :3] = rng.normal(size=(5, 3))
    f2 = np.zeros((5, 16))
    f2[:, 2:6] = rng.normal(size=(5, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = metrics.frechet_distance(*metrics.feature_stats(f1), *metrics.feature_stats(f2))
    assert np.isfinite(value) and value > 0


def test_classifier_score_and_mode_stats():
    eye = np.eye(10)
    balanced = np.tile(eye, (50, 1))
    assert metrics.classifier_score(balanced)[0] == pytest.approx(10.0, rel=1e-6)
    one = np.tile(eye[3], (500, 1))
    assert metrics.classifier_score(one)[0] == pytest.approx(1.0, rel=1e-6)
    assert metrics.classifier_score(np.full((500, 10), 0.1))[0] == pytest.approx(1.0, rel=1e-6)
    modes, kl, hist = metrics.mode_stats(balanced)
    assert modes == 10 and kl == pytest.approx(0.0, abs=1e-12)
    modes, kl, _ = metrics.mode_stats(one)
    assert modes == 1 and kl == pytest.approx(np.log(10))
    # 2% threshold: a class with 1% of the samples is not a mode, one with 3% is.
    labels = np.r_[np.zeros(96), [1], np.full(3, 2)].astype(int)
    assert metrics.mode_stats(eye[labels])[0] == 2


def _brute_prdc(real, fake, k_pr, k_dc):
    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    drr, dff, dfr = dist(real, real), dist(fake, fake), dist(fake, real)
    r_pr = np.sort(drr, axis=1)[:, k_pr]
    r_dc = np.sort(drr, axis=1)[:, k_dc]
    f_pr = np.sort(dff, axis=1)[:, k_pr]
    return {
        "precision": (dfr <= r_pr[None, :]).any(axis=1).mean(),
        "recall": (dfr <= f_pr[:, None]).any(axis=0).mean(),
        "density": (dfr <= r_dc[None, :]).sum() / (k_dc * len(fake)),
        "coverage": (dfr.min(axis=0) <= r_dc).mean(),
    }


def test_manifold_metrics_match_brute_force_and_chunking_changes_nothing(monkeypatch):
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 6))
    fake = rng.normal(loc=0.4, scale=1.3, size=(250, 6))
    expected = _brute_prdc(real, fake, 3, 5)
    got = metrics.manifold_metrics(real, fake)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 1000)  # ~3 rows per chunk
    chunked = metrics.manifold_metrics(real, fake)
    assert chunked == got
    # A fake set far from the real one: nothing precise, nothing recalled.
    far = metrics.manifold_metrics(real, fake + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


# ------------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------------

def test_accepted_formats_give_identical_images():
    rng = np.random.default_rng(4)
    u8 = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    unit = u8.astype(np.float32) / 255.0
    tanh = unit * 2.0 - 1.0
    ref = metrics.to_unit_images(u8)
    for variant in (unit, tanh, unit[..., None], tanh.reshape(20, 784), u8.reshape(20, 784),
                    unit.astype(np.float64), unit.astype(np.float16), list(unit)):
        np.testing.assert_allclose(metrics.to_unit_images(variant), ref, atol=1e-3)
    assert metrics.to_unit_images(u8).shape == (20, 28, 28)
    # Explicit value_range overrides the inference: [0, 1] data read as [-1, 1] maps to [0.5, 1].
    as_tanh = metrics.to_unit_images(unit, value_range="tanh")
    assert as_tanh.min() >= 0.5 and np.allclose(as_tanh, (unit + 1) / 2)
    # An all-[0, 1] tanh output (no negative values) is read as [0, 1] unless told otherwise.
    assert np.allclose(metrics.to_unit_images(unit, value_range="unit"), unit)


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
        metrics.evaluate(bad, "mnist", n=N)
    message = str(err.value)
    assert fragment in message
    assert "expected" in message  # every message says what was expected


def test_value_range_conflicts_and_bad_arguments_are_rejected():
    u8 = np.zeros((20, 28, 28), np.uint8)
    with pytest.raises(MetricInputError, match="uint8 but value_range='tanh'"):
        metrics.to_unit_images(u8, value_range="tanh")
    with pytest.raises(MetricInputError, match="needs a uint8 array"):
        metrics.to_unit_images(u8.astype(np.float32), value_range="uint8")
    with pytest.raises(MetricInputError, match="value_range='tanh'"):
        metrics.to_unit_images(np.full((20, 28, 28), -0.5, np.float32), value_range="unit")
    with pytest.raises(MetricInputError, match="unknown value_range"):
        metrics.to_unit_images(u8, value_range="0-255")
    with pytest.raises(MetricInputError, match="n must be an integer"):
        metrics.evaluate(u8, "mnist", n=3)
    with pytest.raises(ValueError, match="unknown dataset"):
        metrics.evaluate(u8, "cifar10")
    with pytest.raises(MetricInputError, match="integer dtype int32"):
        metrics.evaluate(np.full((20, 28, 28), 300, np.int32), "mnist")


# ------------------------------------------------------------------------------------------------
# behaviour on real data
# ------------------------------------------------------------------------------------------------

def test_test_set_against_itself_is_perfect(mnist_test):
    images, _ = mnist_test
    result = metrics.evaluate(images, "mnist", n=10000)
    assert set(result) == set(metrics.METRIC_KEYS)
    assert isinstance(result["modes"], int)
    assert result["fcd"] == pytest.approx(0.0, abs=1e-3)
    assert result["precision"] == 1.0 and result["recall"] == 1.0 and result["coverage"] == 1.0
    assert result["modes"] == 10 and result["class_kl"] < 0.01
    assert 9.5 < result["score"] <= 10.0


def test_real_floor_is_cached_and_a_fresh_train_subset_lands_near_it(mnist_train):
    floor = metrics.real_floor("mnist", N)
    hits = metrics._real_floor.cache_info().hits
    again = metrics.real_floor("mnist", N)
    assert metrics._real_floor.cache_info().hits == hits + 1  # served from the cache, not recomputed
    assert again == floor
    again["fcd"] = -1.0  # callers get a copy, the cache is untouched
    assert metrics.real_floor("mnist", N)["fcd"] == floor["fcd"]

    other = metrics.evaluate(_subset(mnist_train[0], N, seed=99), "mnist", n=N)
    assert other["fcd"] == pytest.approx(floor["fcd"], rel=0.5, abs=1.0)
    assert other["score"] == pytest.approx(floor["score"], abs=0.2)
    assert other["modes"] == 10 and other["class_kl"] < 0.02
    for key in ("precision", "recall", "density", "coverage"):
        assert other[key] == pytest.approx(floor[key], abs=0.05), key


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_uniform_noise_is_far_worse_than_the_floor_on_every_metric(dataset):
    floor = metrics.real_floor(dataset, N)
    result = metrics.evaluate(np.random.default_rng(5).random((N, 28, 28)), dataset, n=N)
    assert result["fcd"] > 100 * floor["fcd"] + 100
    assert result["score"] < 0.3 * floor["score"]
    assert result["modes"] <= 3 and result["class_kl"] > 1.0
    for key in ("precision", "recall", "density", "coverage"):
        assert result[key] < 0.05 * floor[key], key


def test_a_generator_collapsed_to_blank_images_is_caught():
    # All samples identical: k-NN precision can still be high when that one point falls inside a real
    # outlier's ball (a known limit of the metric); FCD, score, modes, recall and coverage catch it.
    floor = metrics.real_floor("mnist", N)
    result = metrics.evaluate(np.zeros((N, 28, 28), np.uint8), "mnist", n=N)
    assert result["fcd"] > 100 * floor["fcd"]
    assert result["score"] < 1.01 and result["modes"] == 1
    assert result["class_kl"] == pytest.approx(np.log(10))
    assert result["recall"] < 0.01 and result["coverage"] < 0.01


def test_a_single_class_is_one_mode_with_low_recall(mnist_train):
    images, labels = mnist_train
    threes = images[labels == 3][:N]
    floor = metrics.real_floor("mnist", N)
    result = metrics.evaluate(threes, "mnist", n=N)
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
    ladder = [metrics.evaluate(np.clip(base + rng.normal(0, sigma, base.shape), 0, 1), dataset, n=N)
              for sigma in (0.0, 0.2, 0.4, 0.6)]
    for worse, better in zip(ladder[1:], ladder[:-1]):
        assert worse["fcd"] > better["fcd"]
        assert worse["score"] < better["score"]
        for key in ("precision", "recall", "density", "coverage"):
            assert worse[key] < better[key] or worse[key] == better[key] == 0.0, key
        assert worse["modes"] <= better["modes"]
    assert ladder[-1]["fcd"] > 20 * ladder[0]["fcd"]


# ------------------------------------------------------------------------------------------------
# generators, callables, runs, files, CLI
# ------------------------------------------------------------------------------------------------

def _tiny_generator(noise_dim=8, activation="tanh"):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((noise_dim,)), keras.layers.Dense(784, activation=activation),
                             keras.layers.Reshape((28, 28, 1))])


def test_a_mixed_precision_generator_is_scored_in_float32():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        gen = _tiny_generator()
    finally:
        keras.config.set_dtype_policy("float32")
    raw = metrics.sample_generator(gen, 20, seed=3)
    assert raw.dtype == np.float32 and raw.shape == (20, 28, 28, 1)
    result = metrics.evaluate(gen, "mnist", n=200, output="tanh")
    assert result["modes"] >= 0 and np.isfinite(result["fcd"])


def test_keras_generator_and_callable_inputs(mnist_test):
    gen = _tiny_generator()
    a = metrics.evaluate(gen, "mnist", n=500)  # noise_dim read from input_shape, output range inferred
    b = metrics.evaluate(gen, "mnist", n=500, output="tanh", noise_dim=8)
    assert a == b  # same seed, same noise, same numbers
    assert a != metrics.evaluate(gen, "mnist", n=500, seed=1)
    raw = metrics.sample_generator(gen, 30, seed=3)
    assert raw.shape == (30, 28, 28, 1) and raw.min() >= -1 and raw.max() <= 1
    with pytest.raises(MetricInputError, match="noise_dim"):
        metrics.evaluate(gen, "mnist", n=500, noise_dim=0)

    images = mnist_test[0]
    calls = []

    def sampler(n):
        calls.append(n)
        return images[:n]

    via_callable = metrics.evaluate(sampler, "mnist", n=600)
    assert calls == [600]
    assert via_callable == metrics.evaluate(images[:600], "mnist", n=600)
    # A sampler of [0, 1] floats built from a generator, as QualityCallback expects.
    sample = metrics.make_sampler(gen, output="tanh")
    x = sample(40)
    assert x.shape == (40, 28, 28) and x.min() >= 0 and x.max() <= 1


def test_arrays_larger_than_n_use_a_seeded_subset_and_smaller_ones_warn(mnist_test):
    images = mnist_test[0]
    r1 = metrics.evaluate(images[:3000], "mnist", n=1000)
    assert r1 == metrics.evaluate(images[:3000], "mnist", n=1000)
    with pytest.warns(UserWarning, match="fewer than n"):
        metrics.evaluate(images[:100], "mnist", n=1000)


def test_format_table_lists_every_metric_with_the_floor():
    result = {k: 0.5 for k in metrics.METRIC_KEYS} | {"modes": 9}
    floor = {k: 0.25 for k in metrics.METRIC_KEYS} | {"modes": 10}
    text = metrics.format_table(result, floor)
    lines = text.splitlines()
    assert "real floor" in lines[0] and len(lines) == 2 + len(metrics.METRIC_KEYS)
    for key, line in zip(metrics.METRIC_KEYS, lines[2:]):
        assert line.split()[0] == key
    assert lines[2 + metrics.METRIC_KEYS.index("modes")].split()[1:3] == ["9", "10"]
    assert "real floor" not in metrics.format_table(result)


def _make_run(tmp_path, dataset="mnist", output="tanh"):
    run = tmp_path / "run"
    run.mkdir()
    _tiny_generator(activation="tanh" if output == "tanh" else "sigmoid").save(run / "generator.keras")
    (run / "preset.json").write_text(json.dumps({"dataset": dataset, "noise_dim": 8, "output": output}))
    return run


def test_evaluate_run_writes_metrics_json(tmp_path):
    run = _make_run(tmp_path, output="sigmoid")
    payload = metrics.evaluate_run(run, n=500)
    written = json.loads((run / "metrics.json").read_text())
    assert written["n"] == 500 and written["dataset"] == "mnist"
    assert set(written["result"]) == set(metrics.METRIC_KEYS) == set(written["floor"])
    assert written["result"] == payload["result"]
    assert written["floor"] == metrics.real_floor("mnist", 500)
    (run / "preset.json").unlink()
    with pytest.raises(ValueError, match="missing preset.json"):
        metrics.evaluate_run(run, n=500)


def test_cli_evaluate_on_a_run_folder_and_a_npy_file(tmp_path, capsys, mnist_test):
    parser = argparse.ArgumentParser(prog="gan_lab")
    metrics.add_evaluate_parser(parser.add_subparsers(dest="command"))

    run = _make_run(tmp_path)
    args = parser.parse_args(["evaluate", str(run), "--n", "500"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "real floor" in out and "precision" in out and "metrics.json" in out
    assert json.loads((run / "metrics.json").read_text())["n"] == 500

    npy = tmp_path / "samples.npy"
    np.save(npy, mnist_test[0][:700])
    args = parser.parse_args(["evaluate", str(npy), "--dataset", "mnist", "--n", "10000"])
    assert metrics.run_evaluate_command(args) == 0
    written = json.loads((tmp_path / "samples.metrics.json").read_text())
    assert written["n"] == 700  # fewer images than --n: all are used, the floor matches
    assert written["floor"] == metrics.real_floor("mnist", 700)

    with pytest.raises(ValueError, match="--dataset"):
        metrics.run_evaluate_command(parser.parse_args(["evaluate", str(npy)]))
    with pytest.raises(ValueError, match="no such run folder"):
        metrics.run_evaluate_command(parser.parse_args(["evaluate", str(tmp_path / "nope")]))
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object))  # np.save pickles object arrays by default
    with pytest.raises(ValueError, match="without pickle"):
        metrics.evaluate_file(pickled, "mnist")


# ------------------------------------------------------------------------------------------------
# the training callback
# ------------------------------------------------------------------------------------------------

def _toy_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_quality_callback_every_epoch_excludes_its_own_time(tmp_path, mnist_test):
    images = mnist_test[0]

    def slow_sampler(n):
        time.sleep(1.0)  # scoring costs time, which must not count as training time
        return images[:n].astype(np.float32) / 255.0

    cb = metrics.QualityCallback(slow_sampler, "mnist", tmp_path / "q", every_epochs=1, n=400, verbose=False)
    x, y = np.ones((64, 4), np.float32), np.ones((64, 1), np.float32)
    start = time.perf_counter()
    _toy_model().fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[cb])
    wall = time.perf_counter() - start
    with open(tmp_path / "q" / "quality.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [2, 4, 6] and [float(r["epoch"]) for r in rows] == [1, 2, 3]
    assert list(rows[0]) == list(metrics.QualityCallback.COLUMNS)
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds)
    assert seconds[-1] < wall - 2.5  # three 1-second scorings excluded
    assert all(float(r["eval_seconds"]) >= 1.0 for r in rows)
    assert (tmp_path / "q" / "quality.png").stat().st_size > 1000
    assert float(rows[0]["precision"]) > 0.5 and int(rows[0]["modes"]) == 10

    row = cb.score_now(step=99, epoch=3)  # outside fit too
    assert row["step"] == 99
    with open(tmp_path / "q" / "quality.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_quality_callback_every_seconds_and_append(tmp_path, mnist_test):
    images = mnist_test[0]
    cb = metrics.QualityCallback(lambda n: images[:n], "mnist", tmp_path, every_seconds=1e-6, n=300,
                                 final=False, verbose=False)
    x, y = np.ones((96, 4), np.float32), np.ones((96, 1), np.float32)
    _toy_model().fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    assert [r["step"] for r in cb.rows] == [1, 2, 3]
    assert [round(r["epoch"], 3) for r in cb.rows] == [0.333, 0.667, 1.0]
    resumed = metrics.QualityCallback(lambda n: images[:n], "mnist", tmp_path, n=300, append=True,
                                      verbose=False)
    resumed.score_now(step=10, epoch=2)
    with open(tmp_path / "quality.csv", newline="") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [1, 2, 3, 10]
    with pytest.raises(ValueError, match="every_seconds"):
        metrics.QualityCallback(lambda n: images[:n], "mnist", tmp_path, every_seconds=0)
