#!/usr/bin/env python
"""Remove absl/TensorFlow log lines from the saved outputs of executed notebooks.

TensorFlow's C++ start-up messages (``WARNING: All log messages before absl::InitializeLog() ...``, then lines
such as ``I0000 00:00:1795808655.08 7639 port.cc:153] oneDNN custom operations are on ...``) are written to
the kernel's stderr before ``TF_CPP_MIN_LOG_LEVEL`` can silence them, so ``jupyter nbconvert --execute``
saves them into the notebook. They differ between machines and say nothing about the notebook: run this
after executing a notebook, before committing it. A stream output left empty is dropped; nothing else
changes. ``tests/test_notebooks_meta.py`` fails on any such line (it uses :data:`TF_LOG_LINE` from here).

Usage::

    python scripts/strip_log_lines.py notebooks/01_gan_basics_mnist.ipynb [...]
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TF_LOG_LINE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} \d\d:\d\d:\d+\.\d+ )",
                         re.MULTILINE)


def strip_text(text):
    """``text`` without its absl/TensorFlow log lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.match(line))


def strip_notebook(nb):
    """Remove the log lines from a notebook (a dict, changed in place); return how many lines went."""
    removed = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                clean = strip_text(text)
                removed += text.count("\n") - clean.count("\n")
                if not clean:
                    continue
                out["text"] = clean.splitlines(keepends=True) if isinstance(out["text"], list) else clean
            kept.append(out)
        cell["outputs"] = kept
    return removed


def main(argv=None):
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        removed = strip_notebook(nb)
        if removed:
            path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path}: {removed} log line(s) removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
