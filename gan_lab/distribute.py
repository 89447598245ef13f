"""Training on more than one device with TensorFlow's own engine, ``tf.distribute``.

- ``default``     — no distribution (one device).
- ``mirrored``    — ``MirroredStrategy``: synchronous data parallelism over the GPUs of one machine, or over N
  logical CPU devices with ``cpu_replicas=N`` (to try and test distributed code on a laptop).
- ``multiworker`` — ``MultiWorkerMirroredStrategy``: several machines (or processes), configured by the
  ``TF_CONFIG`` environment variable; every worker runs the same command.
- ``tpu``         — ``TPUStrategy`` (Colab / Cloud TPU; ``TPU_NAME`` or the Colab default address).

The batch size is the *global* batch: each of R replicas sees ``batch_size / R`` images per step. Losses are
averaged over the global batch (each replica's mean loss divided by R before the gradient all-reduce sum),
so one step with R replicas equals one step on one device with the same global batch. BatchNorm layers use
per-replica batch statistics (they are not synchronized across replicas).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


def configure_cpu_replicas(n: int):
    """Split the CPU into ``n`` logical devices. Must run before TensorFlow initializes its devices."""
    if n is None or n <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as exc:
        current = len(tf.config.list_logical_devices("CPU"))
        if current != n:
            raise ValueError(f"cannot split the CPU into {n} devices now ({exc}); TensorFlow already has "
                             f"{current} logical CPU device(s). Call configure_cpu_replicas first, in a fresh "
                             "process") from None


def make_strategy(name: str = "default", cpu_replicas: int | None = None):
    """A ``tf.distribute.Strategy`` by name (see the module docstring)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    if cpu_replicas is not None and cpu_replicas < 1:
        raise ValueError(f"cpu_replicas = {cpu_replicas} is invalid: expected an integer >= 1")
    if name == "multiworker":
        if not tf_config():
            raise ValueError("the multiworker strategy needs TF_CONFIG (cluster and task) set on every worker; "
                             "see the README section 'Train beyond one device'")
        task_info()  # a malformed task is a clear error here, not deep inside TensorFlow
        communication = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING)
        if cpu_replicas and cpu_replicas > 1:
            configure_cpu_replicas(cpu_replicas)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)
    if cpu_replicas and cpu_replicas > 1:
        configure_cpu_replicas(cpu_replicas)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = None
        if cpu_replicas and cpu_replicas > 1:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        elif not tf.config.list_physical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def tf_config() -> dict:
    """``TF_CONFIG`` as a dict (``{}`` when unset); a malformed value is a ValueError saying what is expected."""
    text = os.environ.get("TF_CONFIG", "") or "{}"
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}): expected for example "
                         '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
                         ) from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("cluster", {}), dict) \
            or not isinstance(cfg.get("task", {}), dict):
        raise ValueError(f"TF_CONFIG = {text[:200]!r} is malformed: expected a JSON object with a 'cluster' object "
                         "(task type -> list of host:port) and a 'task' object ({'type': ..., 'index': ...})")
    return cfg


def task_info() -> tuple[str, int]:
    """(task type, index) from ``TF_CONFIG``; ``("chief", 0)`` when there is none."""
    task = tf_config().get("task", {})
    try:
        return str(task.get("type", "chief")), int(task.get("index", 0))
    except (TypeError, ValueError):
        raise ValueError(f"TF_CONFIG task {task!r} is malformed: expected an integer 'index'") from None


def is_multiworker(strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy=None) -> bool:
    """True on the worker that writes outputs: the ``chief`` task, or worker 0 when the cluster has no chief."""
    if strategy is not None and not is_multiworker(strategy):
        return True
    cfg = tf_config()
    if not cfg:
        return True
    kind, index = task_info()
    has_chief = "chief" in cfg.get("cluster", {})
    return kind == "chief" or (kind == "worker" and index == 0 and not has_chief)


# --- what training does differently with several workers (used by gan_lab.train) ------------------------

def check_budget(strategy, max_seconds):
    """Workers must stop at the same step: a time budget could stop them at different ones."""
    if is_multiworker(strategy) and max_seconds is not None:
        raise ValueError("max_seconds is not supported with the multiworker strategy (workers must stop at the "
                         "same step): use --max-steps or --epochs")


def checkpoint_seconds(strategy, seconds):
    """Time-based checkpoints could fire on one worker and not another: multi-worker runs save by step only."""
    return None if is_multiworker(strategy) else seconds


@contextlib.contextmanager
def folder_for_this_worker(folder: Path, strategy, resume: bool):
    """The folder this worker writes: the run folder on the chief; on the other workers (which must write
    checkpoints too, collectively) a temporary copy that is deleted afterwards."""
    if is_chief(strategy):
        yield Path(folder)
        return
    tmp = Path(tempfile.mkdtemp(prefix="gan_lab_worker_"))
    try:
        if resume:
            shutil.copytree(folder, tmp, dirs_exist_ok=True)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def loggable(logs: dict) -> dict:
    """Keras reduces multi-worker logs with ``strategy.reduce(MEAN, axis=0)``, which needs a dimension."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {k: tf.reshape(v, [1]) for k, v in logs.items()}
    return logs
