"""The benchmark scripts run (tiny budgets; the figures themselves live in benchmarks/README.md)."""
import contextlib
import csv
import io
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import DATA_DIR

from gan_lab.cli import main
from gan_lab.data import load_image_folder
from gan_lab.gan import build_gan
from gan_lab.presets import get_preset
from gan_lab.runs import Run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _run(script, *args):
    """What ``python SCRIPT ARGS`` prints, run from the repository in this process: a new Python would import
    TensorFlow again (6-7 s a script; this file took 613 s instead of 573 s with -n 2, back to back)."""
    printed, argv, path, cwd = io.StringIO(), sys.argv, sys.path[:], os.getcwd()
    sys.argv, sys.path[:0] = [script, *args], [os.path.join(REPO, os.path.dirname(script))]  # as python does
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(os.path.join(REPO, script), run_name="__main__")
    except SystemExit as exc:
        assert exc.code in (None, 0), f"{script} exited with {exc.code}; it printed:\n{printed.getvalue()[-3000:]}"
    finally:
        sys.argv, sys.path[:] = argv, path
        os.chdir(cwd)
    return printed.getvalue()


def _run_process(*args):
    """What ``python ARGS`` prints, in a process of its own: for memory.py, which measures its own process, and
    levers.py, whose prototypes patch gan_lab's functions (GAN.train_step, ...) for the rest of the process."""
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600, env=ENV, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def _throughput_row(out, name):
    """The preset's row of throughput.py's table, its figures checked against each other; returns its fields."""
    row = [line for line in out.splitlines() if line.startswith(name)][0].split()
    plain, ours, ratio = float(row[2]), float(row[3]), float(row[4])
    assert plain > 0 and ours > 0 and abs(ratio - ours / plain) < 0.01
    achieved, kernels, share = float(row[6]), float(row[8]), float(row[9].rstrip("%"))
    # all three are printed rounded to whole numbers: the share must lie within what the rounding allows
    # (a flat ±1 failed on a busy machine: 36 / 43 GFLOP/s printed with a share of 82 %, 83.7 % recomputed)
    assert kernels > 0
    assert 100 * (achieved - 0.5) / (kernels + 0.5) - 0.5 <= share <= 100 * (achieved + 0.5) / (kernels - 0.5) + 0.5
    return row


def test_throughput_benchmark_prints_ratio_against_plain_loop_and_the_kernel_peak():
    # the plain loop too: clusters picked from the noise, InfoGAN's code head; fast needs MNIST's real labels
    # (clusters within each class: all-zero labels made one class and an error). cs231n_dense: the next test
    out = _run("benchmarks/throughput.py", "--presets", "fast_unconditional", "fast_infogan", "fast",
               "--steps", "4", "--warmup", "2", "--repeats", "1", "--peak-size", "256")
    assert "matmul peak (256x256, best of 3)" in out and "fp32" in out and "bf16" in out
    for name in ("fast_unconditional", "fast_infogan", "fast"):
        _throughput_row(out, name)


def test_throughput_benchmark_takes_overrides_and_times_xla():
    out = _run("benchmarks/throughput.py", "--presets", "cs231n_dense", "--steps", "3", "--warmup", "2",
               "--repeats", "1", "--peak-size", "256", "--set", "precision=mixed_bfloat16", "batch_size=32", "--xla")
    assert "precision=mixed_bfloat16" in out and "batch_size=32" in out
    row = _throughput_row(out, "cs231n_dense")
    assert int(row[1]) == 32  # the override reached the preset
    assert float(row[-1]) > 0  # the XLA column
    p = subprocess.run([sys.executable, "benchmarks/throughput.py", "--peak-size", "0"], capture_output=True,
                       text=True, timeout=300, env=ENV, cwd=REPO)
    assert p.returncode == 2 and "--peak-size 0 is invalid" in p.stderr  # was a ZeroDivisionError after timing a preset


