"""Export of inference models as TF Serving SavedModels.

A SavedModel written here has one signature, `serving_default`:

  inputs   ldr        float32 [B, N, H, W, 3] gamma-encoded LDR in [0,1], increasing exposure
           exposures  float32 [B, N] relative exposure times (shortest = 1)
  outputs  hdr        float32 [B, H, W, 3] linear HDR
           preview    uint8   [B, H, W, 3] mu-law tonemapped HDR (hdrkeras.ops.tonemap.preview)

for any H and W (the inference model pads to its architecture's multiple inside), plus the
extra inputs the method declares (hdrkeras.methods.base.Method.extra_inputs). It loads
and runs in a process that imports only TensorFlow, as TF Serving does. Layout is TF
Serving's: `<out_dir>/<version>/saved_model.pb`, versions are positive integers and a new
export takes the next one. A version directory appears complete or not at all.

CLI:
  python -m hdrkeras.export --method NAME [--checkpoint RUN_DIR|MODEL.keras] --out DIR
      [--xla] [--version N] [--frames N]
"""

import json
import os

import numpy as np
import tensorflow as tf

from hdrkeras import __version__, checks, methods
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import atomic_path, cleanup_on_failure
from hdrkeras.layers.cpu_inference import portable_graphs
from hdrkeras.ops import tonemap
from hdrkeras.saving import (METADATA_FILE, SIGNATURE, check_model_method, load_keras,
                             model_num_frames, next_version)


# ----------------------------------------------------------------------------- SavedModel

def _preview(hdr):
    return tonemap.preview(tf.maximum(hdr, 0.0))


class ServingModule(tf.Module):
    """Wraps a standard-signature keras.Model with validation and the tonemapped preview.

    Args:
      model: keras.Model. Inputs {"ldr": [B,N,H,W,3], "exposures": [B,N], extras...},
        output [B,H,W,3].
      num_frames: int. N, fixed in the signature.
      xla: bool. Compile the model call and the tonemap with XLA (jit_compile).
      extra_inputs: InputSpecs of the inputs beyond ldr and exposures (the method's).
    """

    def __init__(self, model, num_frames, xla=False, extra_inputs=()):
        super().__init__(name="hdrkeras_serving")
        self.model = model
        self.num_frames = int(num_frames)
        self.extra_names = tuple(spec.name for spec in extra_inputs)
        self._compute = tf.function(self._forward, jit_compile=bool(xla), autograph=False)
        self.serving_default = tf.function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, self.num_frames, None, None, 3], tf.float32, name="ldr"),
                tf.TensorSpec([None, self.num_frames], tf.float32, name="exposures"),
            ] + [tf.TensorSpec((None,) + tuple(spec.shape), spec.dtype, name=spec.name)
                 for spec in extra_inputs])

    def _forward(self, ldr, exposures, *extra):
        inputs = {"ldr": ldr, "exposures": exposures, **dict(zip(self.extra_names, extra))}
        hdr = self.model(inputs, training=False)
        hdr = tf.cast(hdr, tf.float32)
        return {"hdr": hdr, "preview": _preview(hdr)}

    def _serve(self, ldr, exposures, *extra):
        # Cheap in-graph validation; it runs outside the XLA cluster (asserts are not
        # compiled). Messages reach the client as INVALID_ARGUMENT errors.
        checks = [
            tf.debugging.assert_equal(
                tf.shape(ldr)[0], tf.shape(exposures)[0],
                message="ldr and exposures have different batch sizes"),
            tf.debugging.assert_positive(
                tf.shape(ldr)[2:4], message="ldr has an empty spatial dimension"),
            tf.debugging.assert_all_finite(ldr, "ldr has non-finite values"),
            tf.debugging.assert_all_finite(exposures, "exposures have non-finite values"),
            tf.debugging.assert_positive(exposures, message="exposures must be > 0"),
            # A signature's static frame count is not enforced at call time.
            tf.debugging.assert_equal(
                tf.shape(ldr)[1], self.num_frames,
                message=f"ldr must hold {self.num_frames} frames ([B, {self.num_frames}, H, "
                        "W, 3])"),
            tf.debugging.assert_equal(
                tf.shape(exposures)[1], self.num_frames,
                message=f"exposures must be [B, {self.num_frames}]"),
        ] + [tf.debugging.assert_all_finite(x, f"{name} has non-finite values")
             for name, x in zip(self.extra_names, extra)
             if x.dtype.is_floating] + [
            tf.debugging.assert_equal(tf.shape(x)[0], tf.shape(ldr)[0],
                                      message=f"ldr and {name} have different batch sizes")
            for name, x in zip(self.extra_names, extra)]
        with tf.control_dependencies(checks):
            ldr = tf.identity(ldr)
            exposures = tf.identity(exposures)
        return self._compute(ldr, exposures, *extra)


def _smoke_test(model, num_frames, extra_inputs=()):
    """Runs the model at an odd size so a model that cannot take any H, W fails at export."""
    h, w = 37, 53
    rng = np.random.default_rng(0)
    ldr = rng.uniform(size=(1, num_frames, h, w, 3)).astype(np.float32)
    exposures = (4.0 ** np.arange(num_frames, dtype=np.float32))[None]
    inputs = {"ldr": ldr, "exposures": exposures}
    for spec in extra_inputs:
        inputs[spec.name] = np.ones((1,) + tuple(d or 1 for d in spec.shape), spec.dtype)
    try:
        out = model(inputs, training=False)
    except Exception as e:
        raise ConfigError(
            f"model {model.name!r} fails on a {h}x{w} input; the inference model must pad "
            f"to its multiple internally ({type(e).__name__}: {e})") from e
    if tuple(out.shape) != (1, h, w, 3):
        raise ConfigError(
            f"model {model.name!r} returns shape {tuple(out.shape)} for a {h}x{w} input; "
            f"expected (1, {h}, {w}, 3)")


