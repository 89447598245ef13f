"""Tests of gan_lab.checks (PASS for correct code, FAIL for typical mistakes) and of the fixture script."""
import ast
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_lab import checks, losses, ops

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_fixtures.py"
FIXTURE = REPO / "unit-testing-data" / "gan-checks-tf.npz"
PACKAGED = REPO / "gan_lab" / "fixtures" / "gan-checks-tf.npz"
EXPECTED_KEYS = {
    "logits_real", "logits_fake", "d_loss_true", "g_loss_true", "minimax_g_loss_true", "scores_real",
    "scores_fake", "d_loss_lsgan_true", "g_loss_lsgan_true", "lrelu_x", "lrelu_out_true", "dense_d_params",
    "dense_g_params_noise4", "dc_d_params", "dc_g_params_noise4", "weights_rule", "model_x", "model_z",
    "dense_d_out_true", "dense_g_out_true", "dc_d_out_true", "dc_g_out_true",
}
COUNT_KEYS = {"dense_d_params", "dense_g_params_noise4", "dc_d_params", "dc_g_params_noise4"}


def line(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return out[0]


def assert_pass(ok, capsys, name):
    text = line(capsys)
    assert ok is True and text.startswith(f"{name}: PASS ("), text
    return text


def assert_fail(ok, capsys, name):
    text = line(capsys)
    assert ok is False and text.startswith(f"{name}: FAIL ("), text
    assert " — " in text, f"a FAIL line should carry a hint: {text}"
    return text


# ------------------------------------------------------------------------- learner-style builders
def dense_d(n_hidden_layers=2):
    model = keras.Sequential([keras.Input((784,))])
    for _ in range(n_hidden_layers):
        model.add(layers.Dense(256, activation=lambda x: ops.leaky_relu(x)))
    model.add(layers.Dense(1))
    return model


def dense_g(noise_dim=96):
    return keras.Sequential([keras.Input((noise_dim,)), layers.Dense(1024, activation="relu"),
                             layers.Dense(1024, activation="relu"), layers.Dense(784, activation="tanh")])


def dc_d(bias=True):
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 5, use_bias=bias)(inp)
    x = layers.MaxPooling2D(2)(layers.LeakyReLU(0.01)(x))
    x = layers.Conv2D(64, 5)(x)
    x = layers.MaxPooling2D(2)(layers.LeakyReLU(0.01)(x))
    x = layers.Dense(1024)(layers.Flatten()(x))
    return keras.Model(inp, layers.Dense(1)(layers.LeakyReLU(0.01)(x)))


def dc_g(noise_dim=96, batchnorm_after_fc2=True):
    model = keras.Sequential([keras.Input((noise_dim,)), layers.Dense(1024, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(7 * 7 * 128, activation="relu")])
    if batchnorm_after_fc2:
        model.add(layers.BatchNormalization())
    for layer in (layers.Reshape((7, 7, 128)), layers.Conv2DTranspose(64, 4, 2, "same", activation="relu"),
                  layers.BatchNormalization(), layers.Conv2DTranspose(1, 4, 2, "same", activation="tanh")):
        model.add(layer)
    return model


# -------------------------------------------------------------------------------------- fixtures
def test_fixture_contents():
    f = checks.load_fixtures()
    assert set(f) == EXPECTED_KEYS
    for key in EXPECTED_KEYS - COUNT_KEYS:
        assert f[key].dtype == np.float64, key
    assert f["logits_real"].shape == f["logits_fake"].shape == (64,)
    assert (int(f["dense_d_params"]), int(f["dense_g_params_noise4"]), int(f["dc_d_params"]),
            int(f["dc_g_params_noise4"])) == (267009, 1858320, 1102721, 6595521)


def test_fixture_counts_agree_with_keras():
    f = checks.load_fixtures()
    assert dense_d().count_params() == f["dense_d_params"]
    assert dense_g(4).count_params() == f["dense_g_params_noise4"]
    assert dc_d().count_params() == f["dc_d_params"]
    assert dc_g(4).count_params() == f["dc_g_params_noise4"]


def test_fixture_script_reproduces_committed_file(tmp_path):
    out = tmp_path / "sub" / "fixtures.npz"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True, cwd=tmp_path)
    with np.load(FIXTURE, allow_pickle=False) as committed, np.load(out, allow_pickle=False) as fresh:
        assert set(committed.files) == set(fresh.files) == EXPECTED_KEYS
        for key in committed.files:
            assert committed[key].dtype == fresh[key].dtype, key
            if committed[key].dtype.kind == "f":  # BLAS kernels differ between CPUs in the last bit
                np.testing.assert_allclose(fresh[key], committed[key], rtol=1e-12, atol=1e-15, err_msg=key)
            else:
                assert np.array_equal(committed[key], fresh[key]), key


def test_fixture_script_is_independent_of_gan_lab_and_tensorflow():
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "argparse", "math", "pathlib", "numpy"}, imported
    assert "importlib" not in SCRIPT.read_text()


