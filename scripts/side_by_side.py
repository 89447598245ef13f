"""Put PNG pictures side by side, each under its title, in one PNG (the README's comparison pictures).

    python scripts/side_by_side.py OUT.png A.png "title of A" B.png "title of B" [...]

docs/images/fast_unconditional_180s.png: the `final_grid.png` of two `gan-lab train --preset fast_unconditional
--max-seconds 180` runs (MNIST, then `--dataset fashion_mnist`), titled "MNIST" and "Fashion-MNIST".
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

GAP = 16       # pixels between pictures and around the whole
TITLE = 28     # height of the title strip above each picture


def side_by_side(pictures, titles, out) -> Path:
    """Write ``pictures`` (paths) left to right on white, each with its title above it; returns ``out``."""
    if len(pictures) != len(titles) or not pictures:
        raise ValueError(f"expected one title per picture and at least one picture, got {len(pictures)} "
                         f"pictures and {len(titles)} titles")
    images = [Image.open(p).convert("RGB") for p in pictures]
    width = GAP + sum(im.width + GAP for im in images)
    height = GAP + TITLE + max(im.height for im in images) + GAP
    canvas = Image.new("RGB", (width, height), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    x = GAP
    for im, title in zip(images, titles):
        draw.text((x, GAP + TITLE // 4), title, fill="black", font=font)
        canvas.paste(im, (x, GAP + TITLE))
        x += im.width + GAP
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) < 3 or len(args) % 2 == 0:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    print(side_by_side(args[1::2], args[2::2], args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
