"""tf.distribute strategy and numeric policy selection for training."""

import keras
import tensorflow as tf

from hdrkeras.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name):
    """default: one device; mirrored: all local GPUs (or CPU); multi_worker: TF_CONFIG cluster."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"--strategy {name!r} is not one of {', '.join(STRATEGIES)}")


def set_precision(mixed):
    """Mixed precision uses float16 where a GPU is present and bfloat16 on CPU (float16
    matmuls are emulated and slow on CPU); variables stay float32 either way."""
    if not mixed:
        keras.mixed_precision.set_global_policy("float32")
        return "float32"
    policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def worker_role(strategy):
    """(task_type, task_id, is_chief) of this process in its cluster; a single process is
    its own chief. In a multi-worker cluster without a "chief" task, worker 0 is chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None)
    if not task_type:
        return None, None, True
    cluster = resolver.cluster_spec().as_dict()
    chief = task_type == "chief" or (task_type == "worker" and task_id == 0
                                     and "chief" not in cluster)
    return task_type, task_id, chief