def test_packaged_copy_is_the_committed_fixture():
    """The wheel ships gan_lab/fixtures/; unit-testing-data/ is the source. make_fixtures.py writes both."""
    assert PACKAGED.read_bytes() == FIXTURE.read_bytes(), \
        "gan_lab/fixtures/gan-checks-tf.npz differs from unit-testing-data/: run python scripts/make_fixtures.py"


def test_fixture_script_writes_the_packaged_copy(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / SCRIPT.name).write_bytes(SCRIPT.read_bytes())
    subprocess.run([sys.executable, str(tmp_path / "scripts" / SCRIPT.name)], check=True, capture_output=True,
                   cwd=tmp_path)
    source = tmp_path / "unit-testing-data" / FIXTURE.name
    copy = tmp_path / "gan_lab" / "fixtures" / FIXTURE.name
    assert copy.read_bytes() == source.read_bytes()
    assert set(checks.load_fixtures(copy)) >= set(checks.FIXTURE_KEYS)


def test_default_fixtures_come_from_the_package(monkeypatch):
    monkeypatch.delenv(checks.FIXTURES_ENV, raising=False)
    loaded = checks.load_fixtures()
    with np.load(PACKAGED, allow_pickle=False) as packaged:
        assert set(loaded) == set(packaged.files) == EXPECTED_KEYS
        for key in packaged.files:
            assert np.array_equal(loaded[key], packaged[key]), key


def test_load_fixtures_env_var_path_and_missing(tmp_path, monkeypatch):
    copy = tmp_path / "gan-checks-tf.npz"
    copy.write_bytes(FIXTURE.read_bytes())
    monkeypatch.setenv(checks.FIXTURES_ENV, str(tmp_path))  # a folder works
    assert set(checks.load_fixtures()) == EXPECTED_KEYS
    monkeypatch.setenv(checks.FIXTURES_ENV, str(copy))  # and a file
    assert set(checks.load_fixtures()) == EXPECTED_KEYS
    monkeypatch.setenv(checks.FIXTURES_ENV, str(tmp_path / "nope.npz"))
    with pytest.raises(FileNotFoundError) as missing:
        checks.load_fixtures()
    text = str(missing.value)  # where it looked, which keys it expected, what to do
    assert "nope.npz" in text and "$GAN_LAB_FIXTURES" in text and "d_loss_true" in text and "lrelu_y" in text
    monkeypatch.delenv(checks.FIXTURES_ENV)
    assert set(checks.load_fixtures(copy)) == EXPECTED_KEYS
    with pytest.raises(FileNotFoundError, match="not found.*missing.*path argument"):
        checks.load_fixtures(tmp_path / "missing")


def test_load_fixtures_refuses_pickles(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        checks.load_fixtures(bad)
    not_npz = tmp_path / "notes.npz"
    not_npz.write_text("not a zip")
    with pytest.raises(ValueError, match="notes.npz.*expected an .npz with gan_lab's keys"):
        checks.load_fixtures(not_npz)


def test_load_fixtures_wrong_keys_say_what_was_expected(tmp_path):
    wrong = tmp_path / "gan-checks-tf.npz"
    np.savez(wrong, logits_real=np.zeros(3), something_else=np.zeros(2))
    with pytest.raises(ValueError) as err:
        checks.load_fixtures(wrong)
    text = str(err.value)
    assert str(wrong) in text and "something_else" in text
    assert "Missing for gan_lab's layout: lrelu_x, lrelu_out_true, logits_fake" in text
    assert "for CS231n's: lrelu_x, lrelu_y, logits_fake" in text


def cs231n_style_file(path):
    """A file laid out like CS231n's gan-checks-tf.npz: its key names, its LSGAN losses computed on the logits,
    no parameter counts. The values are computed here with numpy (the formulas of scripts/make_fixtures.py)."""
    rng = np.random.default_rng(7)
    real, fake = rng.standard_normal(10), rng.standard_normal(10)
    x = rng.standard_normal((5, 6))

    def bce(logits, target):
        return np.logaddexp(0.0, logits) - target * logits
    np.savez(path, lrelu_x=x, lrelu_y=np.where(x > 0, x, 0.01 * x), logits_real=real, logits_fake=fake,
             d_loss_true=bce(real, 1.0).mean() + bce(fake, 0.0).mean(), g_loss_true=bce(fake, 1.0).mean(),
             d_loss_lsgan_true=0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2),
             g_loss_lsgan_true=0.5 * np.mean((fake - 1) ** 2))
    return path


def test_cs231n_style_fixtures_give_answers(tmp_path, monkeypatch, capsys):
    path = cs231n_style_file(tmp_path / "gan-checks-tf.npz")
    f = checks.load_fixtures(path)
    assert set(f) >= set(checks.FIXTURE_KEYS)
    assert np.array_equal(f["lrelu_out_true"], f["lrelu_y"]) and np.array_equal(f["scores_real"], f["logits_real"])
    assert int(f["dense_d_params"]) == 267009  # counts: from the packaged file
    assert_pass(checks.test_leaky_relu(fixtures=f), capsys, "test_leaky_relu")
    assert_pass(checks.test_gan_loss(fixtures=f), capsys, "test_gan_loss")
    assert_pass(checks.test_lsgan_loss(fixtures=f), capsys, "test_lsgan_loss")
    assert_fail(checks.test_gan_loss(concat_mean_d_loss, losses.generator_loss, fixtures=f), capsys,
                "test_gan_loss")
    monkeypatch.setenv(checks.FIXTURES_ENV, str(tmp_path))  # the folder the learner put the file in
    assert_pass(checks.test_lsgan_loss(), capsys, "test_lsgan_loss")
    assert_pass(checks.test_discriminator(), capsys, "test_discriminator")


