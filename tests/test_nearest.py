"""Nearest training pictures and authenticity (gan_lab.metrics, gan_lab.nearest, `gan-lab nearest`)."""
import json

import keras
import numpy as np
import pytest

from conftest import DATA_DIR
from gan_lab.cli import main
from gan_lab.data import folder_picture_names
from gan_lab.metrics import authenticity, authenticity_floor, nearest_neighbours
from gan_lab.nearest import nearest_training, training_pictures
from gan_lab.sampling import uniform_noise

EMOJI = f"folder:{DATA_DIR / 'emoji-64'}"


def brute_distances(a, b):
    return np.sqrt(((np.asarray(a, np.float64)[:, None] - np.asarray(b, np.float64)[None]) ** 2).sum(-1))


def test_nearest_neighbours_match_brute_force_with_and_without_exclusion():
    rng = np.random.default_rng(1)
    refs, queries = rng.normal(size=(300, 6)), rng.normal(size=(40, 6))
    full = brute_distances(queries, refs)
    idx, dist = nearest_neighbours(queries, refs, k=4)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1)[:, :4])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :4], rtol=1e-4)
    own = np.arange(0, 300, 7)[:40]
    idx, dist = nearest_neighbours(refs[own], refs, k=2, exclude=own)
    full = brute_distances(refs[own], refs)
    full[np.arange(len(own)), own] = np.inf
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1)[:, :2])
    assert not (idx == own[:, None]).any()
    idx, _ = nearest_neighbours(queries, refs[:3], k=3)  # k = N: every reference, in order of distance
    np.testing.assert_array_equal(idx, np.argsort(brute_distances(queries, refs[:3]), axis=1))


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k = 0 is invalid"), ({"k": 11}, "expected 1 to 10"),
    ({"k": 10, "exclude": np.arange(3)}, "expected 1 to 9"), ({"k": 1, "exclude": np.arange(2)}, "one reference index"),
])
def test_nearest_neighbours_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nearest_neighbours(np.zeros((3, 2)), np.zeros((10, 2)), **kwargs)
    with pytest.raises(ValueError, match="same"):
        nearest_neighbours(np.zeros((3, 2)), np.zeros((10, 3)))


def test_authenticity_follows_alaa_et_al_by_hand():
    train = np.array([[0.0], [1.0], [3.0], [7.0]])
    # sample 0.9: nearest training point 1 (d 0.1), whose nearest other is 0 (d 1): a copy (0.1 < 1)
    # sample 5.5: nearest 7 (d 1.5), whose nearest other is 3 (d 4): a copy too (1.5 < 4)
    # sample -2.5: nearest 0 (d 2.5), whose nearest other is 1 (d 1): authentic (2.5 > 1)
    scores = authenticity(train, np.array([[0.9], [5.5], [-2.5]]))
    assert scores["authenticity"] == pytest.approx(1 / 3)
    assert scores["median_distance"] == pytest.approx(1.5)
    assert scores["median_ratio"] == pytest.approx(1.5 / 4)
    # left out in turn: point 0's nearest other is 1 (d 1), whose nearest other than 1 and 0 is 3 (d 2): 1 < 2;
    # point 3's nearest other is 1 (d 2), whose nearest other than 1 and 3 is 0 (d 1): 2 > 1, authentic
    floor = authenticity_floor(train, [0, 2])
    assert floor["authenticity"] == pytest.approx(0.5)
    assert floor["median_ratio"] == pytest.approx(np.median([0.5, 2.0]))


def test_copies_score_far_below_the_floor_and_new_draws_score_like_it():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(1500, 16))
    floor = authenticity_floor(train, np.arange(500))
    copies = authenticity(train, train[rng.integers(0, 1500, 400)] + rng.normal(scale=1e-3, size=(400, 16)))
    fresh = authenticity(train, rng.normal(size=(400, 16)))
    assert copies["authenticity"] == 0.0 and copies["median_distance"] < 0.01 and copies["median_ratio"] < 0.01
    assert 0.5 < floor["authenticity"] < 0.95
    for key in ("authenticity", "median_ratio", "median_distance"):
        assert fresh[key] == pytest.approx(floor[key], rel=0.15), key


