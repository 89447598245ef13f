"""FLOPs of one GAN update per preset, counted layer by layer by gan_lab.flops (no timing, no training).

    python benchmarks/flops.py > benchmarks/results/flops.txt
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gan_lab.flops import preset_update_flops  # noqa: E402
from gan_lab.presets import PRESETS  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    args = ap.parse_args(argv)
    print("FLOPs of one update (d_steps discriminator steps + one generator step), forward and backward,")
    print("multiply-adds of Dense/Conv2D/Conv2DTranspose only (gan_lab/flops.py); gradient penalty not counted")
    print(f"{'preset':<20} {'batch':>5} {'d_steps':>7} {'D part GFLOP':>12} {'G part GFLOP':>12} "
          f"{'GFLOP/step':>10} {'MFLOP/image':>11}")
    for name in args.presets:
        preset = PRESETS[name]
        f = preset_update_flops(preset)
        print(f"{name:<20} {preset.batch_size:>5} {preset.d_steps:>7} {f['d_step'] / 1e9:>12.2f} "
              f"{f['g_step'] / 1e9:>12.2f} {f['total'] / 1e9:>10.2f} {f['total'] / preset.batch_size / 1e6:>11.1f}")


if __name__ == "__main__":
    main()