def test_rel_error():
    assert checks.rel_error(1.0, 1.0) == 0.0
    assert checks.rel_error([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2.0 / 6.0)
    assert checks.rel_error(0.0, 0.0) == 0.0
    assert checks.rel_error(0.0, 1e-9) == pytest.approx(0.1)  # denominator floored at 1e-8


# ------------------------------------------------------------------------------------- ops checks
def test_sample_noise_check(capsys):
    assert_pass(checks.test_sample_noise(), capsys, "test_sample_noise")
    assert "[0, 1]" in assert_fail(checks.test_sample_noise(lambda b, d: tf.random.uniform([b, d])), capsys,
                                   "test_sample_noise")
    assert "[-1, 1]" in assert_fail(checks.test_sample_noise(lambda b, d: tf.random.normal([b, d])), capsys,
                                    "test_sample_noise")
    assert_fail(checks.test_sample_noise(lambda b, d: tf.random.uniform([d, b], -1, 1)), capsys, "test_sample_noise")
    assert_fail(checks.test_sample_noise(lambda b, d: tf.zeros([b, d])), capsys, "test_sample_noise")
    assert_fail(checks.test_sample_noise(lambda b, d: tf.random.uniform([b, d], -0.5, 0.5)), capsys,
                "test_sample_noise")
    # bounded and spread, but not uniform: mostly at the ends
    assert_fail(checks.test_sample_noise(lambda b, d: tf.sign(tf.random.uniform([b, d], -1, 1))), capsys,
                "test_sample_noise")


def test_sample_noise_check_reports_exceptions(capsys):
    def broken(batch_size, dim):
        raise NotImplementedError("TODO")
    text = assert_fail(checks.test_sample_noise(broken), capsys, "test_sample_noise")
    assert "NotImplementedError: TODO" in text


def test_leaky_relu_check(capsys):
    assert_pass(checks.test_leaky_relu(), capsys, "test_leaky_relu")
    assert_pass(checks.test_leaky_relu(lambda x: tf.maximum(x, 0.01 * x)), capsys, "test_leaky_relu")
    assert "alpha" in assert_fail(checks.test_leaky_relu(lambda x: ops.leaky_relu(x, alpha=0.1)), capsys,
                                  "test_leaky_relu")
    assert_fail(checks.test_leaky_relu(tf.nn.relu), capsys, "test_leaky_relu")
    # float32 computation (tf.nn.leaky_relu keeps alpha in float32): within the float32 tolerance
    assert_pass(checks.test_leaky_relu(lambda x: tf.nn.leaky_relu(tf.cast(x, tf.float32), 0.01)), capsys,
                "test_leaky_relu")


# ----------------------------------------------------------------------------------- model checks
def test_discriminator_check(capsys):
    assert "count_params=267009" in assert_pass(checks.test_discriminator(dense_d), capsys, "test_discriminator")
    text = assert_fail(checks.test_discriminator(lambda: dense_d(n_hidden_layers=1)), capsys, "test_discriminator")
    assert "off by -65792" in text
    assert_pass(checks.test_discriminator(lambda: dense_d(1), true_count=201217), capsys, "test_discriminator")


def test_discriminator_check_builds_unbuilt_models(capsys):
    def unbuilt():
        return keras.Sequential([layers.Dense(256, activation=ops.leaky_relu),
                                 layers.Dense(256, activation=ops.leaky_relu), layers.Dense(1)])
    assert_pass(checks.test_discriminator(unbuilt), capsys, "test_discriminator")


def test_generator_check(capsys):
    assert_pass(checks.test_generator(dense_g), capsys, "test_generator")
    assert_pass(checks.test_generator(dense_g, noise_dim=96), capsys, "test_generator")  # counted for 96
    assert_fail(checks.test_generator(lambda noise_dim: dense_g(noise_dim + 1)), capsys, "test_generator")

    def no_noise_dim():
        return dense_g(4)
    assert "TypeError" in assert_fail(checks.test_generator(no_noise_dim), capsys, "test_generator")


def test_dc_checks(capsys):
    assert_pass(checks.test_dc_discriminator(dc_d), capsys, "test_dc_discriminator")
    assert "off by -32" in assert_fail(checks.test_dc_discriminator(lambda: dc_d(bias=False)), capsys,
                                       "test_dc_discriminator")
    assert_pass(checks.test_dc_generator(dc_g), capsys, "test_dc_generator")
    text = assert_fail(checks.test_dc_generator(lambda noise_dim: dc_g(noise_dim, batchnorm_after_fc2=False)),
                       capsys, "test_dc_generator")
    assert "off by -25088" in text and "BatchNorm" in text


# gan_lab.models is written separately; these run once it exists.
@pytest.fixture(scope="module")
def models():
    return pytest.importorskip("gan_lab.models")


def test_checks_pass_for_gan_lab_models(models, capsys):
    assert_pass(checks.test_discriminator(), capsys, "test_discriminator")
    assert_pass(checks.test_generator(noise_dim=4), capsys, "test_generator")
    assert_pass(checks.test_dc_discriminator(), capsys, "test_dc_discriminator")
    assert_pass(checks.test_dc_generator(noise_dim=4), capsys, "test_dc_generator")


def test_gan_lab_models_exact_counts(models):
    assert models.dense_discriminator().count_params() == 267009
    assert models.dense_generator(noise_dim=4).count_params() == 1858320
    assert models.dc_discriminator().count_params() == 1102721
    assert models.dc_generator(noise_dim=4).count_params() == 6595521


# ------------------------------------------------------------------------------------ loss checks
def concat_mean_d_loss(logits_real, logits_fake):
    """Wrong: mean over the concatenated batch (half the correct value)."""
    logits = tf.concat([logits_real, logits_fake], axis=0)
    labels = tf.concat([tf.ones_like(logits_real), tf.zeros_like(logits_fake)], axis=0)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def sum_g_loss(logits_fake):
    """Wrong: sum instead of mean."""
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_fake),
                                                                 logits=logits_fake))


