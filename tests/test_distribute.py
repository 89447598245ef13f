"""tf.distribute: mirrored over 2 logical CPU devices equals one device; a real 2-process multiworker run."""
import json
import os
import re
import socket
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def test_mirrored_two_cpu_replicas_match_one_device_first_step():
    p = subprocess.run([sys.executable, os.path.join(REPO, "tests", "distributed_step.py")], capture_output=True,
                       text=True, timeout=300, env=ENV, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    assert r["replicas"] == [1, 2]
    for key in ("d_loss", "g_loss", "real_score", "fake_score"):
        assert r["losses_mirrored"][key] == pytest.approx(r["losses_single"][key], rel=1e-5, abs=1e-6)
    assert r["max_g_weight_change"] > 1e-4          # the step really moved the weights ...
    assert r["max_g_weight_diff"] < 1e-5             # ... and both ways moved them the same
    assert r["max_d_weight_diff"] < 1e-5


def test_mirrored_cli_run_with_two_cpu_replicas(tmp_path):
    run = tmp_path / "run"
    p = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--preset", "fast", "--strategy", "mirrored",
                        "--cpu-replicas", "2", "--max-steps", "30", "--batch-size", "32", "--quiet", "--out",
                        str(run)], capture_output=True, text=True, timeout=600, env=ENV, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    state = json.loads((run / "run_state.json").read_text())
    assert state["step"] == 30 and state["status"] == "stopped"
    assert (run / "generator.keras").exists() and (run / "final_grid.png").exists()


def test_lazy_r1_with_two_replicas_is_a_clear_error_before_any_folder_is_made(tmp_path):
    """Lazy R1 steps the optimizer inside tf.cond, which MirroredStrategy cannot synchronize (a RuntimeError
    deep in fit() before the check): now one line saying what to do, and no run folder."""
    run = tmp_path / "run"
    p = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--preset", "fast", "--strategy", "mirrored",
                        "--cpu-replicas", "2", "--r1-weight", "0.1", "--r1-every", "2", "--max-steps", "2",
                        "--quiet", "--out", str(run)], capture_output=True, text=True, timeout=600, env=ENV, cwd=REPO)
    assert p.returncode != 0
    assert "lazy R1 (r1_every = 2) does not work with 2 replicas" in p.stderr + p.stdout
    assert "Traceback" not in p.stderr and not run.exists()


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _launch_two_workers(tmp_path):
    """Start both workers on two free ports; ``None`` when a port was taken in between (the race every
    'find a free port' has), so the caller can try new ports."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    try:
        for index in range(2):
            env = dict(ENV, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gan_lab", "train", "--preset", "fast", "--strategy", "multiworker",
                 "--max-steps", "8", "--batch-size", "32", "--checkpoint-every", "4", "--quiet",
                 "--out", str(tmp_path / f"out{index}")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO))
        outs = [p.communicate(timeout=420) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]
    if any(rc != 0 and re.search(r"[Aa]ddress already in use", err) for rc, _, err in results):
        return None
    return results


def test_multiworker_two_processes_on_localhost(tmp_path):
    for attempt in range(3):
        outs = _launch_two_workers(tmp_path / f"attempt{attempt}")
        if outs is not None:
            break
    assert outs is not None, "three pairs of free ports were each taken before the workers bound them"
    tmp_path = tmp_path / f"attempt{attempt}"
    for rc, out, err in outs:
        assert rc == 0, err[-3000:]
    prints = [re.search(r"fingerprint: (\w+) \(trainable\)", out).group(1) for _, out, _ in outs]
    # both workers end with bitwise-identical trainable generator weights (BatchNorm moving statistics are
    # per-worker: each worker normalizes its own share of the batch)
    assert prints[0] == prints[1]
    chief, other = tmp_path / "out0", tmp_path / "out1"
    assert json.loads((chief / "run_state.json").read_text())["step"] == 8
    assert (chief / "checkpoints" / "ckpt-8.index").exists() and (chief / "history.csv").exists()
    assert not other.exists()  # only the chief wrote outputs
    assert "written by the chief" in outs[1][1]


@pytest.mark.parametrize("value, message", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('["worker"]', "TF_CONFIG = .* is malformed"),
    ('{"cluster": ["a:1"], "task": {}}', "is malformed"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "zero"}}', "integer 'index'"),
])
def test_a_malformed_tf_config_is_a_clear_error(monkeypatch, value, message):
    from gan_lab.distribute import is_chief, make_strategy
    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match=message):
        is_chief()
    with pytest.raises(ValueError, match=message):
        make_strategy("multiworker")


def test_keras_still_has_the_build_hook_gan_overrides_and_a_strategy_trains_like_one_device():
    """GAN overrides Keras's private TensorFlowTrainer._maybe_symbolic_build (see its comment; without it the
    conditional multi-worker test above fails). If Keras renames the hook, the override is silently dead: this
    fails. fit() under a one-device MirroredStrategy trains on exactly the batches the default strategy does."""
    import inspect

    import keras
    import numpy as np
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from gan_lab.data import training_batches
    from gan_lab.gan import GAN
    from gan_lab.models import dense_discriminator, dense_generator

    assert list(inspect.signature(TensorFlowTrainer._maybe_symbolic_build).parameters) == [
        "self", "iterator", "data_batch"]
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    weights = []
    for strategy in (tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0"])):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            gan = GAN(dense_generator(noise_dim=8), dense_discriminator(), seed=0)
            gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
        gan.fit(training_batches(images, 16), steps_per_epoch=4, epochs=1, verbose=0)
        weights.append([w.numpy() for w in gan.generator.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
