"""Model benchmark: parameters, median inference (or training-step) time, peak memory.

Each measurement runs in a fresh Python process (`measure_isolated`) so the peak resident
memory of one size cannot hide another's and thread settings apply from the start. Inputs
are random gamma LDR in [0,1] with exposures 1, 4, 16, ... (increasing, shortest = 1).

Peak memory is the process's peak RSS (VmHWM) during the timed runs minus its RSS just
before them; on Linux the high-water mark is reset after the warm-up (/proc/self/clear_refs)
so it covers the timed runs only. Benchmarks are not tests: timings on a shared machine
are noisy, compare within one machine and one invocation.
"""

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from hdrkeras.errors import ConfigError, HDRKerasError


@dataclasses.dataclass
class BenchSpec:
    """One measurement.

    Attributes:
      method: registered method name (or None with `model`).
      model: path of a SavedModel / .keras file to time instead of a fresh method model.
      height, width: spatial size of the inputs.
      batch: batch size B.
      frames: frames per sample N (None = the method's).
      threads: TF intra- and inter-op threads (None = TF default).
      runs: timed runs; the median is reported.
      warmup: untimed runs first (tracing, allocation).
      tile, overlap: tiled inference (hdrkeras.tiling.run_tiled); tile None = whole.
      train: time one optimiser step of `stage` instead of inference.
      xla: compile the inference function with XLA (jit_compile).
      stage: training stage for `train` (None = the method's last stage).
      seed: seed of the random inputs.
      sensitivity: value of a model's `sensitivity` input (DeAltHDR; None = its default).
      streaming: time the method's streaming model per output frame on a sequence of
        random frames (per-frame / per-pair work reused between windows) instead of one
        window per call.
    """

    method: str = None
    model: str = None
    height: int = 256
    width: int = 256
    batch: int = 1
    frames: int = None
    threads: int = None
    runs: int = 5
    warmup: int = 1
    tile: int = None
    overlap: int = 32
    train: bool = False
    xla: bool = False
    stage: str = None
    seed: int = 0
    sensitivity: float = None
    streaming: bool = False


def parse_size(text):
    """'HxW' (or a single 'S' for SxS) -> (H, W)."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"--size must be HxW (e.g. 1000x1500), got {text!r}") from None
    if len(dims) == 1:
        dims = dims * 2
    if len(dims) != 2 or min(dims) < 1:
        raise ConfigError(f"--size must be HxW with positive integers, got {text!r}")
    return dims[0], dims[1]


def random_inputs(batch, frames, height, width, seed=0):
    """ldr float32 [B,N,H,W,3] uniform in [0,1]; exposures float32 [B,N] = 4**i (1, 4, 16)."""
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(0.0, 1.0, size=(batch, frames, height, width, 3)).astype(np.float32)
    exposures = np.tile(4.0 ** np.arange(frames, dtype=np.float32), (batch, 1))
    return ldr, exposures


def _proc_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _memory_mb(field):
    """A /proc/self/status memory field in MB, else getrusage's peak (ru_maxrss)."""
    kb = _proc_status_kb(field)
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0


def current_rss_mb():
    """Resident memory of this process now (VmRSS)."""
    return _memory_mb("VmRSS")


def peak_rss_mb():
    """Peak resident memory of this process (VmHWM)."""
    return _memory_mb("VmHWM")


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def set_threads(threads):
    """TF intra- and inter-op threads (None: TF's choice); only before TF's first op."""
    if threads:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(int(threads))
        except RuntimeError:
            raise ConfigError("threads can only be set before TensorFlow runs its first op; "
                              "give --threads to the benchmark command instead") from None


def time_runs(fn, warmup, runs):
    """Times `runs` calls of fn after `warmup` untimed ones: the result dict's timing and
    peak-memory fields (see `format_result`)."""
    for _ in range(warmup):
        fn()
    rss_before = current_rss_mb()
    reset = reset_peak_rss()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    return {
        "median_ms": float(np.median(times) * 1000.0),
        "min_ms": float(np.min(times) * 1000.0),
        "max_ms": float(np.max(times) * 1000.0),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_delta_mb": round(max(peak - rss_before, 0.0), 1),
        "peak_reset": reset,
    }