def test_gan_loss_check(capsys):
    text = assert_pass(checks.test_gan_loss(), capsys, "test_gan_loss")
    assert "max relative error d=" in text and ", g=" in text
    assert_fail(checks.test_gan_loss(concat_mean_d_loss, losses.generator_loss), capsys, "test_gan_loss")
    text = assert_fail(checks.test_gan_loss(losses.discriminator_loss, sum_g_loss), capsys, "test_gan_loss")
    assert "generator loss" in text and "discriminator loss" not in text
    # saturating generator loss where the non-saturating one is expected
    assert_fail(checks.test_gan_loss(losses.discriminator_loss, losses.minimax_generator_loss), capsys,
                "test_gan_loss")
    # swapped targets
    assert_fail(checks.test_gan_loss(lambda r, f: losses.discriminator_loss(f, r), losses.generator_loss), capsys,
                "test_gan_loss")


def test_gan_loss_check_accepts_float32_and_catches_non_scalar(capsys):
    def d32(r, f):
        return losses.discriminator_loss(tf.cast(r, tf.float32), tf.cast(f, tf.float32))
    assert_pass(checks.test_gan_loss(d32, losses.generator_loss), capsys, "test_gan_loss")

    def no_mean(f):
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(f), logits=f)
    assert "reduce_mean" in assert_fail(checks.test_gan_loss(losses.discriminator_loss, no_mean), capsys,
                                        "test_gan_loss")


def test_lsgan_loss_check(capsys):
    assert_pass(checks.test_lsgan_loss(), capsys, "test_lsgan_loss")

    def no_half_d(r, f):
        return tf.reduce_mean((r - 1) ** 2) + tf.reduce_mean(f ** 2)

    def sigmoid_g(f):
        return 0.5 * tf.reduce_mean((tf.sigmoid(f) - 1) ** 2)
    assert_fail(checks.test_lsgan_loss(no_half_d, losses.ls_generator_loss), capsys, "test_lsgan_loss")
    assert_fail(checks.test_lsgan_loss(losses.ls_discriminator_loss, sigmoid_g), capsys, "test_lsgan_loss")


def test_checks_are_not_collected_by_pytest():
    assert checks.test_gan_loss.__test__ is False and checks.test_dc_generator.__test__ is False


# ------------------------------------------- typical mistakes: each fails with a message naming it
BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def keras_d_loss(logits_real, logits_fake):
    """The Keras idiom (float32 inside): must pass like the hand-written formula."""
    return BCE(tf.ones_like(logits_real), logits_real) + BCE(tf.zeros_like(logits_fake), logits_fake)


def keras_g_loss(logits_fake):
    return BCE(tf.ones_like(logits_fake), logits_fake)


def gan_loss_fail(d_fn, g_fn, capsys):
    return assert_fail(checks.test_gan_loss(d_fn, g_fn), capsys, "test_gan_loss")


def test_keras_idiom_passes(capsys):
    assert_pass(checks.test_gan_loss(keras_d_loss, keras_g_loss), capsys, "test_gan_loss")


def test_mistake_sigmoid_applied_twice(capsys):
    text = gan_loss_fail(lambda r, f: keras_d_loss(tf.sigmoid(r), tf.sigmoid(f)),
                         lambda f: keras_g_loss(tf.sigmoid(f)), capsys)
    assert text.count("sigmoid applied twice") == 2, text


