"""What the colour benchmarks share: the folder they measure on and the noise they score.

`attention_probe.py`, `colour_time_to_quality.py`, `floor_spread.py`, `grow_probe.py`, `truncation.py` and
`two_sample_validation.py` read `--data-dir` (default `$GAN_LAB_DATA_DIR/emoji-64`) through :func:`picture_folder`;
the scripts that score a generator draw ``uniform_noise(n, noise_dim, NOISE_SEED)``, the noise
`colour_time_to_quality.py` scores at every mark, so their tables compare like with like. The probes of changes to
`fast64` (`attention_probe.py`, `grow_probe.py`) share their arguments, set-up and report
(:func:`add_probe_arguments`, :func:`probe_fast64`, :func:`report_probe`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from gan_lab.data import load_dataset, normalize_name, to_unit_range
from gan_lab.evaluation import evaluate
from gan_lab.gan import build_gan
from gan_lab.plots import save_grid
from gan_lab.presets import get_preset
from gan_lab.sampling import generate, uniform_noise
from time_to_quality import NOISE_SEED  # the noise colour_time_to_quality.py scores at every mark

__all__ = ["FOLDER_HELP", "NOISE_SEED", "add_probe_arguments", "draw_and_score", "picture_folder", "probe_fast64",
           "report_probe"]

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


def add_probe_arguments(ap, out_help: str):
    """The arguments every `fast64` probe takes (``--seed``, ``--data-dir``, ``--width``, ``--n``, ``--out``)."""
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", default=None, help=FOLDER_HELP)
    ap.add_argument("--width", type=int, default=None, help="override fast64's width (tests)")
    ap.add_argument("--n", type=int, default=690, help="samples scored (default 690)")
    ap.add_argument("--out", required=True, help=out_help)


def probe_fast64(args, **overrides):
    """``(dataset, preset, gan, images)`` of a probe: `fast64` at ``args.seed`` (``args.width``, ``overrides``) on
    the folder of ``args.data_dir``, built as the CLI builds it, and the folder's pictures at 64×64."""
    _, dataset = picture_folder(args.data_dir)
    if args.width is not None:
        overrides["width"] = args.width
    preset = get_preset("fast64", dataset=dataset, seed=args.seed, **overrides)
    gan = build_gan(preset)  # before the pictures are read, as the probes' recorded runs did
    images, _ = load_dataset(dataset, "train", image_size=64, channels=3, verbose=False)
    return dataset, preset, gan, images


def report_probe(gan, preset, dataset, args, save_generator: bool = False, **fields):
    """Score a probe's EMA generator (``args.n`` samples of the benchmarks' noise), write its 100 first samples to
    ``args.out``/grid.png (and the generator to gen.keras), print ``fields`` and the scores as one JSON line."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sampler = gan.sampler
    if save_generator:
        sampler.save(out / "gen.keras")
    pictures, scores = draw_and_score(sampler, uniform_noise(args.n, preset.noise_dim, NOISE_SEED), dataset)
    save_grid(pictures[:100], out / "grid.png", ncols=10)
    print(json.dumps({"seed": args.seed, **fields, **{k: round(float(v), 5) for k, v in scores.items()}}))
