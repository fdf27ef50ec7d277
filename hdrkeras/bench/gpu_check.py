"""One-command GPU check of the image methods (scripts/gpu_check.sh calls this).

For every image method:
  1. export its inference model (fresh, seeded weights: the check is about the device,
     not the training) as a SavedModel with XLA (`hdrkeras.export`, `--xla`);
  2. run that SavedModel in a TensorFlow-only process (savedmodel_run.py) on the GPU and,
     in another, on the CPU (CUDA_VISIBLE_DEVICES=-1), and compare the two outputs in the
     mu-law domain within a tolerance (the GPU may use TF32 and fused kernels);
  3. time one 1000x1500 inference (batch 1, the median of a few calls after a warm-up)
     in float32 and mixed precision, each with and without XLA.
Writes gpu_check.json and gpu_check.md (atomically) to --out.

Without a GPU visible to TensorFlow it prints one line and exits 0. `--device cpu` runs
the same plumbing on the CPU (small sizes; the tests use it) and says so in the report.

  python -m hdrkeras.bench.gpu_check --out DIR [--methods a,b] [--size 1000x1500]
      [--check_size 128x192] [--repeats 3] [--device gpu|cpu]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# mu-law agreement of the GPU and CPU runs of one SavedModel.
TOL_MEAN = 2e-3  # mean absolute difference of mu-law outputs (in [0, 1])
TOL_MAX = 5e-2  # largest single difference
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "savedmodel_run.py")
VARIANTS = (("float32", False), ("float32", True), ("mixed", False), ("mixed", True))


def image_methods():
    """Registered methods that reconstruct from a still bracket (video methods excluded)."""
    from hdrkeras import methods

    return [n for n in methods.names() if methods.get(n).kind == "image"]


def _size(text, flag):
    from hdrkeras.errors import ConfigError

    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--{flag} must be HEIGHTxWIDTH, got {text!r}") from None
    if h < 8 or w < 8:
        raise ConfigError(f"--{flag} must be at least 8x8, got {text!r}")
    return h, w


def _inputs(num_frames, height, width, seed=0):
    """A plausible bracket: one smooth scene seen at t = 1, 4, 16, ... (gamma 2.2)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.02 + 0.3 * (0.5 + 0.5 * np.sin(xx / 17.0) * np.cos(yy / 23.0))
    scene = base[..., None] * rng.uniform(0.6, 1.4, 3).astype(np.float32)
    times = (4.0 ** np.arange(num_frames)).astype(np.float32)
    ldr = np.stack([np.clip(scene * t, 0, 1) ** (1 / 2.2) for t in times])[None]
    return ldr.astype(np.float32), times[None]


