"""Command line: ``gan-lab {train,sample,evaluate,interpolate,nearest,presets}`` (also ``python -m gan_lab ...``).

Every sub-command is registered the same way: its arguments here, its handler named as ``module:function``
and imported only when the command runs, so ``gan-lab --help``, ``gan-lab presets`` and argument errors
answer without importing TensorFlow. Every preset field is a flag of ``train`` (``--batch-size 64``,
``--g-lr 2e-4``, ``--spectral-norm yes``; ``--lr`` sets both learning rates), parsed by
:func:`gan_lab.presets.parse_field`.

Exit status: 0 done (also "nothing to train"), 2 a user error (one line ``error: ...``), 3 training
diverged, 130 interrupted twice (the last checkpoint is kept).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from gan_lab import __version__
from gan_lab.presets import PRESETS, add_preset_arguments, get_preset, overrides_from_args, parse_float

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROG = "gan-lab"


class UserError(Exception):
    """A mistake in what was asked; printed as one ``error:`` line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but an argument error is one line ``error: ...`` and exit status 2 (no usage dump)."""

    def error(self, message):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def whole_number(name: str, least: int):
    """An argparse type: an integer >= ``least``, errors in the preset fields' style (``epochs = -2 is ...``)."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} = {text!r} is invalid: expected a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{name} = {value} is invalid: expected an integer >= {least}")
        return value
    return convert


def seconds(text):
    try:
        value = parse_float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"max_seconds = {text!r} is invalid: {exc}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"max_seconds = {value:g} is invalid: expected a number of seconds > 0")
    return value


def add_train(sub):
    t = sub.add_parser("train", help="train a preset into a run folder (or resume one)")
    t.add_argument("--preset", default=None, help=f"one of: {', '.join(PRESETS)} (default cs231n_dcgan)")
    t.add_argument("--dataset", default=None,
                   help="mnist, fashion_mnist, cifar10, celeba or folder:PATH (default: the preset's; the colour "
                        "presets read the folder of pictures given with --data-dir)")
    t.add_argument("--epochs", type=whole_number("epochs", 0), default=None, help="total epochs (default: the preset's)")
    t.add_argument("--max-steps", type=whole_number("max_steps", 0), default=None, help="stop at this global step")
    t.add_argument("--max-seconds", type=seconds, default=None, help="stop after this much training time")
    t.add_argument("--out", default=None, help="run folder (default runs/<preset>-<dataset>-<time>)")
    t.add_argument("--resume", metavar="RUN_DIR", default=None,
                   help="continue this run from its last checkpoint, with the preset stored in it")
    t.add_argument("--data-dir", default=None,
                   help="where the data is: a folder of pictures (colour presets: dcgan64, fast64, ...), or a "
                        "folder holding mnist/, fashion-mnist/, cifar-10-python.tar.gz or img_align_celeba/")
    t.add_argument("--deterministic", action="store_true", help="bitwise-reproducible ops (slower)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--tensorboard", action="store_true", help="also log to RUN_DIR/tensorboard")
    t.add_argument("--strategy", default="default", choices=["default", "mirrored", "multiworker", "tpu"],
                   help="tf.distribute strategy (default: one device)")
    t.add_argument("--cpu-replicas", type=whole_number("cpu_replicas", 1), default=None, metavar="N",
                   help="split the CPU into N logical devices (try distributed training on one machine)")
    add_preset_arguments(t)
    t.set_defaults(handler="gan_lab.cli:cmd_train")


def add_sample(sub):
    s = sub.add_parser("sample", help="draw images from a run's saved generator")
    s.add_argument("run_dir")
    s.add_argument("--n", type=whole_number("n", 1), default=64, help="number of images (default 64)")
    s.add_argument("--out", required=True, help="FILE.npy (float32 in [0,1], (N,H,W) grayscale or (N,H,W,3) "
                                                "colour), FILE.png (grid) or DIR (PNGs)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--label", default=None,
                   help="class to draw, 0 .. K-1 for a run of K classes, or a class folder's name (conditional runs: "
                        "fast, cgan, cgan32, cgan64)")
    s.set_defaults(handler="gan_lab.cli:cmd_sample")


