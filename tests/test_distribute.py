"""tf.distribute: mirrored over 2 logical CPU devices equals one device; a real 2-process multiworker run."""
import json
import os
import re
import socket
import subprocess
import sys
import time

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


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_multiworker_two_processes_on_localhost(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    try:
        for index in range(2):
            env = dict(ENV, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gan_lab", "train", "--preset", "fast", "--strategy", "multiworker",
                 "--max-steps", "8", "--batch-size", "32", "--checkpoint-every", "4", "--quiet",
                 "--out", str(tmp_path / f"out{index}")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO))
        deadline = time.time() + 420
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=max(1, deadline - time.time()))
            outs.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
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
