"""The domain classifiers behind the metrics: shipped weights (no pickle), their accuracy, damaged files."""
import numpy as np
import pytest

from gan_lab import classifier
from gan_lab.data import load_dataset


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
