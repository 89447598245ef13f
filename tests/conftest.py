"""Shared fixtures. The environment defaults (GAN_LAB_DATA_DIR=../shared/data, ...) are in ../conftest.py."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ["GAN_LAB_DATA_DIR"])


@pytest.fixture(scope="session")
def mnist_train():
    from gan_lab.data import load_dataset
    return load_dataset("mnist", "train")


@pytest.fixture(scope="session")
def mnist_small(mnist_train):
    """The first 2,048 real training images (uint8) — enough for quick real-data runs."""
    images, labels = mnist_train
    return images[:2048], labels[:2048]


@pytest.fixture(scope="session")
def emoji_small():
    """256 real 64×64 RGB pictures of emoji-64 (uint8 (256, 64, 64, 3)), for quick colour runs."""
    from gan_lab.data import load_dataset
    images, _ = load_dataset(f"folder:{DATA_DIR / 'emoji-64'}", verbose=False)
    return images[::5][:256]
