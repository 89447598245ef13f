"""``import gan_lab`` under a non-TensorFlow Keras backend: one clear line, and no TensorFlow import to say it.

Each case runs in a fresh interpreter (the backend is read at import), with HOME and KERAS_HOME in a
temporary folder so the machine's own ~/.keras/keras.json plays no part.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
result = {}
try:
    import gan_lab
    result["imported"] = gan_lab.__file__
except ImportError as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
    result["rendered"] = exc._render_traceback_() if hasattr(exc, "_render_traceback_") else None
result["tensorflow_imported"] = "tensorflow" in sys.modules
result["keras_imported"] = "keras" in sys.modules
print(json.dumps(result))
"""


def probe(tmp_path, backend_env=None, keras_json=None, prelude=""):
    home = tmp_path / "home"
    keras_home = home / ".keras"
    keras_home.mkdir(parents=True, exist_ok=True)
    if keras_json is not None:
        (keras_home / "keras.json").write_text(json.dumps(keras_json))
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    if backend_env is not None:
        env["KERAS_BACKEND"] = backend_env
    out = subprocess.run([sys.executable, "-c", prelude + PROBE], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_env_var_backend_is_refused_in_one_line(tmp_path, backend):
    result = probe(tmp_path, backend_env=backend)
    assert "imported" not in result
    error = result["error"]
    assert error.startswith("KerasBackendError: gan_lab needs Keras's TensorFlow backend")
    assert f"'{backend}'" in error and "environment variable KERAS_BACKEND" in error
    assert "KERAS_BACKEND=tensorflow" in error and "restart the runtime" in error
    assert "\n" not in error
    assert result["rendered"] == [error]  # what Jupyter / Colab show: the line, no traceback
    assert not result["tensorflow_imported"] and not result["keras_imported"]


def test_keras_json_backend_is_refused(tmp_path):
    result = probe(tmp_path, keras_json={"backend": "jax", "floatx": "float32"})
    assert "'jax'" in result["error"] and "keras.json" in result["error"]
    assert not result["tensorflow_imported"]


def test_env_var_wins_over_keras_json(tmp_path):
    # As in Keras: KERAS_BACKEND overrides the config file, both ways.
    assert "imported" in probe(tmp_path, backend_env="tensorflow", keras_json={"backend": "jax"})
    assert "'torch'" in probe(tmp_path, backend_env="torch", keras_json={"backend": "tensorflow"})["error"]


def test_tensorflow_and_defaults_import_cheaply(tmp_path):
    for kwargs in ({}, {"backend_env": "tensorflow"}, {"keras_json": {"backend": "tensorflow"}},
                   {"keras_json": {"floatx": "float32"}}, {"backend_env": ""}):
        result = probe(tmp_path, **kwargs)
        assert result.get("imported", "").startswith(str(REPO)), (kwargs, result)
        assert not result["tensorflow_imported"] and not result["keras_imported"], kwargs
    (tmp_path / "home" / ".keras" / "keras.json").write_text("{not json")  # Keras ignores a broken file too
    assert "imported" in probe(tmp_path)


def test_an_already_imported_keras_is_asked(tmp_path):
    fake_jax_keras = ("import sys, types\n"
                      "sys.modules['keras'] = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: 'jax'))\n")
    result = probe(tmp_path, backend_env="tensorflow", prelude=fake_jax_keras)
    assert "'jax'" in result["error"] and "already imported" in result["error"]
