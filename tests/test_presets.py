"""Presets: one dataclass of hyperparameters, validated; one parser (by field type) for CLI, scripts, notebooks."""
import argparse

import pytest

from gan_lab.presets import (PRESETS, Preset, add_preset_arguments, get_preset, overrides_from_args, parse_bool,
                             parse_field)


@pytest.mark.parametrize("text, value", [("true", True), ("FALSE", False), ("1", True), ("0", False),
                                         ("yes", True), ("No", False), ("on", True), ("off", False)])
def test_booleans_parse_every_usual_spelling(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["", "maybe", "2", "ja", "truee"])
def test_other_words_are_not_booleans(text):
    with pytest.raises(ValueError, match="yes/no"):
        parse_bool(text)


def _flags(argv):
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_preset_arguments(parser)
    return overrides_from_args(parser.parse_args(argv))


@pytest.mark.parametrize("word, value", [("false", False), ("0", False), ("no", False), ("yes", True), ("1", True)])
def test_spectral_norm_flag_means_what_it_says(word, value):
    """Regression: argparse type=bool made `--spectral-norm false` (any non-empty word) turn it on."""
    assert _flags(["--spectral-norm", word]) == {"spectral_norm": value}


def test_flags_are_converted_by_field_type_and_lr_sets_both_rates():
    got = _flags(["--batch-size", "32", "--g-lr", "2e-4", "--lr", "1e-3", "--precision", "auto"])
    assert got == {"batch_size": 32, "g_lr": 2e-4, "d_lr": 1e-3, "precision": "auto"}


@pytest.mark.parametrize("name, text", [("g_lr", "nan"), ("gp_weight", "inf"), ("label_smoothing", "-inf"),
                                        ("noise_dim", "1e9"), ("batch_size", "3.5")])
def test_non_finite_or_mistyped_values_are_refused_by_the_parser(name, text):
    with pytest.raises(ValueError, match=name):
        parse_field(name, text)


@pytest.mark.parametrize("field, value, expected", [
    ("g_lr", float("inf"), "g_lr = inf is invalid: expected a finite number"),
    ("gp_weight", float("nan"), "gp_weight = nan is invalid: expected a finite number"),
    ("noise_dim", 10 ** 9, "noise_dim = 1000000000 is invalid: expected a positive integer up to 4,096"),
    ("batch_size", 0, "batch_size = 0 is invalid"),
    ("spectral_norm", "false", "spectral_norm = 'false' is invalid: expected a yes/no value"),
    ("epochs", 2.5, "epochs = 2.5 is invalid: expected an integer"),
    ("info_codes", 96, r"info_codes = 96 is invalid: expected 0 \(off\) or from 2 to noise_dim - 1 = 95"),
    ("info_codes", 1, "info_codes = 1 is invalid"),
    ("info_weight", 0.0, "info_weight = 0.0 is invalid: expected a number > 0"),
    ("mode_seeking", -1.0, r"mode_seeking = -1.0 is invalid: expected a number >= 0 \(0 turns the term off"),
])
def test_validate_names_the_field_the_value_and_the_flag(field, value, expected):
    with pytest.raises(ValueError, match=expected):
        get_preset("cs231n_dense", **{field: value}).validate()


def test_every_preset_is_valid():
    for preset in PRESETS.values():
        preset.validate()


def test_from_dict_refuses_what_is_not_a_preset_and_reads_renamed_architectures():
    with pytest.raises(ValueError, match="expected a JSON object of preset fields, got list"):
        Preset.from_dict([])
    old = Preset.from_dict({"name": "fast", "architecture": "cgan", "g_lr": 1, "unknown_key": 3})
    assert old.architecture == "small_conditional" and old.g_lr == 1.0 and type(old.g_lr) is float
    assert old.conditional and not get_preset("fast_unconditional").conditional


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


def test_parse_overrides_converts_by_field_type_and_names_bad_items():
    from gan_lab.presets import parse_overrides
    got = parse_overrides(["g_lr=2e-4", "batch_size=32", "spectral_norm=true", "ema_decay=0", "precision=auto"])
    assert got == {"g_lr": 2e-4, "batch_size": 32, "spectral_norm": True, "ema_decay": 0.0, "precision": "auto"}
    assert type(got["batch_size"]) is int and type(got["ema_decay"]) is float
    for bad, message in ((["nope=1"], "nope=1"), (["batch_size=x"], "batch_size takes an integer"),
                         (["spectral_norm=maybe"], "spectral_norm takes a yes/no value"), (["g_lr"], "FIELD=VALUE")):
        with pytest.raises(ValueError, match=message):
            parse_overrides(bad)


def test_info_codes_are_refused_with_a_conditional_architecture():
    with pytest.raises(ValueError, match="info_codes = 10 is invalid: expected 0 with the conditional architecture"):
        get_preset("fast", info_codes=10).validate()


@pytest.mark.parametrize("overrides, message", [
    (dict(architecture="small", clusters=30), "clusters = 30 is invalid: expected 0 with architecture 'small': "
                                              "the clusters are the labels of a conditional architecture"),
    (dict(clusters=1), r"clusters = 1 is invalid: expected 0 \(off\) or from 2 to 1,000"),
    (dict(clusters=1001), "clusters = 1001 is invalid"),
    (dict(clusters=10, info_codes=5), "info_codes = 5 is invalid: expected 0 with the conditional architecture"),
    (dict(clusters=10, class_clusters=3), "class_clusters = 3 is invalid: expected 0 unless the preset is conditional"),
    (dict(architecture="small", class_clusters=3), "class_clusters = 3 is invalid"),
    (dict(class_clusters=101), r"class_clusters = 101 is invalid: expected 0 \(off\) or from 2 to 100"),
    (dict(num_classes=40, class_clusters=26), r"class_clusters = 26 is invalid: expected 0 \(off\) or from 2 to 25 "
                                              r"clusters per class \(at most 1,000 labels in all for 40 classes\)"),
    (dict(num_classes=1), r"num_classes = 1 is invalid: expected 0 \(count the data's classes\) or from 2 to"),
    (dict(clusters=10, num_classes=5), "num_classes = 5 is invalid: expected 0 unless the preset is conditional"),
])
def test_clusters_need_a_conditional_architecture_and_a_sensible_count(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_preset("cgan", **overrides).validate()


def test_a_self_conditioned_preset_is_not_conditional_but_its_architecture_takes_labels():
    preset = get_preset("cgan", clusters=50).validate()
    assert not preset.conditional and preset.label_architecture
    assert get_preset("fast").conditional and not get_preset("fast_unconditional_plain").label_architecture
