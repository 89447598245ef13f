"""gan_lab runs on Keras's TensorFlow backend: refuse any other at ``import gan_lab``, in one clear line.

Keras 3 picks its backend once, when ``keras`` is first imported: ``$KERAS_BACKEND`` if set, else the
``"backend"`` of ``keras.json`` in ``$KERAS_HOME`` (default ``~/.keras``, or ``/tmp/.keras`` when the home
folder is not writable), else TensorFlow. This module reads the same settings without importing Keras or
TensorFlow, so ``import gan_lab`` stays cheap; when Keras is already imported, its actual backend is asked.
"""
from __future__ import annotations

import json
import os
import sys

ENV = "KERAS_BACKEND"


class KerasBackendError(ImportError):
    """Keras is (or will be) set to a backend other than TensorFlow."""

    def _render_traceback_(self):  # IPython, Jupyter and Colab show this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def keras_config_path() -> str:
    """The ``keras.json`` Keras reads (it may not exist)."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.expanduser(os.path.join(home, "keras.json"))


def configured_backend() -> tuple[str, str]:
    """``(backend, what set it)`` as Keras resolves it, without importing Keras or TensorFlow."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(getattr(keras, "backend", None), "backend"):
        return keras.backend.backend(), "the keras module already imported in this process"
    backend, source = "tensorflow", "Keras's default"
    path = keras_config_path()
    try:
        with open(path) as f:
            value = json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):  # no file, unreadable, not a JSON object: Keras's default
        value = None
    if value:
        backend, source = str(value), path
    if os.environ.get(ENV):
        backend, source = os.environ[ENV], f"the environment variable {ENV}"
    return backend, source


def require_tensorflow_backend() -> None:
    """Raise :class:`KerasBackendError` (a one-line message) unless Keras uses TensorFlow."""
    backend, source = configured_backend()
    if backend != "tensorflow":
        raise KerasBackendError(
            f"gan_lab needs Keras's TensorFlow backend, but Keras is set to {backend!r} (by {source}). "
            f"Set {ENV}=tensorflow before keras is first imported (shell: export {ENV}=tensorflow; notebook: "
            f"os.environ['{ENV}'] = 'tensorflow' in the first cell), then restart the runtime and run again.")