def add_evaluate(sub):
    p = sub.add_parser(
        "evaluate", help="score a run's generator (or a .npy of samples): the right metrics for its data",
        description="Score generated images against real ones. MNIST / Fashion-MNIST at 28×28: gan_lab's classifier "
                    "metrics (FCD, classifier score, modes, class KL, precision, recall, density, coverage). Any "
                    "other data (colour, CIFAR-10, CelebA, a folder): KID and Frechet distance, precision, recall, "
                    "density and coverage on a fixed seeded random conv net (offline), plus InceptionV3 FID/KID "
                    "when its weights are present. Says which it used, prints a table with the real-data floor "
                    "and writes metrics.json.")
    p.add_argument("target", help="a run folder (preset.json + generator.keras) or a .npy file of images")
    p.add_argument("--dataset", default=None,
                   help="mnist, fashion_mnist, cifar10, celeba or folder:PATH (required for .npy files; default "
                        "for runs: the preset's)")
    p.add_argument("--n", type=whole_number("n", 1), default=10000,
                   help="generated images to score (default 10000)")
    p.add_argument("--out", default=None,
                   help="where to write the JSON (default: RUN_DIR/metrics.json or FILE.metrics.json)")
    p.add_argument("--inception", default="auto", choices=("auto", "download", "off"),
                   help="colour / any-folder data: add InceptionV3 FID and KID when its ImageNet weights are on disk "
                        "(auto, default), let Keras download them (download: needs internet, e.g. Colab), or not (off)")
    p.add_argument("--c2st", action="store_true",
                   help="colour / any-folder data: also the classifier two-sample test (a small CNN trained to tell "
                        "the samples from real pictures; its held-out accuracy, 0.5 = it cannot; slower: it trains "
                        "a network)")
    p.add_argument("--value-range", default=None, choices=("uint8", "unit", "tanh"),
                   help=".npy files: the pixel range if inference (min < 0 -> [-1, 1]) is not wanted")
    p.set_defaults(handler="gan_lab.evaluation:run_evaluate_command")


def add_interpolate(sub):
    p = sub.add_parser(
        "interpolate", help="walk the latent space of a run's generator between random noise vectors",
        description="Interpolate between random noise vectors (uniform in [-1, 1]) and draw the generator's "
                    "images along the way: a PNG grid (one row per interpolation) or a GIF animation.")
    p.add_argument("run_dir", help="a run folder (preset.json + generator.keras)")
    p.add_argument("--out", required=True, help="FILE.png (grid, one row per interpolation) or FILE.gif (animation)")
    p.add_argument("--rows", type=int, default=8, help="number of interpolations (default 8)")
    p.add_argument("--steps", type=int, default=10, help="images per interpolation, endpoints included (default 10)")
    p.add_argument("--method", default="slerp", metavar="{slerp,linear}", help="slerp (spherical, default) or linear")
    p.add_argument("--seed", type=int, default=0, help="seed of the endpoint noise (default 0)")
    p.add_argument("--label", default=None,
                   help="class for a conditional generator, a number or a class folder's name (default: row i uses "
                        "class i modulo the class count)")
    p.set_defaults(handler="gan_lab.explore:run_interpolate_command")


def add_nearest(sub):
    p = sub.add_parser(
        "nearest", help="show a run's samples beside their nearest training pictures (and check for copies)",
        description="Draw samples from a run's generator and find the training pictures nearest to each: a PNG "
                    "with one row per sample (the sample, then its nearest training pictures) and a JSON beside it "
                    "with their names and distances. Also scores authenticity (Alaa et al. 2022: the share of "
                    "samples not closer to a training picture than that picture's own nearest neighbour) against "
                    "the same share for real pictures: lower means copies.")
    p.add_argument("run_dir", help="a run folder (preset.json + generator.keras)")
    p.add_argument("--out", required=True, help="FILE.png (the grid; FILE.json is written beside it)")
    p.add_argument("--rows", type=whole_number("rows", 1), default=8, help="samples shown, one per row (default 8)")
    p.add_argument("--k", type=whole_number("k", 1), default=5, help="nearest training pictures per row (default 5)")
    p.add_argument("--n", type=whole_number("n", 1), default=1000,
                   help="samples scored for authenticity (default 1000; the rows are the first of them)")
    p.add_argument("--space", default="pixels", choices=("pixels", "features"),
                   help="distances between pixels (default: what the eye compares) or between the features of "
                        "gan_lab's fixed random network")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample noise (default 0)")
    p.set_defaults(handler="gan_lab.nearest:run_nearest_command")