def test_mistake_from_logits_missing(capsys):
    probs = keras.losses.BinaryCrossentropy()  # from_logits=False: the logits are taken for probabilities
    text = gan_loss_fail(lambda r, f: probs(tf.ones_like(r), r) + probs(tf.zeros_like(f), f),
                         lambda f: probs(tf.ones_like(f), f), capsys)
    assert text.count("from_logits missing") == 2, text


def test_mistake_wrong_label_for_fakes(capsys):
    text = gan_loss_fail(lambda r, f: keras_d_loss(r, -f), keras_g_loss, capsys)  # BCE(f, 1) == BCE(-f, 0)
    assert "wrong label for fakes" in text and "generator loss" not in text, text
    text = gan_loss_fail(keras_d_loss, lambda f: BCE(tf.zeros_like(f), f), capsys)
    assert "wrong label: the generator wants its fakes called real" in text, text


def test_mistake_mean_vs_sum(capsys):
    def sum_d(r, f):
        return tf.reduce_sum(losses._bce(r, 1.0)) + tf.reduce_sum(losses._bce(f, 0.0))
    text = gan_loss_fail(sum_d, sum_g_loss, capsys)
    assert text.count("mean vs sum") == 2, text
    assert "sum of two means" in gan_loss_fail(concat_mean_d_loss, keras_g_loss, capsys)


def test_mistake_saturating_generator_loss(capsys):
    assert "saturating minimax" in gan_loss_fail(keras_d_loss, losses.minimax_generator_loss, capsys)


def test_lsgan_mistakes_are_named(capsys):
    text = assert_fail(checks.test_lsgan_loss(lambda r, f: tf.reduce_mean((r - 1) ** 2) + tf.reduce_mean(f ** 2),
                                              lambda f: 0.5 * tf.reduce_mean((tf.sigmoid(f) - 1) ** 2)),
                       capsys, "test_lsgan_loss")
    assert "factor 1/2 is missing" in text and "a sigmoid on the scores" in text, text


def dc_g_bn_first(noise_dim=4):
    """Same parameters as CS231n's generator, BatchNorm before each ReLU instead of after it."""
    model = keras.Sequential([keras.Input((noise_dim,))])
    for layer in (layers.Dense(1024), layers.BatchNormalization(), layers.ReLU(), layers.Dense(7 * 7 * 128),
                  layers.BatchNormalization(), layers.ReLU(), layers.Reshape((7, 7, 128)),
                  layers.Conv2DTranspose(64, 4, 2, "same"), layers.BatchNormalization(), layers.ReLU(),
                  layers.Conv2DTranspose(1, 4, 2, "same", activation="tanh")):
        model.add(layer)
    return model


def test_mistake_layer_order(capsys):
    text = assert_fail(checks.test_dc_generator(dc_g_bn_first), capsys, "test_dc_generator")
    assert "count_params=6595521" in text and "layer order: BatchNorm before the activation" in text, text


def test_mistake_missing_batchnorm(capsys):
    text = assert_fail(checks.test_dc_generator(lambda noise_dim: dc_g(noise_dim, batchnorm_after_fc2=False)),
                       capsys, "test_dc_generator")
    assert "missing BatchNorm" in text and "4 × 6272" in text, text


def test_mistake_wrong_output_activation(capsys):
    def sigmoid_g(noise_dim=4):
        return keras.Sequential([keras.Input((noise_dim,)), layers.Dense(1024, activation="relu"),
                                 layers.Dense(1024, activation="relu"), layers.Dense(784, activation="sigmoid")])
    text = assert_fail(checks.test_generator(sigmoid_g), capsys, "test_generator")
    assert "wrong output activation: sigmoid" in text, text

    def linear_g(noise_dim=4):
        return keras.Sequential([keras.Input((noise_dim,)), layers.Dense(1024, activation="relu"),
                                 layers.Dense(1024, activation="relu"), layers.Dense(784)])
    assert "wrong output activation: none" in assert_fail(checks.test_generator(linear_g), capsys, "test_generator")

    def sigmoid_d():
        model = dense_d()
        model.add(layers.Activation("sigmoid"))
        return model
    text = assert_fail(checks.test_discriminator(sigmoid_d), capsys, "test_discriminator")
    assert "sigmoid on the output" in text, text


def test_mistake_wrong_hidden_activation(capsys):
    def relu_d():
        return keras.Sequential([keras.Input((784,)), layers.Dense(256, activation="relu"),
                                 layers.Dense(256, activation="relu"), layers.Dense(1)])
    text = assert_fail(checks.test_discriminator(relu_d), capsys, "test_discriminator")
    assert "hidden activations relu where lrelu(0.01) is expected" in text, text


def test_model_checks_compare_outputs_not_only_counts(capsys):
    """Same parameter count, same layers, swapped hidden widths' activations: only the outputs can tell."""
    def tanh_hidden_g(noise_dim=4):
        return keras.Sequential([keras.Input((noise_dim,)), layers.Dense(1024, activation="tanh"),
                                 layers.Dense(1024, activation="relu"), layers.Dense(784, activation="tanh")])
    text = assert_fail(checks.test_generator(tanh_hidden_g), capsys, "test_generator")
    assert "count_params=1858320, expected 1858320" in text and "max error" in text, text