def _inference_target(spec):
    """(callable(ldr, exposures) -> hdr, parameter count, frames, label)."""
    # Imported here, not at the top: TensorFlow must load after set_threads.
    from hdrkeras import inference, methods
    from hdrkeras.predictor import keras_predictor

    if spec.model:
        predictor = inference.load_model(spec.model)
        loaded = getattr(predictor, "_loaded", None)
        if loaded is not None:
            params = int(sum(np.prod(v.shape) for v in loaded.variables))
        else:
            params = None
        frames = spec.frames or predictor.num_frames or 3
        return predictor, params, frames, predictor.name
    method = methods.get(spec.method)
    frames = spec.frames or method.num_frames
    config = {"num_frames": frames} if spec.frames else None
    model = method.build_inference_model(config)
    predictor = keras_predictor(model, spec.method, spec.method, xla=spec.xla)
    return predictor, int(model.count_params()), frames, spec.method


def _is_video(spec):
    from hdrkeras import methods

    return bool(spec.method) and methods.get(spec.method).kind == "video"


def _alternating(batch, frames):
    """Video exposures [B, T]: short 1 / long 8 alternating (DeAltHDR's EV-2 / EV+1)."""
    return np.tile(np.where(np.arange(frames) % 2, 8.0, 1.0).astype(np.float32), (batch, 1))


