"""Colour and any-shape data: image folders, CIFAR-10, CelebA, emoji-64 (small files in their real formats)."""
import io
import os
import pickle
import tarfile
import warnings

import numpy as np
import pytest
from PIL import Image

from conftest import DATA_DIR
from gan_lab.data import (DatasetError, DatasetFormatError, DatasetNotFoundError, class_names, classes_from_names,
                          dataset_label, find_celeba, fit_images, load_dataset, load_image_folder, name_class,
                          normalize_name, read_cifar10, resolve_dataset, training_batches)

EMOJI = DATA_DIR / "emoji-64"


@pytest.fixture(autouse=True)
def _isolate_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _picture(size=(40, 30), colour=(200, 30, 30), mode="RGB"):
    im = Image.new(mode, size, colour if mode != "RGBA" else colour + (255,))
    return im


def _write_all_formats(folder):
    """One picture of each format; the PNG is transparent on the left half, the GIF has two frames."""
    folder.mkdir(parents=True, exist_ok=True)
    rgba = Image.new("RGBA", (20, 20), (0, 0, 255, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 10, 20))
    rgba.save(folder / "a.png")
    _picture().save(folder / "b.jpg", quality=95)
    _picture(colour=(30, 200, 30)).save(folder / "c.webp", lossless=True)
    frames = [_picture(colour=(10, 10, 250)).convert("P"), _picture(colour=(250, 250, 10)).convert("P")]
    frames[0].save(folder / "d.gif", save_all=True, append_images=frames[1:])
    _picture(colour=(0, 0, 0)).save(folder / "e.BMP")
    (folder / "README.md").write_text("not a picture")
    (folder / ".hidden.png").write_bytes(b"")


def test_folder_reads_every_format_composites_alpha_and_skips_other_files(tmp_path):
    _write_all_formats(tmp_path / "pics" / "nested")
    images, labels, classes = load_image_folder(tmp_path / "pics", image_size=16, verbose=False)
    assert images.shape == (5, 16, 16, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0] * 5 and classes == []
    png, jpg, webp, gif, bmp = images
    assert (png[8, 1] == 255).all() and tuple(png[8, 14]) == (0, 0, 255)  # transparent half is white
    assert abs(int(jpg[8, 8, 0]) - 200) < 8 and tuple(webp[8, 8]) == (30, 200, 30)
    assert gif[8, 8, 2] > 200 and gif[8, 8, 0] < 40  # the first frame (blue), not the second (yellow)
    assert (bmp == 0).all()


def test_centre_crop_pad_and_grayscale(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    im = Image.new("RGB", (30, 10), (255, 0, 0))
    im.paste((0, 255, 0), (10, 0, 20, 10))  # the centre third is green
    for name in ("x.png", "y.png"):
        im.save(folder / name)
    cropped, _, _ = load_image_folder(folder, image_size=10, verbose=False)
    assert (cropped[0, :, :, 1] == 255).all() and (cropped[0, :, :, 0] == 0).all()
    padded, _, _ = load_image_folder(folder, image_size=30, fit="pad", verbose=False)
    assert (padded[0, 0] == 255).all() and tuple(padded[0, 15, 0]) == (255, 0, 0)  # white bars, red left
    gray, _, _ = load_image_folder(folder, image_size=10, channels=1, verbose=False)
    assert gray.shape == (2, 10, 10, 1) and abs(int(gray[0, 5, 5, 0]) - 150) < 3  # green's luma


def test_sub_folders_become_classes(tmp_path):
    for cls, n in (("cats", 2), ("dogs", 3)):
        (tmp_path / "d" / cls).mkdir(parents=True)
        for i in range(n):
            _picture().save(tmp_path / "d" / cls / f"{i}.png")
    _picture().save(tmp_path / "d" / "stray.png")
    with pytest.warns(UserWarning, match="ignored 1 picture"):
        images, labels, classes = load_image_folder(tmp_path / "d", image_size=8, verbose=False)
    assert classes == ["cats", "dogs"] and labels.tolist() == [0, 0, 1, 1, 1] and len(images) == 5


def test_unreadable_files_are_skipped_and_counted_in_one_warning(tmp_path):
    folder = tmp_path / "p"
    _write_all_formats(folder)
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "empty.jpg").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, _, _ = load_image_folder(folder, image_size=8, verbose=False)
    lines = [str(w.message) for w in caught]
    assert len(images) == 5 and len(lines) == 1 and "skipped 2 unreadable file(s) of 7" in lines[0]


