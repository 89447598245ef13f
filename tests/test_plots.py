"""gan_lab.plots helpers that notebooks call."""
import matplotlib
import numpy as np
import pytest

from gan_lab.plots import pick_evenly, save_grid, show_grid_files


def test_pick_evenly_keeps_first_last_and_spacing():
    assert pick_evenly(range(3), 8) == [0, 1, 2]
    assert pick_evenly(range(10), 4) == [0, 3, 6, 9]
    assert pick_evenly(range(101), 5) == [0, 25, 50, 75, 100]
    with pytest.raises(ValueError, match="most"):
        pick_evenly(range(3), 0)


def test_show_grid_files_titles_each_grid_with_its_step(tmp_path):
    paths = [save_grid(np.full((4, 28, 28), i / 10, np.float32), tmp_path / f"step_{250 * i:06d}.png")
             for i in range(10)]
    fig = show_grid_files(paths, "samples", max_grids=5, per_row=3)
    try:
        titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titled == ["step 0", "step 500", "step 1000", "step 1750", "step 2250"]  # files 0, 2, 4, 7, 9
        assert len(fig.axes) == 6  # 2 rows of 3; the spare axis is blank
        assert fig._suptitle.get_text() == "samples"
    finally:
        matplotlib.pyplot.close(fig)
    one_row = show_grid_files([tmp_path / "step_000000.png", tmp_path / "step_000250.png"])
    try:
        assert len(one_row.axes) == 2
    finally:
        matplotlib.pyplot.close(one_row)
    with pytest.raises(ValueError, match="no grid files"):
        show_grid_files([])


def test_side_by_side_script_puts_titled_pictures_in_one_png(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from PIL import Image
    a = save_grid(np.zeros((4, 8, 8)), tmp_path / "a.png")                  # black, 2×2 grid
    b = save_grid(np.ones((9, 8, 8, 3)) * [1.0, 0.0, 0.0], tmp_path / "b.png")  # red, 3×3 grid
    script = Path(__file__).resolve().parents[1] / "scripts" / "side_by_side.py"
    out = tmp_path / "both.png"
    done = subprocess.run([sys.executable, str(script), str(out), str(a), "black", str(b), "red"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    both, ia, ib = Image.open(out), Image.open(a), Image.open(b)
    assert both.width > ia.width + ib.width and both.height > max(ia.height, ib.height)
    colours = {c for _, c in both.getcolors(2 ** 16)}
    assert (255, 0, 0) in colours and (0, 0, 0) in colours and (255, 255, 255) in colours
    bad = subprocess.run([sys.executable, str(script), str(out), str(a)], capture_output=True, text=True)
    assert bad.returncode == 2 and "side_by_side.py OUT.png" in bad.stderr
