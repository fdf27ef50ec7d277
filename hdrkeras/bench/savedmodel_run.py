"""Runs one exported SavedModel in a process that imports only TensorFlow and numpy.

What TF Serving does: no hdrkeras, no Keras model code. Run as a script (not with -m, so
the hdrkeras package is not imported):

  python hdrkeras/bench/savedmodel_run.py MODEL_DIR INPUTS.npz OUTPUT.npz [REPEATS]

INPUTS.npz holds `ldr` float32 [B, N, H, W, 3] gamma LDR in [0, 1] and `exposures`
float32 [B, N]. OUTPUT.npz gets `hdr` (linear HDR [B, H, W, 3]), `seconds` (the timed
calls after one warm-up), `gpu` (1 when TensorFlow saw a GPU) and `modules_ok` (1 when no
hdrkeras module was imported). The device is chosen by the environment
(CUDA_VISIBLE_DEVICES=-1 forces the CPU).
"""

import os
import sys
import time

import numpy as np
import tensorflow as tf


def main(argv):
    model_dir, inputs, output = argv[1:4]
    repeats = int(argv[4]) if len(argv) > 4 else 1
    data = np.load(inputs)
    ldr, exposures = tf.constant(data["ldr"]), tf.constant(data["exposures"])
    fn = tf.saved_model.load(model_dir).signatures["serving_default"]
    hdr = fn(ldr=ldr, exposures=exposures)["hdr"].numpy()  # warm-up (XLA compiles here)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        hdr = fn(ldr=ldr, exposures=exposures)["hdr"].numpy()
        seconds.append(time.perf_counter() - start)
    clean = not any(name == "hdrkeras" or name.startswith("hdrkeras.") for name in sys.modules)
    tmp = output + ".tmp.npz"  # temp name + rename: a reader never sees half a file
    np.savez(tmp, hdr=hdr, seconds=np.array(seconds),
             gpu=np.array(int(bool(tf.config.list_physical_devices("GPU")))),
             modules_ok=np.array(int(clean)))
    os.replace(tmp, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