def test_fixed_weights_rule_is_the_scripts(models):
    """checks.fixed_weights and scripts/make_fixtures.py apply one rule: gan_lab's models reproduce the outputs
    the script computed with numpy (an independent forward pass), for every model check."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_fixtures", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    f = checks.load_fixtures()
    assert tuple(f["weights_rule"]) == script.WEIGHTS_RULE
    d = checks.fixed_weights(models.dense_discriminator(), f["weights_rule"])
    assert np.allclose(d.weights[2].numpy(), script.rule_values(2, (256, 256)) * np.sqrt(3 / 256), atol=1e-7)
    out = checks.fixed_weights(models.dc_generator(noise_dim=4), f["weights_rule"])(f["model_z"], training=False)
    assert np.abs(out.numpy() - f["dc_g_out_true"]).max() < 1e-4


# ------------------------------------------------------------------------------------- train step
def good_step(real, G, D, d_opt, g_opt, noise_fn, order="dg", stale=False, update_g=True):
    """A learner's train step; the keyword arguments make the typical mistakes."""
    n = tf.shape(real)[0]

    def d_update():
        with tf.GradientTape() as tape:
            d_loss = losses.discriminator_loss(D(real, training=True), D(G(noise_fn(n), training=True), training=True))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
        return d_loss

    def g_update():
        with tf.GradientTape() as tape:
            g_loss = losses.generator_loss(D(G(noise_fn(n), training=True), training=True))
        if update_g:
            g_opt.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
        return g_loss

    if stale:  # both losses in one tape, both updates from the same (old) discriminator
        with tf.GradientTape(persistent=True) as tape:
            fake = G(noise_fn(n), training=True)
            d_loss = losses.discriminator_loss(D(real, training=True), D(fake, training=True))
            g_loss = losses.generator_loss(D(G(noise_fn(n), training=True), training=True))
        d_grads = tape.gradient(d_loss, D.trainable_variables)
        g_grads = tape.gradient(g_loss, G.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, D.trainable_variables))
        g_opt.apply_gradients(zip(g_grads, G.trainable_variables))
        return d_loss, g_loss
    if order == "gd":
        g_loss = g_update()
        return d_update(), g_loss
    return d_update(), g_update()


def test_train_step_check(capsys):
    assert_pass(checks.test_train_step(good_step), capsys, "test_train_step")

    def one_noise(real, G, D, d_opt, g_opt, noise_fn):  # one noise batch for both updates: also fine
        z = noise_fn(tf.shape(real)[0])
        return good_step(real, G, D, d_opt, g_opt, lambda n: z)
    assert_pass(checks.test_train_step(one_noise), capsys, "test_train_step")


def test_train_step_mistakes_are_named(capsys):
    text = assert_fail(checks.test_train_step(lambda *a: good_step(*a, update_g=False)), capsys, "test_train_step")
    assert "generator was not updated" in text, text
    text = assert_fail(checks.test_train_step(lambda *a: good_step(*a, stale=True)), capsys, "test_train_step")
    assert "discriminator from before its update" in text, text
    text = assert_fail(checks.test_train_step(lambda *a: good_step(*a, order="gd")), capsys, "test_train_step")
    assert "update the discriminator first" in text, text

    def todo(*args):
        raise NotImplementedError("exercise train_step: your code goes here")
    assert "exercise train_step" in assert_fail(checks.test_train_step(todo), capsys, "test_train_step")


# ------------------------------------------- the exercises of notebooks 03-06: the solution passes, mistakes named
def test_scale_images_check(capsys):
    assert_pass(checks.test_scale_images(), capsys, "test_scale_images")

    def keras_style(images, output):  # a Rescaling-style float32 formula passes too
        x = tf.cast(images, tf.float32)
        return x / 127.5 - 1.0 if output == "tanh" else x * (1 / 255)
    assert_pass(checks.test_scale_images(keras_style), capsys, "test_scale_images")


@pytest.mark.parametrize("fn, named", [
    (lambda x, o: (x * 2) / 255 - 1 if o == "tanh" else x / 255, "uint8 arithmetic overflowed"),
    (lambda x, o: np.float32(x) / 255, "that is the [0, 1] scaling"),
    (lambda x, o: np.float32(x) / 127.5 - 1, "that is the [-1, 1] scaling"),
    (lambda x, o: np.float32(x) / 127.5 if o == "tanh" else np.float32(x) / 255, "the shift by -1 is missing"),
    (lambda x, o: np.float64(x) / 127.5 - 1 if o == "tanh" else np.float64(x) / 255, "expected float32"),
])
def test_scale_images_mistakes_are_named(fn, named, capsys):
    assert named in assert_fail(checks.test_scale_images(fn), capsys, "test_scale_images")


def test_spread_check(capsys):
    assert_pass(checks.test_spread(lambda im: np.std(im, axis=0).mean()), capsys, "test_spread")
    assert_pass(checks.test_spread(lambda im: tf.reduce_mean(tf.math.reduce_std(im, axis=0))), capsys, "test_spread")


