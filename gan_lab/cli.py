"""Command line: ``python -m gan_lab {train,sample,presets,evaluate}``.

Every preset field is a flag of ``train`` (``--batch-size 64``, ``--g-lr 2e-4``; ``--lr`` sets both learning
rates). User errors print one line and exit with status 2; a diverged run exits with status 3.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_lab.presets import PRESETS, Preset  # noqa: E402

_SKIP_FIELDS = {"name", "description", "reference", "dataset", "epochs"}


def _field_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_preset_fields(p: argparse.ArgumentParser):
    group = p.add_argument_group("preset fields (override the preset's value)")
    for f in fields(Preset):
        if f.name in _SKIP_FIELDS:
            continue
        kind = type(f.default)
        group.add_argument(_field_flag(f.name), dest=f"field_{f.name}", type=kind, default=None, metavar=kind.__name__.upper())
    group.add_argument("--lr", type=float, default=None, help="set both --g-lr and --d-lr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_lab", description="Train, sample and evaluate GANs on MNIST / Fashion-MNIST.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a preset into a run folder")
    t.add_argument("--preset", default=None, help=f"one of: {', '.join(PRESETS)} (default cs231n_dcgan)")
    t.add_argument("--dataset", default=None, help="mnist or fashion_mnist (default: the preset's)")
    t.add_argument("--epochs", type=int, default=None, help="total epochs (default: the preset's)")
    t.add_argument("--max-steps", type=int, default=None, help="stop at this global step")
    t.add_argument("--max-seconds", type=float, default=None, help="stop after this much training time")
    t.add_argument("--out", default=None, help="run folder (default runs/<preset>-<dataset>-<time>)")
    t.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue this run from its last checkpoint")
    t.add_argument("--data-dir", default=None, help="folder holding mnist/ or fashion-mnist/ IDX files")
    t.add_argument("--deterministic", action="store_true", help="bitwise-reproducible ops (slower)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--tensorboard", action="store_true", help="also log to RUN_DIR/tensorboard")
    t.add_argument("--strategy", default="default", choices=["default", "mirrored", "multiworker", "tpu"],
                   help="tf.distribute strategy (default: one device)")
    t.add_argument("--cpu-replicas", type=int, default=None, metavar="N",
                   help="split the CPU into N logical devices (try distributed training on one machine)")
    _add_preset_fields(t)

    s = sub.add_parser("sample", help="draw images from a run's saved generator")
    s.add_argument("run_dir")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True, help="FILE.npy (array (N,28,28) in [0,1]), FILE.png (grid) or DIR (PNGs)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--label", type=int, default=None, help="class 0-9 to draw (conditional runs, preset cgan)")

    sub.add_parser("presets", help="list the presets")

    from gan_lab import explore
    explore.add_interpolate_parser(sub)

    from gan_lab import evaluation
    evaluation.add_evaluate_parser(sub)
    return parser


class UserError(Exception):
    pass


def _preset_from_args(args) -> Preset:
    from gan_lab.presets import get_preset

    overrides = {f.name: getattr(args, f"field_{f.name}") for f in fields(Preset)
                 if f.name not in _SKIP_FIELDS and getattr(args, f"field_{f.name}", None) is not None}
    if args.lr is not None:
        overrides.setdefault("g_lr", args.lr)
        overrides.setdefault("d_lr", args.lr)
    if args.dataset is not None:
        overrides["dataset"] = args.dataset
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    return get_preset(args.preset or "cs231n_dcgan", **overrides)


def cmd_train(args) -> int:
    from gan_lab.distribute import make_strategy
    from gan_lab.runs import read_preset, train

    strategy = make_strategy(args.strategy, args.cpu_replicas)
    if args.resume:
        stored = read_preset(args.resume)
        if args.preset is not None and args.preset != stored.name:
            raise UserError(f"{args.resume} was trained with preset {stored.name!r}, not {args.preset!r}: "
                            "resume without --preset (or with the same one), or start a new run")
        args.preset = stored.name
        base = _preset_from_args(args)
        preset = stored.replace(**{k: v for k, v in base.to_dict().items()
                                   if v != PRESETS.get(stored.name, stored).to_dict().get(k)})
        preset.validate()
        result = train(preset, args.resume, resume=True, max_steps=args.max_steps, max_seconds=args.max_seconds,
                       epochs=args.epochs, data_dir=args.data_dir, deterministic=args.deterministic,
                       verbose=0 if args.quiet else 1, strategy=strategy, tensorboard=args.tensorboard)
    else:
        preset = _preset_from_args(args).validate()
        result = train(preset, args.out, max_steps=args.max_steps, max_seconds=args.max_seconds,
                       data_dir=args.data_dir, deterministic=args.deterministic, verbose=0 if args.quiet else 1,
                       strategy=strategy, tensorboard=args.tensorboard)
    print(f"run folder: {result.run_dir}")
    return 0


def cmd_sample(args) -> int:
    import numpy as np

    from gan_lab.plots import save_grid, save_images
    from gan_lab.runs import sample

    images = sample(args.run_dir, n=args.n, seed=args.seed, label=args.label)
    out = Path(args.out)
    if out.suffix == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, images.astype(np.float32))
    elif out.suffix == ".png":
        save_grid(images, out, ncols=10 if args.label is None and len(images) % 10 == 0 else None)
    elif out.suffix == "":
        save_images(images, out)
    else:
        raise UserError(f"--out {out}: expected a .npy file, a .png file (grid) or a folder name (PNGs)")
    print(f"wrote {len(images)} images to {out}")
    return 0


def cmd_presets(args) -> int:
    width = max(len(n) for n in PRESETS)
    for name, p in PRESETS.items():
        print(f"{name:<{width}}  {p.dataset:<13} {p.architecture:<13} {p.loss:<6} {p.description}")
    return 0


def main(argv=None) -> int:
    from gan_lab.callbacks import DivergenceError

    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": cmd_train, "sample": cmd_sample, "presets": cmd_presets}
    if args.command == "evaluate":
        from gan_lab import evaluation
        handlers["evaluate"] = evaluation.run_evaluate_command
    if args.command == "interpolate":
        from gan_lab import explore
        handlers["interpolate"] = explore.run_interpolate_command
    try:
        return handlers[args.command](args)
    except DivergenceError as exc:
        print(f"error: training diverged: {exc}", file=sys.stderr)
        return 3
    except (UserError, ValueError, FileNotFoundError, PermissionError) as exc:
        msg = str(exc).strip()
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