def test_time_to_quality_benchmark_writes_its_own_files_labels_the_task_and_gives_ratios(tmp_path):
    out = _run("benchmarks/time_to_quality.py", "--presets", "fast_unconditional", "fast", "fast_unconditional_plain",
               "--marks", "4", "8", "--n", "500", "--set", "batch_size=32", "--out", str(tmp_path))
    assert "real-data floor" in out
    assert "setup before the first step (not in train_s)" in out and "100 k-means clusters, models)" in out
    stem = tmp_path / "ttq-mnist-fast_unconditional_fast_fast_unconditional_plain-4_8-batch_size=32"
    rows = list(csv.DictReader(open(f"{stem}.csv")))
    assert [r["task"] for r in rows] == ["unconditional"] * 2 + ["conditional"] * 2 + ["unconditional"] * 2
    assert [float(r["mark_s"]) for r in rows[:2]] == [4.0, 8.0]
    # scored at the first step past each mark (the exact timing rules are tested with a fake clock in
    # tests/test_evaluation.py)
    assert all(float(r["mark_s"]) <= float(r["train_s"]) for r in rows)
    assert int(rows[1]["step"]) > int(rows[0]["step"]) > 0
    # ratios only within a task: the plain unconditional recipe against the first unconditional preset
    ratio_lines = [line for line in out.splitlines() if " x " in line]
    assert len(ratio_lines) == 2 and all("fast_unconditional_plain FCD" in line for line in ratio_lines)
    assert open(f"{stem}.txt").read().strip().endswith(f"in {tmp_path}")  # the printed output, kept
    assert Path(f"{stem}.png").stat().st_size > 1000


def test_quality_at_steps_benchmark_prints_a_json_line_per_step_mark():
    out = _run("benchmarks/quality_at_steps.py", "fast_unconditional", "2,5", "batch_size=32")
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["step"] for r in rows] == [2, 5]  # scored at each mark, then training stopped
    assert [r["images"] for r in rows] == [64, 160]  # the batch_size override reached the preset
    assert list(rows[0])[:8] == ["fcd", "score", "modes", "class_kl", "precision", "recall", "density", "coverage"]
    assert rows[0]["fcd"] != rows[1]["fcd"]  # the generator trained between the marks


def test_memory_benchmark_reports_peak_rss():
    out = _run_process("benchmarks/memory.py", "--presets", "fast", "--seconds", "3")
    row = [line for line in out.splitlines() if line.startswith("fast")][0].split()
    assert 100 < float(row[1]) < 8000 and int(row[2]) > 0


def test_memory_benchmark_draws_from_a_run_with_each_batch_in_its_own_process(tmp_path):
    # a run folder as training leaves it, untrained: --draw reads preset.json and generator.keras only
    preset = get_preset("keras_faces")
    run = Run(tmp_path / "kf")
    run.folder.mkdir()
    run.write_preset(preset)
    build_gan(preset).sampler.save(run.folder / "generator.keras")
    out = _run_process("benchmarks/memory.py", "--draw", str(run.folder), "--n", "40", "--batches", "auto", "7")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["auto"][1] == "32" and rows["7"][1] == "7"  # keras_faces' 64×64×512 map: 32 per call
    assert all(300 < float(r[2]) < 8000 and float(r[3]) > 0 for r in rows.values())


def test_flops_benchmark_prints_the_layer_count_of_each_preset():
    from gan_lab.flops import preset_update_flops
    out = _run("benchmarks/flops.py", "--presets", "fast", "wgan_gp")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("fast", "wgan_gp"))}
    for name in ("fast", "wgan_gp"):
        assert float(rows[name][5]) == round(preset_update_flops(get_preset(name))["total"] / 1e9, 2)
    assert int(rows["wgan_gp"][2]) == 5