@pytest.mark.parametrize("fn, named", [
    (lambda im: np.std(im, axis=(1, 2)).mean(), "the spread of the pixels within each image"),
    (lambda im: np.std(im), "one std over every number"),
    (lambda im: np.var(im, axis=0).mean(), "the variance"),
    (lambda im: np.std(im, axis=0, ddof=1).mean(), "ddof=1"),
])
def test_spread_mistakes_are_named(fn, named, capsys):
    assert named in assert_fail(checks.test_spread(fn), capsys, "test_spread")


def scipy_fd(mu1, s1, mu2, s2, two=2.0, sqrt=True, square_mu=True):
    from scipy import linalg
    diff = np.asarray(mu1) - np.asarray(mu2)
    covmean = linalg.sqrtm(s1 @ s2).real if sqrt else s1 @ s2
    d = diff @ diff if square_mu else np.sqrt(diff @ diff)
    return float(d + np.trace(s1) + np.trace(s2) - two * np.trace(covmean))


def test_frechet_distance_check(capsys):
    assert_pass(checks.test_frechet_distance(), capsys, "test_frechet_distance")
    assert_pass(checks.test_frechet_distance(scipy_fd), capsys, "test_frechet_distance")


@pytest.mark.parametrize("kwargs, named", [
    (dict(two=1.0), "the factor 2"), (dict(sqrt=False), "the matrix square root is missing"),
    (dict(square_mu=False), "is not squared"),
])
def test_frechet_distance_mistakes_are_named(kwargs, named, capsys):
    fn = lambda m1, s1, m2, s2: scipy_fd(m1, s1, m2, s2, **kwargs)  # noqa: E731
    assert named in assert_fail(checks.test_frechet_distance(fn), capsys, "test_frechet_distance")


def test_frechet_distance_not_squared_is_named(capsys):
    fd_root = lambda *a: np.sqrt(max(scipy_fd(*a), 0.0))  # noqa: E731
    assert "squared distance" in assert_fail(checks.test_frechet_distance(fd_root), capsys, "test_frechet_distance")


def my_gradient_penalty(critic, real, fake, alpha, per_example=True, square=True, swap=False, at_real=False,
                        squared_norm=False, reshape_alpha=True):
    a = tf.reshape(alpha, (-1, 1, 1, 1)) if reshape_alpha else alpha
    x_hat = real if at_real else (a * fake + (1 - a) * real if swap else a * real + (1 - a) * fake)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    g = tape.gradient(scores, x_hat)
    sq = tf.reduce_sum(g ** 2, axis=[1, 2, 3]) if per_example else tf.reduce_sum(g ** 2)
    norm = sq if squared_norm else tf.sqrt(sq)
    return tf.reduce_mean((norm - 1) ** 2 if square else tf.abs(norm - 1))


def test_gradient_penalty_check(capsys):
    assert_pass(checks.test_gradient_penalty(), capsys, "test_gradient_penalty")
    assert_pass(checks.test_gradient_penalty(my_gradient_penalty), capsys, "test_gradient_penalty")


@pytest.mark.parametrize("kwargs, named", [
    (dict(square=False), "the penalty is squared"), (dict(squared_norm=True), "the squared norm"),
    (dict(per_example=False), "one norm over the whole batch"), (dict(at_real=True), "taken at the real images"),
    (dict(swap=True), "α and 1 − α swapped"), (dict(reshape_alpha=False), "reshape it to (N, 1, 1, 1)"),
])
def test_gradient_penalty_mistakes_are_named(kwargs, named, capsys):
    fn = lambda *a: my_gradient_penalty(*a, **kwargs)  # noqa: E731
    assert named in assert_fail(checks.test_gradient_penalty(fn), capsys, "test_gradient_penalty")


# ------------------------------------------- the exercises of notebooks 00 and 07: the solution passes, mistakes named
def ring(n, seed=0, radius=2.0, std=0.02, modes=8, drawn=8, degrees=False, noise="normal", probs=None,
         float32=True, seeded=True):
    """A ring sampler written as a learner would, with one mistake switched on by the arguments."""
    rng = np.random.default_rng(seed) if seeded else np.random.default_rng()
    k = rng.choice(drawn, n, p=probs) if probs is not None else rng.integers(0, drawn, n)
    angles = (360 if degrees else 2 * np.pi) * k / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if noise == "normal":
        eps = rng.normal(0.0, std, (n, 2))
    elif noise == "uniform":
        eps = rng.uniform(-std, std, (n, 2))
    else:  # "shared": one number for x and y
        eps = np.repeat(rng.normal(0.0, std, (n, 1)), 2, axis=1)
    points = centres + eps
    return points.astype(np.float32) if float32 else points


def test_ring_data_check(capsys):
    assert_pass(checks.test_ring_data(), capsys, "test_ring_data")
    assert_pass(checks.test_ring_data(ring), capsys, "test_ring_data")