def add_presets(sub):
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(handler="gan_lab.cli:cmd_presets")


COMMANDS = (add_train, add_sample, add_evaluate, add_interpolate, add_nearest, add_presets)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Train, sample and evaluate GANs on MNIST, Fashion-MNIST, CIFAR-10, "
                                           "CelebA or your own folder of pictures.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def cmd_train(args) -> int:
    from gan_lab.callbacks import DivergenceError
    from gan_lab.distribute import make_strategy
    from gan_lab.train import train

    overrides = overrides_from_args(args)
    if args.dataset is not None:
        overrides["dataset"] = args.dataset
    if args.resume:
        if args.out is not None:
            raise UserError("--resume RUN_DIR continues the run in that folder: drop --out")
        preset = _resume_preset(args, overrides)
    else:
        preset = get_preset(args.preset or "cs231n_dcgan", **overrides)
        if args.epochs is not None:
            preset = preset.replace(epochs=args.epochs)
        preset.validate()
    strategy = make_strategy(args.strategy, args.cpu_replicas)
    try:
        result = train(preset, args.resume or args.out, resume=bool(args.resume), max_steps=args.max_steps,
                       max_seconds=args.max_seconds, epochs=args.epochs, data_dir=args.data_dir,
                       deterministic=args.deterministic, verbose=0 if args.quiet else 1, strategy=strategy,
                       tensorboard=args.tensorboard)
    except DivergenceError as exc:
        print(f"error: training diverged: {exc}", file=sys.stderr)
        return 3
    print(f"run folder: {result.run_dir}")
    return 0


def _resume_preset(args, overrides):
    """The preset a resumed run continues with: the one stored in its preset.json, which flags may restate but
    not change (a changed recipe is a new run)."""
    from gan_lab.runs import Run

    stored = Run(args.resume).read_preset()
    if args.preset is not None and args.preset != stored.name:
        raise UserError(f"{args.resume} was trained with preset {stored.name!r}, not {args.preset!r}: "
                        "resume without --preset (or with the same one), or start a new run")
    changed = {k: v for k, v in overrides.items() if getattr(stored, k) != v}
    if changed:
        raise UserError(f"{args.resume} was trained with preset {stored.name!r}; the settings asked for differ in "
                        f"{', '.join(sorted(changed))}. Resume without changing the preset, or start a new run")
    return stored


def cmd_sample(args) -> int:
    import numpy as np

    from gan_lab.plots import save_grid, save_images
    from gan_lab.runs import sample

    out = Path(args.out)
    if out.suffix not in (".npy", ".png", ""):
        raise UserError(f"--out {out}: expected a .npy file, a .png file (grid) or a folder name (PNGs)")
    _check_can_write(out if out.suffix else out / "img_000.png")
    images = sample(args.run_dir, n=args.n, seed=args.seed, label=args.label)
    if out.suffix == ".npy":
        np.save(out, images.astype(np.float32))
    elif out.suffix == ".png":
        save_grid(images, out, ncols=10 if args.label is None and len(images) % 10 == 0 else None)
    else:
        save_images(images, out)
    print(f"wrote {len(images)} images to {out}")
    return 0


def _check_can_write(path: Path):
    """Refuse early (before loading a model) an output path below a file, or in a folder we cannot create."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"--out {path}: {parent} is a file, not a folder; choose another --out")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {path}: cannot create {path.parent} ({exc.strerror or exc}); choose another --out")


def cmd_presets(args) -> int:
    width = max(len(n) for n in PRESETS)
    for name, p in PRESETS.items():
        shape = "×".join(map(str, p.image_shape))
        print(f"{name:<{width}}  {p.dataset:<13} {shape:<8} {p.architecture:<17} {p.loss:<6} {p.description}")
    return 0


def _handler(spec: str):
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument error already printed
        return exc.code
    try:
        return _handler(args.handler)(args)
    except KeyboardInterrupt as exc:
        print(f"interrupted: {exc or 'Ctrl-C'}. What was saved before is kept; resume with "
              "`gan-lab train --resume RUN_DIR`", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc) -> str:
    """The message of a user error (a list of places tried keeps its lines)."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc).strip()


if __name__ == "__main__":
    raise SystemExit(main())
