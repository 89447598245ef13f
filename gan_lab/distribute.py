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

import json
import os

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


def configure_cpu_replicas(n: int):
    """Split the CPU into ``n`` logical devices. Must run before TensorFlow initializes its devices."""
    import tensorflow as tf

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
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    if cpu_replicas is not None and cpu_replicas < 1:
        raise ValueError(f"cpu_replicas = {cpu_replicas} is invalid: expected an integer >= 1")
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("the multiworker strategy needs TF_CONFIG (cluster and task) set on every worker; "
                             "see the README section 'Train beyond one device'")
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


def task_info() -> tuple[str, int]:
    """(task type, index) from ``TF_CONFIG``; ``("chief", 0)`` when there is none."""
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cfg.get("task", {})
    return task.get("type", "chief"), int(task.get("index", 0))


def is_chief(strategy=None) -> bool:
    """True on the worker that writes outputs: the ``chief`` task, or worker 0 when the cluster has no chief."""
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    if strategy is not None:
        import tensorflow as tf
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return True
    if not cfg:
        return True
    kind, index = task_info()
    has_chief = "chief" in cfg.get("cluster", {})
    return kind == "chief" or (kind == "worker" and index == 0 and not has_chief)