def export_saved_model(method_name, model, out_dir, version=None, xla=False, num_frames=None):
    """Writes `model` as a TF Serving SavedModel to `out_dir/<version>/`, atomically.

    Args:
      method_name: str. Registered method name, recorded in assets.extra/hdrkeras.json;
        its kind and extra inputs shape the signature.
      model: keras.Model with the standard inference signature (hdrkeras.methods.base).
      out_dir: str. Model base directory (TF Serving's `--model_base_path`).
      version: int. Version number; None = next free integer. An existing version is an
        error (TF Serving may be serving it).
      xla: bool. Compile the serving computation with XLA.
      num_frames: int. N of the signature; None = taken from the model's `ldr` input.

    Returns:
      The path of the version directory written.
    """
    out_dir = os.fspath(out_dir)
    method = methods.get(method_name)
    if num_frames is None:
        num_frames = model_num_frames(model)
    if num_frames is None:
        raise ConfigError(
            f"model {model.name!r} has a dynamic frame count; pass num_frames")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"{out_dir}: export directory exists and is not a directory")
    if version is None:
        version = next_version(out_dir)
    elif not isinstance(version, (int, np.integer)) or isinstance(version, bool) or version < 1:
        raise ConfigError(f"version must be a positive integer, got {version!r}")
    version = int(version)
    target = os.path.join(out_dir, str(version))
    if os.path.exists(target):
        raise ConfigError(f"{target}: version {version} already exists in {out_dir}")

    _smoke_test(model, num_frames, method.extra_inputs)
    module = ServingModule(model, num_frames, xla=xla, extra_inputs=method.extra_inputs)
    metadata = {
        "method": method_name,
        "kind": method.kind,
        "num_frames": int(num_frames),
        "xla": bool(xla),
        "hdrkeras_version": __version__,
        "tensorflow_version": tf.__version__,
        "signature": SIGNATURE,
        "inputs": {spec.name: spec.doc for spec in method.input_specs(num_frames)},
        "outputs": {"hdr": "float32 [B, H, W, 3] linear HDR",
                    "preview": "uint8 [B, H, W, 3] mu-law tonemapped"},
    }
    os.makedirs(out_dir, exist_ok=True)
    with atomic_path(target) as tmp:
        with portable_graphs():
            tf.saved_model.save(module, tmp, signatures={SIGNATURE: module.serving_default})
        meta_path = os.path.join(tmp, METADATA_FILE)
        os.makedirs(os.path.dirname(meta_path), exist_ok=True)
        with open(meta_path, "w") as f:
            json.dump(metadata, f, indent=2)
    return target


def build_model(method_name, checkpoint=None, num_frames=None):
    """The inference keras.Model of `method_name`: loaded from `checkpoint` (a `.keras`
    file or run directory) or, for methods without training stages, built fresh. A
    checkpoint holding another method's model is a ConfigError."""
    method = methods.get(method_name)
    if checkpoint:
        return method, check_model_method(load_keras(checkpoint), method.name, checkpoint)
    if method.stages:
        raise ConfigError(
            f"method {method_name!r} is trained; pass --checkpoint (a run directory or .keras file)")
    config = {"num_frames": int(num_frames)} if num_frames else None
    return method, method.build_inference_model(config)


# ----------------------------------------------------------------------------- CLI

def _define_flags():
    from absl import flags

    flags.DEFINE_string("method", None, "Registered method name (hdrkeras.methods.names()).")
    flags.DEFINE_string("checkpoint", None,
                        "Trained inference model: a .keras file or a run directory holding "
                        "model.keras. Not needed for the zero-training baselines.")
    flags.DEFINE_string("out", None, "Model base directory; the export goes to OUT/<version>/.")
    flags.DEFINE_bool("xla", False, "Compile the serving function with XLA.")
    flags.DEFINE_integer("version", None, "Version number (default: next free integer).")
    flags.DEFINE_integer("frames", None, "Frame count for baselines (default: the method's).")
    flags.mark_flags_as_required(["method", "out"])


def main(argv):
    from absl import flags, logging

    FLAGS = flags.FLAGS
    logging.set_verbosity(logging.WARNING)  # TF's saver logs every shard at INFO
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    checks.output_dir("--out", FLAGS.out)  # before the model is built, not at the rename
    checks.non_negative_int("--version", FLAGS.version if FLAGS.version is not None else 0)
    checks.positive_int("--frames", FLAGS.frames)
    print(f"building {FLAGS.method} model"
          + (f" from {FLAGS.checkpoint}" if FLAGS.checkpoint else ""), flush=True)
    method, model = build_model(FLAGS.method, FLAGS.checkpoint, FLAGS.frames)
    print(f"exporting to {FLAGS.out} (xla={FLAGS.xla})", flush=True)
    with cleanup_on_failure(FLAGS.out):  # a failed export leaves no empty --out
        path = export_saved_model(method.name, model, FLAGS.out, version=FLAGS.version,
                                  xla=FLAGS.xla, num_frames=FLAGS.frames)
    print(f"exported {method.name} to {path}", flush=True)
    return 0


def run(argv=None):
    from hdrkeras import cli

    _define_flags()
    cli.run_main(main, argv)


if __name__ == "__main__":
    run()
