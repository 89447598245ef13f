"""Metrics on any data: the offline random-feature scores validated like the FCD (floor, noise, shuffled pixels,
a ladder of blur, a briefly trained model between), KID maths, InceptionV3 only when present, the CLI."""
import json

import numpy as np
import pytest
from PIL import Image, ImageFilter

from conftest import DATA_DIR
from gan_lab import embeddings, evaluation
from gan_lab.cli import main
from gan_lab.metrics import kernel_distance
from gan_lab.presets import get_preset
from gan_lab.train import train

EMOJI = f"folder:{DATA_DIR / 'emoji-64'}"
SHAPE = (32, 32, 3)


@pytest.fixture(scope="module")
def pool():
    """The real pictures the floor is drawn from (disjoint from the reference half), 32×32."""
    return evaluation.picture_reference(EMOJI, SHAPE).pool


def test_kernel_distance_is_unbiased_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    same, _ = kernel_distance(a, b, subsets=20, subset_size=200)
    shifted, _ = kernel_distance(a, b + 0.5, subsets=20, subset_size=200)
    assert abs(same) < 0.01 and shifted > 0.1
    # by hand, one subset of everything: k(x, y) = (x·y/d + 1)^3
    x, y = np.array([[1.0], [0.0]]), np.array([[2.0], [1.0]])
    k = lambda u, v: (u @ v.T + 1) ** 3
    expect = (k(x, x).sum() - np.trace(k(x, x)) + k(y, y).sum() - np.trace(k(y, y))) / 2 - 2 * k(x, y).sum() / 4
    assert kernel_distance(x, y, subsets=1)[0] == pytest.approx(expect)
    with pytest.raises(ValueError, match="same D"):
        kernel_distance(a, b[:, :3])


def test_random_features_are_fixed_and_need_no_download():
    x = np.random.default_rng(1).uniform(0, 1, (12, 32, 32, 3)).astype(np.float32)
    f1, f2 = embeddings.random_features(x), embeddings.random_features(x)
    assert f1.shape == (12, 960) and np.array_equal(f1, f2)
    gray = embeddings.random_features(x[..., :1])
    np.testing.assert_allclose(gray, embeddings.random_features(np.repeat(x[..., :1], 3, axis=-1)), rtol=1e-5)


def test_random_feature_metrics_floor_noise_shuffled_and_a_blur_ladder(pool):
    rng = np.random.default_rng(0)
    floor = evaluation.real_floor(EMOJI, len(pool), image_shape=SHAPE)
    assert set(floor) == set(evaluation.RANDOM_KEYS)
    assert abs(floor["kid_random"]) < 0.002 and floor["coverage"] > 0.9 and floor["precision"] > 0.75
    noise = evaluation.evaluate(rng.uniform(0, 1, (len(pool), *SHAPE)).astype(np.float32), EMOJI, n=None)
    shuffled = pool.reshape(len(pool), -1, 3).copy()
    for row in shuffled:
        row[:] = row[rng.permutation(len(row))]
    shuffled = evaluation.evaluate(shuffled.reshape(pool.shape), EMOJI, n=None)
    for bad in (noise, shuffled):
        assert bad["kid_random"] > 10 * max(floor["kid_random"], 1e-3)
        assert bad["fd_random"] > 3 * floor["fd_random"]
        assert bad["coverage"] < 0.4 * floor["coverage"] and bad["recall"] < 0.4 * floor["recall"]
    assert noise["kid_random"] > shuffled["kid_random"]
    ladder = [evaluation.evaluate(np.stack([np.asarray(Image.fromarray(p).filter(ImageFilter.GaussianBlur(r)))
                                            for p in pool]), EMOJI, n=None) for r in (0.5, 1.0, 2.0)]
    kids = [floor["kid_random"]] + [r["kid_random"] for r in ladder]
    assert kids == sorted(kids)  # more blur, further from real
    assert [r["recall"] for r in ladder] == sorted([r["recall"] for r in ladder], reverse=True)