@pytest.mark.parametrize("kwargs, named", [
    (dict(seeded=False), "np.random's global state"),
    (dict(seed=0), "the seed is not used"),
    (dict(radius=1.0), "the circle of radius 2"),
    (dict(degrees=True), "in radians"),
    (dict(drawn=7), "the upper bound is excluded"),
    (dict(probs=[0.2, 0.2] + [0.1] * 6), "choose the modes uniformly"),
    (dict(std=0.0), "no noise"),
    (dict(std=0.02 ** 2), "was passed as the standard deviation"),
    (dict(std=np.sqrt(0.02)), "is already the standard deviation"),
    (dict(noise="uniform"), "the noise is Gaussian"),
    (dict(noise="shared"), "the same noise was added to x and y"),
    (dict(float32=False), "expected float32"),
])
def test_ring_data_mistakes_are_named(kwargs, named, capsys):
    if "seed" in kwargs:  # the seed argument ignored: always seed 0
        def fn(n, seed):
            return ring(n, **kwargs)
    else:
        def fn(n, seed):
            return ring(n, seed, **kwargs)
    assert named in assert_fail(checks.test_ring_data(fn), capsys, "test_ring_data")


def test_ring_data_check_names_a_wrong_shape_and_the_exercise(capsys):
    assert "expected (8000, 2)" in assert_fail(checks.test_ring_data(lambda n, seed: ring(n, seed)[:, 0]), capsys,
                                               "test_ring_data")

    def todo(n, seed):
        raise NotImplementedError("exercise sample_ring: your code goes here")
    assert "exercise sample_ring" in assert_fail(checks.test_ring_data(todo), capsys, "test_ring_data")


def composite(rgba, background, alpha="A/255", on=None, keep_axis=True, rounding=np.round, dtype=np.uint8):
    """Alpha compositing written as a learner would, with one mistake switched on by the arguments."""
    rgb = rgba[..., :3].astype(np.float64)
    a = rgba[..., 3:].astype(np.float64) / 255 if keep_axis else rgba[..., 3].astype(np.float64) / 255
    bg = np.array(background if on is None else on, np.float64)
    if alpha == "dropped":
        out = rgb
    elif alpha == "swapped":
        out = (1 - a) * rgb + a * bg
    else:
        out = a * rgb + (1 - a) * bg
    return rounding(out).astype(dtype)


def test_composite_check(capsys):
    assert_pass(checks.test_composite(composite), capsys, "test_composite")
    assert_pass(checks.test_composite(lambda x, b: composite(x, b, rounding=np.floor)), capsys, "test_composite")

    def with_pil(rgba, background):
        from PIL import Image
        canvas = Image.new("RGBA", rgba.shape[1::-1], tuple(background) + (255,))
        return np.asarray(Image.alpha_composite(canvas, Image.fromarray(rgba, "RGBA")).convert("RGB"))
    assert_pass(checks.test_composite(with_pil), capsys, "test_composite")  # gan_lab's loader's way


@pytest.mark.parametrize("kwargs, named", [
    (dict(alpha="dropped"), "the alpha channel was dropped"),
    (dict(alpha="swapped"), "α and 1 − α are swapped"),
    (dict(on=(0, 0, 0)), "composited on black"),
    (dict(on=(255, 255, 255)), "the background argument was ignored"),
    (dict(keep_axis=False), "keep its channel axis"),
    (dict(dtype=np.float32), "expected uint8"),
])
def test_composite_mistakes_are_named(kwargs, named, capsys):
    assert named in assert_fail(checks.test_composite(lambda x, b: composite(x, b, **kwargs)), capsys,
                                "test_composite")


def center_square(picture, size, corner=False, swap=False, crop=True, resize=True, ceil=False, resample=None):
    """The centred square, resized, written as a learner would, with one mistake switched on by the arguments."""
    from PIL import Image
    h, w = picture.shape[:2]
    if swap:
        h, w = w, h
    side = min(h, w)
    top, left = ((h - side + ceil) // 2, (w - side + ceil) // 2) if not corner else (0, 0)
    square = picture[top:top + side, left:left + side] if crop else picture
    if not resize:
        return square
    return np.asarray(Image.fromarray(square).resize((size, size), resample or Image.Resampling.LANCZOS))


def test_center_square_check(capsys):
    assert_pass(checks.test_center_square(center_square), capsys, "test_center_square")

    def tf_style(picture, size):  # a crop with TensorFlow, the resize with PIL: passes too
        side = min(picture.shape[:2])
        square = tf.image.resize_with_crop_or_pad(picture, side, side).numpy()
        return center_square(square, size)
    assert_pass(checks.test_center_square(tf_style), capsys, "test_center_square")


@pytest.mark.parametrize("kwargs, named", [
    (dict(corner=True), "the top-left square"),
    (dict(swap=True), "height and width swapped"),
    (dict(crop=False), "squashed"),
    (dict(resize=False), "was not resized"),
    (dict(ceil=True), "off by one"),
    (dict(resample=3), "the resize filter"),  # 3: Image.Resampling.BICUBIC, PIL's default
])
def test_center_square_mistakes_are_named(kwargs, named, capsys):
    assert named in assert_fail(checks.test_center_square(lambda p, s: center_square(p, s, **kwargs)), capsys,
                                "test_center_square")
