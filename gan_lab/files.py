"""Writing files so that an interruption never leaves half of one: write a temporary file beside the target,
then rename it over the target (``os.replace`` is atomic on one file system). A crash, a full disk or a
Ctrl-C in the middle leaves the old file as it was, and the temporary one is removed when the write fails.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def atomic_write(path, write) -> Path:
    """Call ``write(tmp_path)`` to produce the content, then move it over ``path`` (created folders included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # this process's own temporary file (two processes may write the same cache file at once); the same suffix:
    # Keras insists on ".keras"
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_json(path, payload) -> Path:
    return atomic_write_text(path, json.dumps(payload, indent=2) + "\n")


def atomic_save_model(model, path) -> Path:
    """``model.save(path)`` (a ``.keras`` file) without ever leaving a truncated file at ``path``."""
    return atomic_write(path, lambda tmp: model.save(tmp))