def _run_saved_model(model_dir, inputs, out, cpu, repeats=0):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if cpu:
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    cmd = [sys.executable, RUNNER, model_dir, inputs, out, str(repeats)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    with np.load(out) as r:
        return {k: r[k] for k in r.files}


def _mu(x):
    from hdrkeras.ops import tonemap

    return np.asarray(tonemap.mu_law(np.clip(x / max(float(np.max(x)), 1e-6), 0, 1)))


def _time_variants(name, model, num_frames, size, repeats, device, log):
    """{variant: seconds} for one 1000x1500 call in float32/mixed with/without XLA."""
    import keras
    import tensorflow as tf

    from hdrkeras import methods

    ldr, exposures = _inputs(num_frames, *size)
    out = {}
    weights = model.get_weights()
    for precision, xla in VARIANTS:
        key = f"{precision}{'+xla' if xla else ''}"
        try:
            if precision == "mixed":
                keras.mixed_precision.set_global_policy(
                    "mixed_float16" if device == "gpu" else "mixed_bfloat16")
                m = methods.get(name).build_inference_model()
                m.set_weights(weights)
            else:
                m = model
            fn = tf.function(lambda a, b, m=m: m({"ldr": a, "exposures": b}, training=False),
                             jit_compile=xla, reduce_retracing=True)
            with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
                a, b = tf.constant(ldr), tf.constant(exposures)
                np.asarray(fn(a, b))  # warm-up / compile
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    np.asarray(fn(a, b))
                    times.append(time.perf_counter() - start)
            out[key] = float(np.median(times))
            log(f"  {name} {key}: {out[key] * 1000:.1f} ms")
        except Exception as e:  # report the failure of one variant, keep checking
            out[key] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
            log(f"  {name} {key}: {out[key]}")
        finally:
            keras.mixed_precision.set_global_policy("float32")
    return out


def check(out_dir, names=None, size=(1000, 1500), check_size=(128, 192), repeats=3,
          device="gpu", log=print):
    """Runs the check; returns the report dict (also written as JSON and Markdown)."""
    import keras
    import tensorflow as tf

    from hdrkeras import export, methods
    from hdrkeras.io.atomic import atomic_write_text

    names = list(names or image_methods())
    os.makedirs(out_dir, exist_ok=True)
    report = {"device": device, "tensorflow": tf.__version__,
              "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
              "size": list(size), "check_size": list(check_size), "repeats": repeats,
              "tolerance": {"mean_abs_mu": TOL_MEAN, "max_abs_mu": TOL_MAX},
              "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "methods": {}}
    started = time.perf_counter()
    for name in names:
        log(f"[{name}]")
        keras.utils.set_random_seed(0)
        method = methods.get(name)
        model = method.build_inference_model()
        num_frames = export.model_num_frames(model) or method.num_frames
        entry = {"num_frames": int(num_frames)}
        work = tempfile.mkdtemp(prefix=f"{name}.", dir=out_dir)
        try:
            version = export.export_saved_model(name, model, os.path.join(work, "model"),
                                                xla=True, num_frames=num_frames)
            ldr, exposures = _inputs(num_frames, *check_size)
            inputs = os.path.join(work, "inputs.npz")
            np.savez(inputs, ldr=ldr, exposures=exposures)
            cpu = _run_saved_model(version, inputs, os.path.join(work, "cpu.npz"), cpu=True)
            # --device cpu (tests): one TF-only run stands for both sides.
            dev = cpu if device == "cpu" else _run_saved_model(
                version, inputs, os.path.join(work, "dev.npz"), cpu=False)
            diff = np.abs(_mu(dev["hdr"]) - _mu(cpu["hdr"]))
            entry.update({
                "saved_model_on_gpu": bool(dev["gpu"]) and device == "gpu",
                "tf_only_process": bool(dev["modules_ok"]) and bool(cpu["modules_ok"]),
                "mean_abs_mu": float(diff.mean()), "max_abs_mu": float(diff.max()),
                "finite": bool(np.all(np.isfinite(dev["hdr"]))),
            })
            entry["match"] = (entry["finite"] and entry["tf_only_process"]
                              and entry["mean_abs_mu"] <= TOL_MEAN
                              and entry["max_abs_mu"] <= TOL_MAX)
            log(f"  SavedModel (XLA) {device} vs CPU: mean {entry['mean_abs_mu']:.2e}, "
                f"max {entry['max_abs_mu']:.2e} -> {'ok' if entry['match'] else 'MISMATCH'}")
        except Exception as e:
            entry.update({"match": False, "error": f"{type(e).__name__}: {e}"[:2000]})
            log(f"  export/compare failed: {entry['error'][:300]}")
        finally:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
        entry["seconds"] = _time_variants(name, model, num_frames, size, repeats, device, log)
        report["methods"][name] = entry
    report["ok"] = all(e.get("match") for e in report["methods"].values())
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    atomic_write_text(os.path.join(out_dir, "gpu_check.json"), json.dumps(report, indent=2))
    atomic_write_text(os.path.join(out_dir, "gpu_check.md"), markdown(report))
    return report


def markdown(report):
    """The report as a Markdown section (what docs/benchmarks.md quotes)."""
    h, w = report["size"]
    lines = [f"GPU check ({report['device']}: {', '.join(report['gpus']) or 'no GPU'}; "
             f"TensorFlow {report['tensorflow']}; {report['started']}; "
             f"{report['total_seconds']} s)", "",
             f"| method | SavedModel XLA vs CPU (mean / max abs mu-law) | "
             + " | ".join(f"{k} ms @ {h}x{w}" for k in
                          (f"{p}{'+xla' if x else ''}" for p, x in VARIANTS)) + " |",
             "|---|---|" + "---|" * len(VARIANTS)]
    for name, e in report["methods"].items():
        if "mean_abs_mu" in e:
            agree = (f"{e['mean_abs_mu']:.1e} / {e['max_abs_mu']:.1e} "
                     f"{'ok' if e['match'] else 'MISMATCH'}")
        else:
            agree = f"failed: {e.get('error', '?')[:80]}"
        cells = []
        for p, x in VARIANTS:
            v = e["seconds"].get(f"{p}{'+xla' if x else ''}")
            cells.append(f"{v * 1000:.0f}" if isinstance(v, float) else "failed")
        lines.append(f"| {name} | {agree} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _define_flags():
    from absl import flags
    flags.DEFINE_string("out", "gpu_check", "Folder for gpu_check.json and gpu_check.md.")
    flags.DEFINE_list("methods", None, "Methods to check (default: every image method).")
    flags.DEFINE_string("size", "1000x1500", "Timed inference size, HEIGHTxWIDTH.")
    flags.DEFINE_string("check_size", "128x192", "Size of the GPU-vs-CPU comparison.")
    flags.DEFINE_integer("repeats", 3, "Timed calls per variant (after one warm-up).")
    flags.DEFINE_enum("device", "gpu", ["gpu", "cpu"],
                      "cpu: run the plumbing without a GPU (for tests).")


def main(argv):
    from absl import flags

    import tensorflow as tf

    from hdrkeras.errors import ConfigError

    from absl import logging
    logging.set_verbosity(logging.WARNING)  # no per-file INFO lines from SavedModel writes
    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.device == "gpu" and not tf.config.list_physical_devices("GPU"):
        print("gpu_check: TensorFlow sees no GPU on this machine; nothing to check.")
        return 0
    if FLAGS.repeats < 1:
        raise ConfigError(f"--repeats must be >= 1, got {FLAGS.repeats}")
    size, check_size = _size(FLAGS.size, "size"), _size(FLAGS.check_size, "check_size")
    known = image_methods()
    for name in FLAGS.methods or ():
        if name not in known:
            raise ConfigError(f"--methods: {name!r} is not an image method; known: "
                              f"{', '.join(known)}")
    report = check(FLAGS.out, FLAGS.methods, size, check_size, FLAGS.repeats, FLAGS.device)
    print(f"wrote {os.path.join(FLAGS.out, 'gpu_check.json')} and gpu_check.md; "
          f"{'all methods agree' if report['ok'] else 'SOME METHODS FAILED'} "
          f"({report['total_seconds']} s)")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    from hdrkeras.cli import run_main

    _define_flags()
    run_main(main)
