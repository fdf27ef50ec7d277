"""hdrkeras turns on TF's pooled CPU allocator at import, unless the user chose."""

import json
import os
import subprocess
import sys

from hdrkeras import tf_runtime

# Tells the allocators apart by behaviour: only the pooled (BFC) one honours a pool limit,
# so with a 4 MB pool a 16 MB tensor fails under it and succeeds under the default one.
# (Allocator statistics are no proof: TF's default allocator reports them on some hosts.)
PROBE = """
import json, os
import tensorflow as tf
import hdrkeras
try:
    (tf.ones([2048, 2048]) * 2.0).numpy()
    pooled = False
except tf.errors.ResourceExhaustedError:
    pooled = True
print(json.dumps({"var": os.environ.get("TF_CPU_ALLOCATOR_USE_BFC"), "pooled": pooled}))
"""


def run_probe(**env_overrides):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop(tf_runtime.POOLED_ALLOCATOR_VAR, None)
    env[tf_runtime.POOL_LIMIT_VAR] = "4"
    env.update(env_overrides)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_selects_pooled_allocator_even_after_importing_tensorflow():
    result = run_probe()
    assert result == {"var": "true", "pooled": True}


def test_users_choice_wins():
    result = run_probe(TF_CPU_ALLOCATOR_USE_BFC="false")
    assert result == {"var": "false", "pooled": False}


def test_pool_limit_is_the_machines_ram_unless_set():
    environ = {}
    tf_runtime.use_pooled_cpu_allocator(environ)
    assert environ[tf_runtime.POOLED_ALLOCATOR_VAR] == "true"
    assert int(environ[tf_runtime.POOL_LIMIT_VAR]) == tf_runtime.physical_memory_mb() > 0
    environ = {tf_runtime.POOL_LIMIT_VAR: "2048", tf_runtime.POOLED_ALLOCATOR_VAR: "0"}
    tf_runtime.use_pooled_cpu_allocator(environ)
    assert environ == {tf_runtime.POOL_LIMIT_VAR: "2048", tf_runtime.POOLED_ALLOCATOR_VAR: "0"}
