"""What the colour benchmarks share: the folder they measure on and the noise they score.

`attention_probe.py`, `colour_time_to_quality.py`, `floor_spread.py`, `grow_probe.py`, `truncation.py` and
`two_sample_validation.py` read `--data-dir` (default `$GAN_LAB_DATA_DIR/emoji-64`) through :func:`picture_folder`;
the scripts that score a generator draw ``uniform_noise(n, noise_dim, NOISE_SEED)``, the noise
`colour_time_to_quality.py` scores at every mark, so their tables compare like with like.
"""
from __future__ import annotations

import os
from pathlib import Path

from gan_lab.data import normalize_name, to_unit_range
from gan_lab.evaluation import evaluate
from gan_lab.sampling import generate
from time_to_quality import NOISE_SEED  # the noise colour_time_to_quality.py scores at every mark

__all__ = ["FOLDER_HELP", "NOISE_SEED", "draw_and_score", "picture_folder"]

FOLDER_HELP = "the folder of pictures (default $GAN_LAB_DATA_DIR/emoji-64)"


def picture_folder(data_dir: str | None = None) -> tuple[Path, str]:
    """``data_dir`` or ``$GAN_LAB_DATA_DIR/emoji-64`` (``../shared/data`` without the variable) → (the folder,
    its dataset name ``folder:<absolute path>``)."""
    folder = Path(data_dir or Path(os.environ.get("GAN_LAB_DATA_DIR", "../shared/data")) / "emoji-64")
    return folder, normalize_name(f"folder:{folder.resolve()}")


def draw_and_score(generator, noise, dataset: str, output: str = "tanh"):
    """The generator's pictures for ``noise`` in [0, 1] and their offline scores against ``dataset`` (the
    random-feature metrics and the two-sample test ``c2st``, as ``gan-lab evaluate --c2st``)."""
    pictures = to_unit_range(generate(generator, noise), output)
    return pictures, evaluate(pictures, dataset, n=None, value_range="unit", two_sample=True)
