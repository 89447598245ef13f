"""Pictures: sample grids, loss curves, GIFs. Grids are drawn with Pillow (fast, no figure state);
loss curves with matplotlib's Agg backend, so nothing here needs a screen. ``matplotlib.pyplot`` is imported
only by the functions that show a figure inline: importing it picks a GUI backend."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def _as_unit_images(images) -> np.ndarray:
    """Images in [0, 1] → float (N, H, W) for grayscale or (N, H, W, 3) for colour: accepts (N, 784),
    (N, H, W), (N, H, W, 1) and (N, H, W, 3)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3)):
        raise ValueError(f"expected images of shape (N, H, W), (N, H, W, 1), (N, H, W, 3) or (N, 784), "
                         f"got {x.shape}")
    return np.clip(x, 0.0, 1.0)


def image_grid(images, ncols: int | None = None, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tile images in [0, 1] into one uint8 array, (H, W) for grayscale or (H, W, 3) for colour; white
    padding between tiles."""
    x = _as_unit_images(images)
    n, h, w = x.shape[:3]
    ncols = ncols or int(math.ceil(math.sqrt(n)))
    nrows = int(math.ceil(n / ncols))
    grid = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad) + x.shape[3:], dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top:top + h, left:left + w] = x[i]
    out = (grid * 255.0 + 0.5).astype(np.uint8)
    if scale > 1:
        out = out.repeat(scale, axis=0).repeat(scale, axis=1)
    return out


def save_grid(images, path, ncols: int | None = None, scale: int = 2) -> Path:
    """Write a grid of images in [0, 1] to a PNG file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image_grid(images, ncols=ncols, scale=scale)).save(path)
    return path


def save_images(images, folder, prefix: str = "img_") -> list[Path]:
    """Write each image in [0, 1] as its own PNG (grayscale or RGB, at its size): ``img_000.png``, ..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x = (_as_unit_images(images) * 255.0 + 0.5).astype(np.uint8)
    width = max(3, len(str(len(x) - 1)))
    paths = []
    for i, img in enumerate(x):
        p = folder / f"{prefix}{i:0{width}d}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    return paths


def save_gif(png_paths, path, duration_ms: int = 300) -> Path | None:
    """Animate a sequence of grid PNGs into a looping GIF; returns None when there are no frames."""
    png_paths = [Path(p) for p in png_paths]
    if not png_paths:
        return None
    frames = [Image.open(p) for p in png_paths]
    frames = [f.convert("RGB" if f.mode in ("RGB", "RGBA", "P") else "L") for f in frames]
    path = Path(path)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path


def plot_losses(history, path=None, title: str = "GAN losses", smooth: int = 0):
    """Plot d_loss and g_loss against step. ``history`` is a dict of lists or a list of row dicts.

    Returns the matplotlib Figure; writes a PNG when ``path`` is given. ``smooth`` > 1 adds a moving average.
    """
    if path is not None:  # draw off-screen without touching pyplot's backend (notebooks keep inline plots)
        fig = Figure(figsize=(7, 3.5))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
    else:
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 3.5))

    if isinstance(history, (list, tuple)):
        keys = history[0].keys() if history else []
        history = {k: [row[k] for row in history] for k in keys}
    steps = np.asarray(history.get("step", range(len(history.get("d_loss", [])))), dtype=float)
    for key, color in (("d_loss", "tab:blue"), ("g_loss", "tab:orange")):
        if key not in history:
            continue
        y = np.asarray(history[key], dtype=float)
        ax.plot(steps, y, color=color, alpha=0.35 if smooth > 1 else 1.0, lw=0.8, label=key)
        if smooth > 1 and len(y) >= smooth:
            k = np.ones(smooth) / smooth
            ax.plot(steps[smooth - 1:], np.convolve(y, k, mode="valid"), color=color, lw=1.8,
                    label=f"{key} (mean of {smooth})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def show_images(images, ncols: int | None = None, title: str | None = None, size: float = 4.0):
    """Show a grid of images in [0, 1] inline (notebooks) and return the Figure."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, ncols=ncols)
    fig, ax = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def pick_evenly(items, most: int) -> list:
    """At most ``most`` of ``items``: the first, the last and evenly spaced ones between (all if fewer)."""
    items = list(items)
    if most <= 0:
        raise ValueError(f"most = {most} is invalid: expected a positive number of items to keep")
    if len(items) <= most:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, most).round().astype(int)]


def show_grid_files(paths, title: str | None = None, max_grids: int = 8, per_row: int | None = None,
                    size: float = 2.8):
    """A Figure of the sample-grid PNGs a run wrote (``step_000250.png``, ``epoch_0005.png``), each titled
    with its step or epoch: the first, the last and evenly spaced ones between, ``max_grids`` at most,
    ``per_row`` per row (default: all in one row). Display it with ``display(fig)`` in a notebook."""
    import matplotlib.pyplot as plt
    paths = pick_evenly([Path(p) for p in paths], max_grids)
    if not paths:
        raise ValueError("no grid files to show: pass the PNG paths a run wrote (e.g. RUN/generated_samples/*.png)")
    per_row = per_row or len(paths)
    rows = -(-len(paths) // per_row)
    fig, axes = plt.subplots(rows, per_row, figsize=(size * per_row, (size + 0.5) * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, path in zip(axes.flat, paths):
        unit, _, number = path.stem.partition("_")
        picture = np.asarray(Image.open(path))
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_title(f"{unit} {int(number)}" if number.isdigit() else path.stem, fontsize=11)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