def test_colour_time_to_quality_writes_one_file_per_variant_a_summary_and_a_grid_at_every_mark(tmp_path):
    out = _run("benchmarks/colour_time_to_quality.py", "--variants", "fast32", "fast32+da", "--marks", "2", "4",
               "--n", "100", "--set", "width=8", "batch_size=16", "--grids-at-marks", "--out", str(tmp_path))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "colour_ttq-emoji-64-fast32-2-4.csv" in files and "colour_ttq-emoji-64-fast32+da-2-4.csv" in files
    assert "colour_ttq-emoji-64-fast32+da-2-4.png" in files  # the final images
    rows = list(csv.DictReader(open(tmp_path / "colour_ttq-emoji-64-fast32+da-2-4.csv")))
    assert [float(r["mark_s"]) for r in rows] == [2.0, 4.0] and int(rows[1]["step"]) > int(rows[0]["step"]) > 0
    assert float(rows[0]["images_per_s"]) > 0 and "kid_random" in rows[0]
    assert all(0.0 <= float(r["c2st"]) <= 1.0 for r in rows)  # the two-sample test at every mark
    summary = [f for f in files if f.endswith(".md")]
    text = (tmp_path / summary[0]).read_text()
    assert len(summary) == 1 and "| fast32+da | fast32 | kid_random | " in text
    assert "| fast32+da | fast32 | c2st | " in text  # every score, against every variant before it
    assert "peak RSS" in out and "load average before" in out
    # --grids-at-marks: each variant's 100 samples of the same noise at every mark, beside the final grid
    early, late = (np.asarray(Image.open(tmp_path / f"colour_ttq-emoji-64-fast32-2-4-at{m}s.png")) for m in (2, 4))
    assert early.shape == late.shape == (2 * (10 * 34 + 2), 2 * (10 * 34 + 2), 3)  # 100 samples, 10 per row, 32 px
    assert not np.array_equal(early, late)  # the generator trained between the marks
    assert "colour_ttq-emoji-64-fast32+da-2-4-at4s.png" in files


def test_colour_variants_read_their_extras():
    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    try:
        from colour_time_to_quality import variant_overrides
    finally:
        sys.path.remove(os.path.join(REPO, "benchmarks"))
    assert variant_overrides("fast64") == ("fast64", {})
    assert variant_overrides("dcgan64_half+bn") == ("dcgan64_half", {"ema_bn_samples": 512})
    assert variant_overrides("fast64+da+bn") == ("fast64", {"diff_augment": "color,translation,cutout",
                                                             "ema_bn_samples": 512})
    for bad in ("fast64+xx", "fast64+da+da"):
        with pytest.raises(SystemExit, match="expected PRESET with any of"):
            variant_overrides(bad)


def test_colour_ratios_from_an_earlier_summary_divide_the_distances_to_real_at_every_mark(tmp_path):
    name = "colour_ttq-emoji-64-summary-a_b-60-600.md"
    (tmp_path / name).write_text(
        "real floor (n=690, 64×64×3): kid_random -0.00100, fd_random 1.000, c2st 0.488, precision 0.8, recall 0.8\n\n"
        "| variant | mark s | steps | img/s | peak RSS MB | kid_random | fd_random | c2st | precision | recall "
        "| coverage |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| a | 60 | 10 | 1 | 1 | 0.1 | 2 | 0.9 | 0 | 0 | 0 |\n| a | 600 | 90 | 1 | 1 | 0.1 | 2 | 0.9 | 0 | 0 | 0 |\n"
        "| b | 60 | 10 | 1 | 1 | 0.1 | 2 | 0.9 | 0 | 0 | 0 |\n| b | 600 | 90 | 1 | 1 | 0.1 | 2 | 0.9 | 0 | 0 | 0 |\n")
    header = "mark_s,step,kid_random,fd_random,c2st\n"  # the CSVs hold the full-precision scores
    (tmp_path / "colour_ttq-emoji-64-a-60-600.csv").write_text(header + "60,10,0.099,5.0,0.9\n600,90,0.009,3.0,0.7\n")
    (tmp_path / "colour_ttq-emoji-64-b-60-600.csv").write_text(header + "60,10,0.009,3.0,0.9\n600,90,0.0,1.5,0.55\n")
    out = _run("benchmarks/colour_time_to_quality.py", "--ratios-from", str(tmp_path / name))
    rows = {line.split("|")[3].strip(): [c.strip() for c in line.split("|")[4:6]]
            for line in (tmp_path / name.replace(".md", "-ratios.md")).read_text().splitlines()
            if line.startswith("| b | a |")}
    # (0.099 + 0.001) / (0.009 + 0.001) = 10, (0.009 + 0.001) / (0 + 0.001) = 10; (5 - 1) / (3 - 1) = 2,
    # (3 - 1) / (1.5 - 1) = 4; c2st against 0.5, not its floor: 0.4 / 0.4 = 1, 0.2 / 0.05 = 4
    assert rows == {"kid_random": ["10×", "10×"], "fd_random": ["2.00×", "4.00×"], "c2st": ["1.00×", "4.00×"]}
    assert "wrote" in out
    (tmp_path / "colour_ttq-emoji-64-b-60-600.csv").unlink()  # a summary moved without its CSVs: a one-line error
    p = subprocess.run([sys.executable, "benchmarks/colour_time_to_quality.py", "--ratios-from", str(tmp_path / name)],
                       capture_output=True, text=True, env=ENV, cwd=REPO)
    assert p.returncode != 0 and "colour_ttq-emoji-64-b-60-600.csv is missing" in p.stderr
    assert "Traceback" not in p.stderr