class Copier(keras.layers.Layer):
    """A 'generator' that returns training picture floor((z₀ + 1) / 2 · N): every sample is a copy."""

    def __init__(self, pictures, **kwargs):
        super().__init__(**kwargs)
        self.pictures = keras.ops.convert_to_tensor(pictures)

    def call(self, z):
        n = self.pictures.shape[0]
        index = keras.ops.clip(keras.ops.cast(keras.ops.floor((z[:, 0] + 1.0) / 2.0 * n), "int32"), 0, n - 1)
        return keras.ops.take(self.pictures, index, axis=0)


def test_a_generator_that_copies_is_found_out_with_the_names_of_what_it_copied():
    train, names = training_pictures(EMOJI, (64, 64, 3))
    assert names == folder_picture_names(DATA_DIR / "emoji-64") and len(names) == len(train) == 1380
    assert all(name.endswith(".png") for name in names)
    z = keras.Input((4,))
    copier = keras.Model(z, Copier(train.astype("float32") / 255.0)(z))
    found = nearest_training(copier, EMOJI, output="sigmoid", n=200, rows=6, k=3)
    copied = np.clip(np.floor((uniform_noise(200, 4, 0)[:, 0] + 1) / 2 * 1380).astype(int), 0, 1379)
    np.testing.assert_array_equal(found.neighbours[:, 0], copied[:6])
    np.testing.assert_allclose(found.distances[:, 0], 0.0, atol=1e-3)
    assert (found.distances[:, 1] > 1.0).all()
    assert found.scores["authenticity"] == 0.0 and found.scores["median_distance"] < 1e-3
    assert found.floor["authenticity"] > 0.3 and found.floor["median_distance"] > 1.0
    for space in ("features", "pixels"):  # another space finds the same copies
        again = nearest_training(copier, EMOJI, output="sigmoid", n=50, rows=2, k=1, space=space, seed=3)
        assert again.scores["authenticity"] == 0.0


def test_mnist_pictures_are_named_by_index_and_label():
    train, names = training_pictures("mnist", (28, 28, 1))
    assert train.shape == (60000, 28, 28, 1)
    assert names[0] == "#0 (label 5)" and len(names) == 60000  # MNIST's first training digit is a 5


@pytest.fixture(scope="module")
def emoji_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("nearest") / "run"
    assert main(["train", "--preset", "fast32", "--data-dir", str(DATA_DIR / "emoji-64"), "--max-steps", "2",
                 "--out", str(run), "--quiet"]) == 0
    return run


def test_cli_nearest_writes_the_grid_and_its_json(emoji_run, tmp_path, capsys):
    out = tmp_path / "look" / "nearest.png"
    assert main(["nearest", str(emoji_run), "--out", str(out), "--rows", "3", "--k", "4", "--n", "100"]) == 0
    printed = capsys.readouterr().out
    assert "100 samples against the 1380 training pictures of emoji-64" in printed
    assert "authenticity" in printed and "sample 2: u" in printed
    from PIL import Image
    with Image.open(out) as im:  # 3 rows of 32 px and 4 neighbours + the sample, scaled 2×, with padding
        assert im.mode == "RGB" and im.size[1] == 2 * (3 * 34 + 2) and im.size[0] > 2 * 5 * 34
    payload = json.loads(out.with_suffix(".json").read_text())
    assert payload["n"] == 100 and payload["n_train"] == 1380 and len(payload["rows"]) == 3
    assert all(len(row) == 4 and row[0]["distance"] <= row[-1]["distance"] for row in payload["rows"])
    assert payload["rows"][0][0]["name"].endswith(".png")
    assert set(payload["floor"]) == set(payload["authenticity"]) == {"authenticity", "median_ratio",
                                                                       "median_distance"}


@pytest.mark.parametrize("args, message", [
    (["--out", "x.txt"], "expected a .png file"),
    (["--out", "x.png", "--rows", "5", "--n", "3"], "rows = 5 is invalid"),
    (["--out", "x.png", "--k", "0"], "k = 0 is invalid"),
    (["--out", "x.png", "--n", "400000"], "n = 400000 is invalid: 400,000 samples of 3,072 values take 4.9 GB"),
    (["--out", "x.png", "--space", "inception"], "invalid choice"),
])
def test_cli_nearest_bad_values_are_one_line_errors(emoji_run, tmp_path, capsys, args, message):
    args = [a if a not in ("x.txt", "x.png") else str(tmp_path / a) for a in args]
    assert main(["nearest", str(emoji_run), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert main(["nearest", str(tmp_path / "no-run"), "--out", str(tmp_path / "x.png")]) == 2