def test_empty_single_and_missing_folders_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("x")
    with pytest.raises(DatasetError, match="holds 0 picture"):
        load_image_folder(tmp_path / "empty", verbose=False)
    (tmp_path / "one").mkdir()
    _picture().save(tmp_path / "one" / "a.png")
    with pytest.raises(DatasetError, match="holds 1 picture.*hundreds"):
        load_image_folder(tmp_path / "one", verbose=False)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere", verbose=False)
    with pytest.raises(DatasetError, match="channels"):
        load_image_folder(tmp_path / "one", channels=2, verbose=False)


def test_decoded_once_cached_outside_the_folder_and_reread_when_it_changes(tmp_path, capsys):
    folder, cache = tmp_path / "p", tmp_path / "mycache"
    _write_all_formats(folder)
    first, _, _ = load_image_folder(folder, image_size=8, cache_dir=cache)
    assert "5/5" in capsys.readouterr().out  # the progress bar
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npy", ".npy"]
    assert not any(p.suffix == ".npy" for p in folder.rglob("*"))  # nothing written into the data folder
    again, _, _ = load_image_folder(folder, image_size=8, cache_dir=cache)
    assert capsys.readouterr().out == "" and np.array_equal(first, again)  # from the cache: no decoding
    _picture(colour=(1, 2, 3)).save(folder / "b2.png")  # a new file: decoded again
    changed, _, _ = load_image_folder(folder, image_size=8, cache_dir=cache)
    assert len(changed) == 6 and "6/6" in capsys.readouterr().out
    other_size, _, _ = load_image_folder(folder, image_size=4, cache_dir=cache, verbose=False)
    assert other_size.shape == (6, 4, 4, 3)


def test_dataset_names_and_folder_spec(tmp_path):
    assert normalize_name("CIFAR-10") == "cifar10" and normalize_name("CelebA") == "celeba"
    assert normalize_name("folder:~/x") == f"folder:{os.path.expanduser('~/x')}"
    assert resolve_dataset("folder", tmp_path) == f"folder:{tmp_path.resolve()}"
    assert dataset_label(f"folder:{tmp_path / 'emoji-64'}") == "emoji-64"
    with pytest.raises(DatasetError, match="--data-dir"):
        resolve_dataset("folder")
    with pytest.raises(DatasetError, match="folder:PATH"):
        normalize_name("imagenet")