def test_two_sample_validation_orders_real_blur_and_noise_and_scores_saved_generators(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--preset", "fast32", "--image-size", "64", "--width", "4", "--batch-size", "16",
                 "--data-dir", str(DATA_DIR / "emoji-64"), "--max-steps", "2", "--out", str(run), "--quiet"]) == 0
    shutil.copy(run / "generator.keras", run / "gen-2.keras")
    out = _run("benchmarks/two_sample_validation.py", "--n", "120", "--seeds", "0", "--runs", str(run),
               "--out", str(tmp_path / "v.txt"))
    rows = {line[:44].strip(): float(line.split()[-1]) for line in (tmp_path / "v.txt").read_text().splitlines()[3:]}
    assert abs(rows["real (the other half: the floor)"] - 0.5) < 0.15 and rows["uniform noise"] > 0.95
    assert rows["real, blurred (Gaussian σ 3 px)"] > 0.7 and rows["run gen-2"] > 0.8  # 2 steps: far from real
    assert "wrote" in out


def test_truncation_scores_each_psi_of_each_run_and_keeps_its_grid(tmp_path):
    run = tmp_path / "g"
    assert main(["train", "--preset", "fast32", "--width", "4", "--batch-size", "16", "--data-dir",
                 str(DATA_DIR / "emoji-64"), "--max-steps", "2", "--out", str(run), "--quiet"]) == 0
    out = _run("benchmarks/truncation.py", str(run), "--psi", "1", "0.5", "--n", "120", "--out", str(tmp_path / "t.txt"))
    rows = [line.split(" | ") for line in (tmp_path / "t.txt").read_text().splitlines() if line.startswith("| g |")]
    assert [r[1] for r in rows] == ["1", "0.5"] and rows[0][3] != rows[1][3]  # kid_random of other pictures
    for r in rows:
        assert (tmp_path / r[-1].rstrip(" |")).is_file()
    assert "wrote" in out
    p = subprocess.run([sys.executable, "benchmarks/truncation.py", str(run), "--psi", "1.5", "--out",
                        str(tmp_path / "u.txt")], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert p.returncode == 2 and "every ψ must be in (0, 1]" in p.stderr


def test_nearest_names_counts_the_words_of_the_folder_and_of_the_samples_nearest_pictures(tmp_path):
    from gan_lab.data import folder_picture_names
    run = tmp_path / "g"
    assert main(["train", "--preset", "fast32", "--width", "4", "--batch-size", "16", "--data-dir",
                 str(DATA_DIR / "emoji-64"), "--max-steps", "2", "--out", str(run), "--quiet"]) == 0
    out = _run("benchmarks/nearest_names.py", str(run), "--n", "60", "--words", "heart", "face", "--show", "other",
               "--out", str(tmp_path / "names.txt"))
    table = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith(("| word", "| ---"))]
    rows = {line.split(" | ")[0][2:]: [float(v.strip(" |")) for v in line.split(" | ")[1:]] for line in table}
    name_words = [n.lower().replace(".png", "").split("_") for n in folder_picture_names(DATA_DIR / "emoji-64")]
    hearts = sum("heart" in w or "hearts" in w for w in name_words)  # whole words or their plural, not "u1face"
    faces = sum(("face" in w or "faces" in w) and not ("heart" in w or "hearts" in w) for w in name_words)
    assert (hearts, faces) == (26, 162)  # a name counts for its first word
    assert rows["heart"][0] == pytest.approx(hearts / len(name_words), abs=5e-4)
    assert rows["face"][0] == pytest.approx(faces / len(name_words), abs=5e-4)
    assert sum(v[0] for v in rows.values()) == pytest.approx(1, abs=2e-3)
    assert sum(v[1] for v in rows.values()) == pytest.approx(1, abs=2e-3)
    assert (tmp_path / "names.txt").read_text().startswith("$ python benchmarks/nearest_names.py")
    shown = min(24, round(rows["other"][1] * 60))  # "other": samples whose nearest name holds neither word
    with Image.open(tmp_path / "names-other.png") as im:  # each sample followed by its nearest picture
        assert im.size == (2 * (8 * 34 + 2), 2 * (-(-2 * shown // 8) * 34 + 2))  # 8 columns of 32 px + 2 px, 2×
    p = subprocess.run([sys.executable, "benchmarks/nearest_names.py", str(run), "--n", "0", "--out",
                        str(tmp_path / "u.txt")], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert p.returncode == 2 and "--n 0: expected" in p.stderr


def test_classes_from_names_prints_the_classes_and_refuses_bad_values_in_one_line(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("u1_red_heart.png", "u2_smiling_face_with_heart_eyes.png", "u3_racing_car.png"):
        Image.new("RGB", (8, 8)).save(flat / name)
    out = _run("benchmarks/classes_from_names.py", str(flat), "--words", "face", "heart", "--out", str(tmp_path / "c"))
    assert [line.split() for line in out.splitlines()[:3]] == [["face", "1", "pictures"], ["heart", "1", "pictures"],
                                                               ["other", "1", "pictures"]]
    p = subprocess.run([sys.executable, "benchmarks/classes_from_names.py", str(flat), "--words", "face", "--out",
                        str(tmp_path / "c")], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert p.returncode == 2 and "is not empty: expected a new or empty folder" in p.stderr


def test_nearest_names_gives_a_conditional_run_a_column_per_class_and_shows_the_asked_class(tmp_path):
    _run("benchmarks/classes_from_names.py", str(DATA_DIR / "emoji-64"), "--words", "face", "heart", "--out",
         str(tmp_path / "classes"))
    run = tmp_path / "g"
    assert main(["train", "--preset", "cgan64", "--image-size", "32", "--width", "4", "--batch-size", "16",
                 "--data-dir", str(tmp_path / "classes"), "--max-steps", "2", "--out", str(run), "--quiet"]) == 0
    out = _run("benchmarks/nearest_names.py", str(run), "--n", "30", "--words", "heart", "face", "--show", "heart",
               "--out", str(tmp_path / "names.txt"))
    header = [line for line in out.splitlines() if line.startswith("| word")][0]
    assert [c.strip() for c in header.strip("|").split("|")][2:] == [
        f"share of the class {c} samples nearest one" for c in ("face", "heart", "other")]
    tables = out.split("| class |")
    table = [line for line in tables[0].splitlines() if line.startswith("| ") and not line.startswith(("| word",
                                                                                                       "| ---"))]
    columns = list(zip(*[[float(v.strip(" |")) for v in line.split(" | ")[1:]] for line in table]))
    assert len(columns) == 4 and all(sum(c) == pytest.approx(1, abs=2e-3) for c in columns)
    spread = {line.split(" | ")[0][2:]: [float(v.strip(" |")) for v in line.split(" | ")[1:]]
              for line in tables[1].splitlines() if line.startswith("| ") and not line.startswith("| ---")}
    assert list(spread) == ["face", "heart", "other"] and all(v[0] > 0 for v in spread.values())
    images, labels, _ = load_image_folder(tmp_path / "classes", image_size=32, cache_dir=tmp_path / "cache",
                                          verbose=False)
    hearts = images[labels == 1].reshape(int((labels == 1).sum()), -1) / 255.0
    pairs = [np.linalg.norm(a - b) for i, a in enumerate(hearts) for b in hearts[i + 1:]]
    assert spread["heart"][1] == pytest.approx(np.mean(pairs), abs=0.006)  # between two of the 23 hearts
    assert "the first 10 samples of class heart" in out  # every third of 30 samples is a heart
    with Image.open(tmp_path / "names-heart.png") as im:  # 10 samples, each + its picture: 8 columns, 3 rows
        assert im.size == (2 * (8 * 34 + 2), 2 * (3 * 34 + 2))


def test_grow_probe_runs_both_stages_and_scores_the_ema_generator(tmp_path):
    out = _run("benchmarks/grow_probe.py", "--seed", "3", "--steps32", "3", "--steps64", "2", "--width", "4",
               "--n", "120", "--out", str(tmp_path / "g"))
    r = json.loads(out.strip().splitlines()[-1])
    assert (r["steps32"], r["steps64"]) == (3, 2) and r["stage32_s"] > 0 and r["stage64_s"] > 0
    assert 0.5 < r["c2st"] <= 1.0 and (tmp_path / "g" / "grid.png").is_file()
    import keras
    assert keras.models.load_model(tmp_path / "g" / "gen.keras").output_shape == (None, 64, 64, 3)


def test_attention_probe_puts_self_attention_in_both_models_and_starts_as_the_identity(tmp_path):
    import keras
    out = _run_process("benchmarks/attention_probe.py", "--steps", "2", "--at", "16", "--width", "4", "--n", "120",
                       "--out", str(tmp_path / "a"))
    row = json.loads(out.strip().splitlines()[-1])
    assert row["attention_layers"] == ["attention_16", "d_attention_16"] and 0.5 <= row["c2st"] <= 1
    assert (tmp_path / "a" / "grid.png").is_file()
    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    try:
        from attention_probe import SelfAttention
    finally:
        sys.path.remove(os.path.join(REPO, "benchmarks"))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    block = SelfAttention(16)
    np.testing.assert_allclose(block(x), x)  # γ starts at 0
    block.gamma.assign(1.0)
    moved = keras.ops.convert_to_numpy(block(x))
    assert not np.allclose(moved, x)
    swapped = x.copy()  # every position reads every other: changing one corner moves the opposite one
    swapped[:, 0, 0] += 5.0
    assert not np.allclose(keras.ops.convert_to_numpy(block(swapped))[:, 7, 7], moved[:, 7, 7])


def test_ema_seeds_benchmark_scores_both_generators_of_each_seed(tmp_path):
    out = _run("benchmarks/ema_seeds.py", "--steps", "3", "--seeds", "0", "1", "--n", "200", "--set",
               "batch_size=16", "width=8", "--out", str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / "ema_seeds-fast_unconditional-mnist-3.csv")))
    assert [(r["seed"], r["generator"]) for r in rows] == [("0", "ema"), ("0", "raw"), ("1", "ema"), ("1", "raw")]
    assert rows[0]["fcd"] != rows[1]["fcd"]  # two different generators were scored
    assert "EMA better in" in out


def test_levers_runs_the_prototypes_and_appends_a_block(tmp_path):
    results = tmp_path / "levers.txt"
    for name, preset_set, knobs in (("xs", '{"architecture": "xs", "batch_size": 16, "r1_weight": 0.2, "r1_every": 2}',
                                     '{"d3": 1, "mbstd": 1}'),
                                    ("info", '{"architecture": "info", "batch_size": 16}', '{"info": 10, "r1": 0.1}')):
        _run_process("benchmarks/levers.py", "--name", name, "--preset", "fast_unconditional_plain", "--set",
                     preset_set, "--knobs", knobs, "--steps", "2", "4", "--n", "200", "--raw",
                     "--results", str(results))
    blocks = results.read_text().split("## ")[1:]
    assert [b.split()[0] for b in blocks] == ["xs", "info"]
    for block in blocks:
        steps = [int(line.split()[1]) for line in block.splitlines() if line.strip().startswith("step")]
        assert steps == [2, 4] and "RAW generator" in block


def test_levers_scores_a_colour_folder_with_the_random_feature_metrics(tmp_path):
    from conftest import DATA_DIR
    results = tmp_path / "colour_levers.txt"
    _run_process("benchmarks/levers.py", "--name", "w4", "--preset", "fast64",
                 "--dataset", f"folder:{DATA_DIR / 'emoji-64'}",
                 "--set", '{"width": 4, "batch_size": 16}', "--steps", "2", "--n", "100", "--results", str(results))
    step = [line for line in results.read_text().splitlines() if line.strip().startswith("step")]
    assert len(step) == 1 and "kid_random" in step[0] and "coverage" in step[0] and "fcd" not in step[0]


def test_levers_colour_prototypes_train_and_keep_the_generator_of_each_mark(tmp_path):
    """The five colour prototypes in one run (lecam: the loss, mirror: the data), and the prototype without them:
    ms gives D one logit per scale, mbstd its MinibatchStd layer, g32conv G's one Conv2D."""
    import keras

    from gan_lab.models import MinibatchStd  # registered for loading

    def run(knobs):
        out = tmp_path / ("_".join(knobs) or "none")
        _run_process("benchmarks/levers.py", "--name", out.name, "--preset", "fast64", "--dataset",
                     f"folder:{DATA_DIR / 'emoji-64'}", "--set",
                     '{"architecture": "dcgan_lever", "width": 4, "batch_size": 8, "minibatch_std": false, '
                     '"multiscale_d": false, "skip_g": false}',
                     "--knobs", json.dumps(knobs), "--steps", "1", "2", "--n", "60",
                     "--results", str(tmp_path / "l.txt"), "--out", str(out))
        assert sorted(p.name for p in out.glob("gen-*.keras")) == ["gen-1.keras", "gen-2.keras"]
        g = keras.models.load_model(out / "gen-2.keras")
        assert g.output_shape == (None, 64, 64, 3)
        return keras.models.load_model(out / "discriminator.keras", compile=False), g

    for knobs, on in (({"ms": 1, "mbstd": 1, "g32conv": 1, "lecam": 1, "mirror": 1}, True), ({}, False)):
        d, g = run(knobs)
        assert d.output_shape == (None, 2 if on else 1)
        assert any(type(l) is MinibatchStd for l in d.layers) == on
        assert len([l for l in g.layers if type(l) is keras.layers.Conv2D]) == (1 if on else 0)


def test_levers_schedule_knobs_decay_the_learning_rates_and_the_blur_of_what_d_sees(tmp_path):
    """The seventh round's knob: at update t both rates are lr · min(1, sqrt(S0 / t)) (S0 = 2, update 8: half).
    The tenth round's: σ_t = blur·max(0, 1 − t/blur_steps) in the train step (σ0 2, 16 steps: the last of 8
    updates, t = 7, used 2·(1 − 7/16) = 1.125)."""
    results = tmp_path / "l.txt"
    _run_process("benchmarks/levers.py", "--name", "lr_blur", "--preset", "fast64",
                 "--dataset", f"folder:{DATA_DIR / 'emoji-64'}", "--set", '{"width": 4, "batch_size": 8, "g_lr": 4e-4}',
                 "--knobs", '{"lr_isqrt": 2, "blur": 2, "blur_steps": 16}', "--steps", "8", "--n", "60",
                 "--results", str(results))
    text = results.read_text()
    assert "learning rates of update 8: g 0.0002 d 0.00025" in text
    assert "blur sigma of the last update: 1.125" in text


def test_levers_knobs_on_fast64_change_the_models_and_keep_more_emas(tmp_path):
    """The sixth round's knobs on fast64's own architecture, in one run: dnobn takes BatchNorm out of D, gtop widens
    G's first map (both against fast64 as gan_lab builds it), emas keeps more EMA copies; the k = 9 copy is the
    preset's EMA generator to the last bit."""
    import keras
    import numpy as np

    import gan_lab.models  # noqa: F401  (registers MinibatchStd for loading)

    out = tmp_path / "run"
    _run_process("benchmarks/levers.py", "--name", "k", "--preset", "fast64", "--dataset",
                 f"folder:{DATA_DIR / 'emoji-64'}", "--set", '{"width": 4, "batch_size": 8}',
                 "--knobs", '{"emas": [9, 3], "dnobn": 1, "gtop": 2}', "--steps", "2", "--n", "60",
                 "--results", str(tmp_path / "l.txt"), "--out", str(out))
    g = keras.models.load_model(out / "gen-2.keras")
    for w, w9 in zip(g.get_weights(), keras.models.load_model(out / "gen-2-k9.keras").get_weights()):
        np.testing.assert_array_equal(w, w9)
    assert any(not np.array_equal(w, w3) for w, w3 in
               zip(g.get_weights(), keras.models.load_model(out / "gen-2-k3.keras").get_weights()))

    def batchnorms(model):
        return sum(type(l) is keras.layers.BatchNormalization for l in model.layers)

    plain = build_gan(get_preset("fast64", width=4, batch_size=8))
    nobn = keras.models.load_model(out / "discriminator.keras", compile=False)
    assert batchnorms(plain.discriminator) == 5 and batchnorms(nobn) == 0
    assert nobn.output_shape == plain.discriminator.output_shape
    assert g.layers[1].units == 2 * plain.generator.layers[1].units
    assert g.output_shape == plain.generator.output_shape == (None, 64, 64, 3)


def test_floor_spread_scores_halves_of_a_folder_against_each_other(tmp_path):
    out = tmp_path / "spread.txt"
    _run("benchmarks/floor_spread.py", "--image-size", "32", "--n", "150", "--splits", "3", "--c2st-splits", "1",
         "--out", str(out))
    lines = out.read_text().splitlines()
    rows = [line.split() for line in lines[3:6]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    kids, fds = [float(r[1]) for r in rows], [float(r[2]) for r in rows]
    assert all(abs(k) < 0.01 for k in kids) and len(set(kids)) == 3  # three different splits, all near zero
    assert all(0 < f < 20 for f in fds)
    assert abs(float(rows[0][3]) - 0.5) < 0.2 and rows[1][3] == "nan"  # c2st on the first split only
    assert any(line.startswith("kid_random  mean") and "(splits: 3)" in line for line in lines)
    assert any(line.startswith("c2st s0") and "(splits: 1)" in line for line in lines)
    p = subprocess.run([sys.executable, "benchmarks/floor_spread.py", "--n", "5000"], capture_output=True, text=True,
                       env=ENV, cwd=REPO)
    assert p.returncode != 0 and "--n 5000 is too large" in p.stderr and "1380 pictures" in p.stderr


def test_epoch_boundary_benchmark_times_the_steps_across_epochs_with_and_without_autotune():
    out = _run("benchmarks/epoch_boundary.py", "--images", "640", "--epochs", "3")
    lines = {line.split(" (")[0].strip(): line for line in out.splitlines() if "median step" in line}
    assert set(lines) == {"autotune off", "autotune on"}
    for line in lines.values():  # two boundaries between three epochs, each timed
        assert line.split("boundaries: ")[1].count(" s") == 2


def test_step_time_benchmark_times_variants_in_turns_and_gives_ratios_to_the_first(tmp_path):
    results = tmp_path / "step_time.txt"
    out = _run("benchmarks/step_time.py", "--preset", "fast32", "--dataset", f"folder:{DATA_DIR / 'emoji-64'}",
               "--variants", '{"width": 8}', '{"width": 8, "recon_weight": 1.0}', "--steps", "2", "--blocks", "3",
               "--warmup", "1", "--results", str(results))
    assert results.read_text() == out
    rows = [line.split() for line in out.splitlines() if line.startswith("  {")]
    assert [r[0] for r in rows] == ['{"width":', '{"width":']
    medians = []
    for row in rows:  # ... MEDIAN s/step RATIOx (blocks T1 T2 T3)
        blocks = [float(t.strip("()")) for t in row[-3:]]
        medians.append(float(row[-7]))
        assert medians[-1] == np.median(blocks) and all(t > 0 for t in blocks)  # three blocks: the middle one
    ratios = [float(row[-5].rstrip("x")) for row in rows]
    assert ratios[0] == 1.0 and abs(ratios[1] - medians[1] / medians[0]) < 0.01


def test_step_time_benchmark_refuses_variants_that_need_other_batches():
    """Regression: a variant with another batch size or picture size was timed on the first variant's batches."""
    p = subprocess.run([sys.executable, "benchmarks/step_time.py", "--preset", "fast32", "--variants", "{}",
                        '{"batch_size": 16}'], capture_output=True, text=True, timeout=300, env=ENV, cwd=REPO)
    assert p.returncode == 2 and 'variant {"batch_size": 16} changes batch_size' in p.stderr


def test_kmeans_time_benchmark_times_each_repeat_and_appends_the_command(tmp_path):
    out = tmp_path / "kmeans_time.txt"
    printed = [_run("benchmarks/kmeans_time.py", *argv, "--out", str(out)).strip() for argv in
               (["--images", "600", "--k", "5", "--repeats", "3"], ["--images", "600", "--k", "2", "--class-clusters"])]
    assert printed[0].startswith("k-means, 5 clusters of 600 mnist images (28×28), seed 0: ")
    assert printed[0].split(": ")[1].split(" s ")[0].count(",") == 2  # three repeats
    assert printed[1].startswith("k-means, 2 clusters per class of 600 mnist images")
    text = out.read_text()
    assert "# python benchmarks/kmeans_time.py --images 600 --k 5 --repeats 3 --out" in text and printed[1] in text