def test_a_briefly_trained_generator_lands_between_the_floor_and_its_untrained_self(tmp_path, pool):
    preset = get_preset("fast32", width=16, batch_size=32, sample_every=10 ** 6, checkpoint_every=0,
                        ema_decay=0.0)
    images = evaluation.picture_reference(EMOJI, SHAPE).pool  # the floor pool: disjoint from the reference
    untrained = train(preset, tmp_path / "u", max_steps=1, images=images, verbose=0, log=None).gan.generator
    trained = train(preset, tmp_path / "t", max_steps=150, images=images, verbose=0, log=None).gan.generator
    score = lambda g: evaluation.evaluate(g, EMOJI, n=690, output="tanh")
    floor = evaluation.real_floor(EMOJI, 690, image_shape=SHAPE)
    before, after = score(untrained), score(trained)
    assert floor["kid_random"] < after["kid_random"] < before["kid_random"]
    assert floor["fd_random"] < after["fd_random"] < before["fd_random"]


def test_the_family_follows_the_data():
    assert evaluation.metric_family("mnist") == evaluation.metric_family("mnist", (28, 28, 1)) == "classifier"
    assert evaluation.metric_family("mnist", (32, 32, 3)) == "random-conv"
    assert evaluation.metric_family("cifar10", (32, 32, 3)) == evaluation.metric_family(EMOJI) == "random-conv"
    with pytest.raises(evaluation.MetricInputError, match="channels-first"):
        evaluation.to_unit_pictures(np.zeros((20, 3, 32, 32), np.uint8))
    with pytest.raises(evaluation.MetricInputError, match="at least 10"):
        evaluation.to_unit_pictures(np.zeros((5, 32, 32, 3), np.uint8))


def test_inception_is_used_only_when_its_weights_are_there(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ok, line = embeddings.inception_status("auto")
    assert not ok and "not computed" in line and str(tmp_path) in line and "--inception download" in line
    assert embeddings.inception_status("off")[0] is False
    weights = tmp_path / "models" / embeddings.INCEPTION_FILE
    weights.parent.mkdir()
    weights.write_bytes(b"")
    assert embeddings.inception_status("auto")[0]
    with pytest.raises(ValueError, match="inception"):
        embeddings.inception_status("maybe")


def test_inception_features_resize_to_299_and_scale_to_minus_one_one():
    seen = {}

    def fake_model(x, training=False):  # stands in for InceptionV3 (its weights cannot be fetched here)
        seen["shape"], seen["range"] = tuple(x.shape), (float(np.min(x)), float(np.max(x)))
        return np.zeros((x.shape[0], 2048), np.float32)
    out = embeddings.inception_features(np.linspace(0, 1, 3 * 32 * 32).reshape(1, 32, 32, 3).repeat(3, 0),
                                        model=fake_model)
    assert out.shape == (3, 2048) and seen["shape"] == (3, 299, 299, 3)
    assert seen["range"][0] == pytest.approx(-1, abs=0.01) and seen["range"][1] == pytest.approx(1, abs=0.01)


def test_cli_evaluate_says_which_metric_it_used(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    run = tmp_path / "run"
    assert main(["train", "--preset", "fast32", "--data-dir", str(DATA_DIR / "emoji-64"), "--max-steps", "2",
                 "--width", "8", "--batch-size", "16", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--n", "200"]) == 0
    out = capsys.readouterr().out
    assert "random conv net" in out and "emoji-64 at 32×32×3" in out and "InceptionV3 FID/KID: not computed" in out
    payload = json.loads((run / "metrics.json").read_text())
    assert payload["metric"] == "random-conv" and set(payload["result"]) == set(evaluation.RANDOM_KEYS)
    assert payload["floor"]["kid_random"] < payload["result"]["kid_random"]
    np.save(tmp_path / "s.npy", np.random.default_rng(0).uniform(0, 1, (50, 32, 32, 3)).astype(np.float32))
    assert main(["evaluate", str(tmp_path / "s.npy"), "--dataset", EMOJI, "--inception", "off"]) == 0
    assert "InceptionV3 FID/KID: off" in capsys.readouterr().out


def test_the_eigh_frechet_distance_equals_the_sqrtm_one():
    from gan_lab.metrics import feature_stats, frechet_distance
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 20)), rng.normal(size=(200, 20)) @ rng.normal(size=(20, 20)) * 0.3 + 1
    fast = frechet_distance(*feature_stats(a), *feature_stats(b), method="eigh")
    assert fast == pytest.approx(frechet_distance(*feature_stats(a), *feature_stats(b)), rel=1e-6)