def _streaming_target(spec):
    """(callable computing the next output frame of a stream, parameter count, frames).

    The sequence is long enough that every timed frame is in the steady state: one new
    frame's encoder features and the new frame pairs' flows per output frame."""
    from hdrkeras import methods
    from hdrkeras.data.video_sequence import VideoSequence
    from hdrkeras.methods.streaming import stream

    if not spec.method or spec.tile or spec.batch != 1:
        raise ConfigError("--streaming needs --method, batch 1 and no --tile")
    method = methods.get(spec.method)
    if not hasattr(method, "streaming_model"):
        raise ConfigError(f"method {spec.method!r} has no streaming model")
    model = method.build_inference_model() if method.stages else None
    size = method.num_frames or 3
    config = {"model": model} if model is not None else {}
    if spec.sensitivity is not None:
        config["sensitivity"] = spec.sensitivity
    streaming = method.streaming_model(config)
    length = spec.warmup + spec.runs + size
    rng = np.random.default_rng(spec.seed)
    frames = [rng.uniform(0.0, 1.0, (spec.height, spec.width, 3)).astype(np.float32)
              for _ in range(length)]
    seq = VideoSequence("bench", frames, _alternating(1, length)[0].tolist())
    outputs = stream(streaming, seq)
    for _ in range(size // 2 + 1):  # the edge windows before the steady state
        next(outputs)
    params = int(model.count_params()) if model is not None else 0
    return (lambda: next(outputs)), params, size


def _train_target(spec):
    """(callable() running one optimiser step, trainable parameter count, frames, stage)."""
    import tensorflow as tf

    from hdrkeras import methods, training
    from hdrkeras.training import RunConfig

    method = methods.get(spec.method)
    if not method.stages:
        raise ConfigError(f"method {spec.method!r} has no training stages; --train needs one")
    stage = spec.stage or method.stages[-1].name
    frames = spec.frames or method.num_frames
    import atexit
    import shutil
    import tempfile

    run_dir = tempfile.mkdtemp(prefix="hdrkeras_bench_")
    atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
    config = RunConfig(run_dir=run_dir, train_records="", batch_size=spec.batch,
                       patch_size=spec.height)
    # ---- training-step call site: hdrkeras.training.make_train_step (lead's runner) ----
    task, _, step_fn = training.make_train_step(method, stage, config)
    ldr, exposures = random_inputs(spec.batch, frames, spec.height, spec.width, spec.seed)
    rng = np.random.default_rng(spec.seed + 1)
    hdr = rng.uniform(0.0, 1.0, size=(spec.batch, spec.height, spec.width, 3)).astype(np.float32)
    examples = {"ldr": ldr, "exposures": exposures, "hdr": hdr}
    dataset = (tf.data.Dataset.from_tensor_slices(examples)
               .map(method.pipeline_hook).batch(spec.batch))
    batch = next(iter(dataset))
    params = int(sum(np.prod(v.shape) for v in task.trainable_variables()))

    def step():
        loss, _ = step_fn(batch)
        float(loss)  # waits for the step to finish

    return step, params, frames, stage


def measure(spec):
    """Runs one measurement in this process; returns a result dict (see `format_result`)."""
    if not spec.method and not spec.model:
        raise ConfigError("give --method NAME (or --model PATH)")
    if spec.runs < 1 or spec.warmup < 0:
        raise ConfigError(f"--runs must be >= 1 and --warmup >= 0, got {spec.runs}, {spec.warmup}")
    if spec.batch < 1:
        raise ConfigError(f"--batch must be >= 1, got {spec.batch}")
    set_threads(spec.threads)
    import tensorflow as tf

    result = {"method": spec.method or spec.model, "mode": "train" if spec.train else "inference",
              "height": spec.height, "width": spec.width, "batch": spec.batch,
              "threads": spec.threads, "tile": spec.tile, "overlap": spec.overlap if spec.tile else None,
              "runs": spec.runs, "warmup": spec.warmup, "xla": bool(spec.xla),
              "device": "GPU" if tf.config.list_physical_devices("GPU") else "CPU"}
    if spec.train:
        if spec.model:
            raise ConfigError("--train needs --method, not --model")
        fn, params, frames, stage = _train_target(spec)
        result["stage"] = stage
    elif spec.streaming:
        fn, params, frames = _streaming_target(spec)
        result["streaming"] = True
        result["sensitivity"] = spec.sensitivity
    else:
        from hdrkeras.tiling import run_tiled
        from hdrkeras.video_inference import extra_input_values

        predictor, params, frames, _ = _inference_target(spec)
        ldr, exposures = random_inputs(spec.batch, frames, spec.height, spec.width, spec.seed)
        if _is_video(spec):
            exposures = _alternating(spec.batch, frames)
        extra = extra_input_values(predictor, {"sensitivity": spec.sensitivity})
        if extra:
            result["sensitivity"] = extra.get("sensitivity")

        def run(x, t):
            return predictor(x, t, **{k: np.full([len(x)], v, np.float32)
                                      for k, v in extra.items()})

        def fn():
            return run_tiled(run, ldr, exposures, tile=spec.tile, overlap=spec.overlap)
    result["frames"] = frames
    result["params"] = params
    result.update(time_runs(fn, spec.warmup, spec.runs))
    return result


def measure_isolated(spec, timeout=None):
    """`measure(spec)` in a fresh Python process; raises HDRKerasError with its message."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [sys.executable, "-m", "hdrkeras.bench.inference", json.dumps(dataclasses.asdict(spec))]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
        if errors:
            raise HDRKerasError(errors[-1][len("error:"):].strip())
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"benchmark worker failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1])


def format_result(r):
    """Human-readable lines of one result."""
    params = "?" if r["params"] is None else f"{r['params']:,}"
    what = (f"train step ({r['stage']})" if r["mode"] == "train" else
            "inference" + (f" tiled {r['tile']}/{r['overlap']}" if r.get("tile") else "")
            + (" streaming (per output frame)" if r.get("streaming") else "")
            + (f" s={r['sensitivity']:g}" if r.get("sensitivity") is not None else "")
            + (" XLA" if r.get("xla") else ""))
    return (f"{r['method']}  params {params}  input {r['batch']}x{r['frames']}x"
            f"{r['height']}x{r['width']}x3  threads {r['threads'] or 'default'}  {r['device']}\n"
            f"  {what}: median {r['median_ms']:.1f} ms (min {r['min_ms']:.1f}, "
            f"max {r['max_ms']:.1f}; {r['runs']} runs after {r['warmup']} warm-up)\n"
            f"  peak memory: +{r['peak_delta_mb']:.1f} MB over {r['rss_before_mb']:.1f} MB "
            f"(peak RSS {r['peak_rss_mb']:.1f} MB{'' if r['peak_reset'] else ', not reset'})")


def _worker(argv):
    """Subprocess entry: argv[1] is a JSON BenchSpec; prints one JSON result line."""
    spec = BenchSpec(**json.loads(argv[1]))
    try:
        result = measure(spec)
    except (HDRKerasError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {msg}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(_worker(sys.argv))