def _cifar_archive(path, n_per_batch=4):
    """A tiny cifar-10-python.tar.gz in the official layout: pickled dicts of b'data' (N, 3072) uint8 planes
    R, G, B and b'labels' lists, written with pickle (the format is a pickle)."""
    rng = np.random.default_rng(0)
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
            labels = rng.integers(0, 10, n_per_batch).tolist()
            raw = pickle.dumps({b"batch_label": name.encode(), b"labels": labels, b"data": data}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
            batches[name] = (data, labels)
    return batches


def test_cifar10_archive_from_data_dir_env_and_extracted_folder(tmp_path, monkeypatch):
    batches = _cifar_archive(tmp_path / "cifar-10-python.tar.gz")
    images, labels = load_dataset("cifar10", "train", data_dir=tmp_path, download=False)
    assert images.shape == (20, 32, 32, 3) and labels.dtype == np.int64
    data, first_labels = batches["data_batch_1"]
    # the row is the R plane, then G, then B, each 32×32 row-major
    assert images[0, 0, 1, 0] == data[0, 1] and images[0, 0, 0, 1] == data[0, 1024]
    assert images[0, 31, 31, 2] == data[0, 3071] and labels[:4].tolist() == first_labels
    test_images, _ = load_dataset("cifar-10", "test", data_dir=tmp_path / "cifar-10-python.tar.gz",
                                  download=False)
    assert np.array_equal(test_images.reshape(4, -1)[:, :1], batches["test_batch"][0][:, :1])
    monkeypatch.setenv("GAN_LAB_DATA_DIR", str(tmp_path))
    assert load_dataset("cifar10", "test", download=False)[0].shape == (4, 32, 32, 3)
    small, _ = load_dataset("cifar10", "test", download=False, image_size=16, channels=1)
    assert small.shape == (4, 16, 16, 1)
    # the Keras cache holds the extracted folder
    monkeypatch.delenv("GAN_LAB_DATA_DIR")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz") as tar:
        tar.extractall(tmp_path / "keras_home" / "datasets", filter="data")
    assert load_dataset("cifar10", "test", download=False)[0].shape == (4, 32, 32, 3)


def test_cifar10_refuses_code_in_its_pickles_and_says_where_to_get_it(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    raw = pickle.dumps({b"data": Evil(), b"labels": []})
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(raw)
    with pytest.raises(DatasetFormatError, match="not allowed"):
        read_cifar10(folder, "test")
    with pytest.raises(DatasetNotFoundError, match="cs.toronto.edu") as missing:
        load_dataset("cifar10", data_dir=tmp_path / "none", download=False)
    assert "--dataset folder:" not in str(missing.value)
    pictures = tmp_path / "my_classes"  # a folder of pictures given to a CIFAR-10 preset (cgan32 --data-dir)
    pictures.mkdir()
    with pytest.raises(DatasetNotFoundError, match=f"pictures in {pictures} instead, pass --dataset folder:{pictures}"):
        load_dataset("cifar10", data_dir=pictures, download=False)


def test_celeba_is_an_image_folder_the_user_downloads(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFoundError, match="img_align_celeba.zip.*does not download"):
        find_celeba(tmp_path)
    faces = tmp_path / "celeba" / "img_align_celeba"
    faces.mkdir(parents=True)
    for i in range(3):
        face = Image.new("RGB", (178, 218), (0, 0, 0))
        face.paste((250, 200, 150), (0, 20, 178, 198))  # the centre square is "skin"
        face.save(faces / f"{i:06d}.jpg", quality=95)
    monkeypatch.setenv("GAN_LAB_DATA_DIR", str(tmp_path))
    images, labels = load_dataset("celeba", verbose=False)
    assert images.shape == (3, 64, 64, 3) and labels.tolist() == [0, 0, 0]
    assert abs(int(images[0, 0, 32, 0]) - 250) < 10  # cropped to the centre square: no black bars left


def test_emoji64_through_the_data_dir_env(monkeypatch):
    images, labels = load_dataset(f"folder:{EMOJI}", verbose=False)  # README.md and the licence are skipped
    assert images.shape == (1380, 64, 64, 3) and images.dtype == np.uint8 and (labels == 0).all()
    assert images.std() > 30  # real pictures, not a constant
    small, _ = load_dataset("folder", data_dir=EMOJI, image_size=32, verbose=False)
    assert small.shape == (1380, 32, 32, 3)
    batch = next(iter(training_batches(small, 16, seed=0)))
    assert batch.shape == (16, 32, 32, 3) and -1.0 <= float(batch.numpy().min()) < float(batch.numpy().max()) <= 1.0


def test_fit_images_resizes_mnist_shaped_arrays():
    x = np.zeros((3, 28, 28), np.uint8)
    x[:, 10:18, 10:18] = 255
    assert fit_images(x) is x  # no shape asked for: unchanged
    y = fit_images(x, 32, 3)
    assert y.shape == (3, 32, 32, 3) and y[0, 16, 16].tolist() == [255, 255, 255] and y[0, 0, 0, 0] == 0


def test_classes_from_names_matches_whole_words_of_a_name_or_their_plural(tmp_path):
    # emoji-64's names: the code point "u1face" holds "face", "multiplication" holds "cat", "clockwise" holds
    # "clock"; none of them is a face, a cat or a clock. "two hearts" are hearts.
    flat = tmp_path / "flat"
    flat.mkdir()
    names = {"u1face_u+1face.png": "other", "u2716_heavy_multiplication_x.png": "other",
             "u1f501_clockwise_open_circle_arrows.png": "other", "u1f495_two_hearts.png": "heart",
             "u1f570_mantelpiece_clock.png": "clock", "u1f639_cat-face with tears.png": "cat",
             "u1f570_CLOCK_FACE_ONE_OCLOCK.png": "clock"}
    for name in names:
        Image.new("RGB", (8, 8)).save(flat / name)
    words = ["clock", "cat", "face", "heart"]
    assert {name: name_class(name, words) for name in names} == names
    counts = classes_from_names(flat, words, tmp_path / "c")
    assert counts == {"other": 3, "heart": 1, "clock": 2, "cat": 1}
    assert sorted(p.name for p in (tmp_path / "c" / "other").iterdir()) == sorted(
        name for name, c in names.items() if c == "other")


def test_classes_from_names_links_each_picture_into_the_class_of_its_first_word(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    colours = {"u1_red_heart.png": (200, 0, 0), "u2_smiling_face_with_heart_eyes.png": (250, 200, 0),
               "u3_racing_car.png": (0, 0, 200), "u4_Blue_HEART.png": (0, 0, 250)}
    for name, colour in colours.items():
        Image.new("RGB", (8, 8), colour).save(flat / name)
    (flat / "README.md").write_text("not a picture")
    counts = classes_from_names(flat, ["face", "heart"], tmp_path / "c")
    assert counts == {"face": 1, "heart": 2, "other": 1}
    images, labels, classes = load_image_folder(tmp_path / "c", image_size=8, cache_dir=tmp_path / "cache",
                                                verbose=False)
    assert classes == ["face", "heart", "other"] and sorted(labels.tolist()) == [0, 1, 1, 2]
    by_colour = {tuple(int(v) for v in image[4, 4]): int(y) for image, y in zip(images, labels)}
    assert by_colour == {(250, 200, 0): 0, (200, 0, 0): 1, (0, 0, 250): 1, (0, 0, 200): 2}
    assert sorted(p.name for p in flat.iterdir()) == sorted([*colours, "README.md"])  # the source is unchanged
    assert class_names(f"folder:{tmp_path / 'c'}") == ["face", "heart", "other"]  # what sample --label NAME reads
    assert class_names(f"folder:{flat}") == [] and class_names("folder") == [] and class_names("mnist") == []
    (tmp_path / "empty").mkdir()
    for args, message in (((flat, ["face"], tmp_path / "c"), "is not empty"),
                          ((flat, ["Other"], tmp_path / "d"), "holds 'other'"),
                          ((flat, [" "], tmp_path / "d"), "expected at least one word"),
                          ((flat, ["red heart"], tmp_path / "d"), "holds 'red heart': expected single words"),
                          ((flat, ["face", "heart_eyes"], tmp_path / "d"), "holds 'heart_eyes': expected single"),
                          ((tmp_path / "empty", ["face"], tmp_path / "e"), "holds no pictures"),
                          ((tmp_path / "nowhere", ["face"], tmp_path / "e"), "is not a folder")):
        with pytest.raises(ValueError, match=message):
            classes_from_names(*args)

