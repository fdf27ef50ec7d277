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

from hdrkeras import tiling
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
      auto_tile: choose the tile as the tools do (hdrkeras.tiling.resolve_tile with
        `max_memory_gb`, after the model and inputs are in memory); the result's `tile`
        is the choice (None: whole image).
      max_memory_gb: the budget of auto_tile.
      train: time one optimiser step of `stage` instead of inference.
      xla: compile the inference function with XLA (jit_compile).
      stage: training stage for `train` (None = the method's last stage).
      seed: seed of the random inputs.
      exposures: alternating exposure levels of a video method (LAN-HDR: 2 or 3); the
        inputs then alternate 1, 4[, 16] in time (video methods default to 2).
      sensitivity: value of a model's `sensitivity` input (DeAltHDR; None = its default).
      streaming: time the method's streaming model on a sequence instead of one window:
        each timed run is one output frame, with the per-frame (and per-pair) work it
        shares with the previous window reused (hdrkeras.methods.streaming).
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
    auto_tile: bool = False
    max_memory_gb: float = 4.0
    train: bool = False
    xla: bool = False
    stage: str = None
    seed: int = 0
    exposures: int = None
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


def _mb(value):
    """Bytes from a hdrkeras.tiling /proc reader in MB, else getrusage's peak (ru_maxrss)
    where /proc is absent."""
    if value is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return value / 2.0 ** 20


def current_rss_mb():
    """Resident memory of this process now (VmRSS)."""
    return _mb(tiling.resident_bytes())


def peak_rss_mb():
    """Peak resident memory of this process (VmHWM)."""
    return _mb(tiling.peak_resident_bytes())


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


def _method_config(spec):
    config = {}
    if spec.frames:
        config["num_frames"] = spec.frames
    if spec.exposures:
        config["exposures"] = spec.exposures
    return config or None


def video_exposures(frames, levels):
    """[frames] exposures alternating 1, 4[, 16] (a video method's window)."""
    return (4.0 ** (np.arange(frames) % int(levels))).astype(np.float32)


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
    config = _method_config(spec)
    model = method.build_inference_model(config)
    from hdrkeras.saving import model_num_frames

    frames = model_num_frames(model) or spec.frames or method.num_frames
    predictor = keras_predictor(model, spec.method, spec.method, xla=spec.xla)
    return predictor, int(model.count_params()), frames, spec.method


def _is_video(spec):
    from hdrkeras import methods

    return bool(spec.method) and methods.get(spec.method).kind == "video"


def _streaming_target(spec):
    """(callable computing the next output frame of a stream, parameter count, frames).

    The sequence is long enough that every timed frame is in the steady state: one new
    frame's per-frame work (encoder features) and the new frame pairs' work (flows) per
    output frame."""
    from hdrkeras import methods
    from hdrkeras.data.video_sequence import VideoSequence
    from hdrkeras.methods.streaming import stream

    if not spec.method or spec.tile or spec.batch != 1:
        raise ConfigError("--streaming times a registered method at batch 1, untiled")
    method = methods.get(spec.method)
    if not hasattr(method, "streaming_model"):
        raise ConfigError(f"method {spec.method!r} has no streaming model")
    model = method.build_inference_model(_method_config(spec)) if method.stages else None
    extra = {} if spec.sensitivity is None else {"sensitivity": spec.sensitivity}
    streaming = method.streaming_model(extra, model=model)
    size = streaming.num_frames or method.num_frames or 3
    length = size + spec.warmup + spec.runs
    rng = np.random.default_rng(spec.seed)
    frames = [rng.uniform(0.0, 1.0, (spec.height, spec.width, 3)).astype(np.float32)
              for _ in range(length)]
    levels = spec.exposures or getattr(streaming, "num_exposures", None) or 2
    seq = VideoSequence("bench", frames, video_exposures(length, levels))
    outputs = stream(streaming, seq,
                     centres=range(size // 2, size // 2 + spec.warmup + spec.runs))
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
        from hdrkeras.video_inference import extra_input_values

        predictor, params, frames, _ = _inference_target(spec)
        ldr, exposures = random_inputs(spec.batch, frames, spec.height, spec.width, spec.seed)
        if spec.exposures or _is_video(spec):
            exposures = np.tile(video_exposures(frames, spec.exposures or 2), (spec.batch, 1))
        extra = extra_input_values(predictor, {"sensitivity": spec.sensitivity})
        if extra:
            result["sensitivity"] = extra.get("sensitivity")
        tile = spec.tile
        if spec.auto_tile:
            tile, _ = tiling.resolve_tile(tiling.AUTO, spec.height, spec.width, predictor,
                                          batch=spec.batch, overlap=spec.overlap,
                                          max_memory_gb=spec.max_memory_gb)
            result.update(tile=tile, overlap=spec.overlap if tile else None,
                          max_memory_gb=spec.max_memory_gb)

        def run(x, t):
            return predictor(x, t, **{k: np.full([len(x)], v, np.float32)
                                      for k, v in extra.items()})

        def fn():
            return tiling.run_tiled(run, ldr, exposures, tile=tile, overlap=spec.overlap)
    result["frames"] = frames
    result["params"] = params
    result.update(time_runs(fn, spec.warmup, spec.runs))
    if not spec.train:
        megapixels = spec.batch * spec.height * spec.width / 1e6
        result["s_per_megapixel"] = round(result["median_ms"] / 1000.0 / megapixels, 3)
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
            + (f" (auto, {r['max_memory_gb']:g} GB)" if r.get("max_memory_gb") else "")
            + (" streaming (per output frame)" if r.get("streaming") else "")
            + (f" s={r['sensitivity']:g}" if r.get("sensitivity") is not None else "")
            + (" XLA" if r.get("xla") else ""))
    return (f"{r['method']}  params {params}  input {r['batch']}x{r['frames']}x"
            f"{r['height']}x{r['width']}x3  threads {r['threads'] or 'default'}  {r['device']}\n"
            f"  {what}: median {r['median_ms']:.1f} ms (min {r['min_ms']:.1f}, "
            f"max {r['max_ms']:.1f}; {r['runs']} runs after {r['warmup']} warm-up)"
            + (f", {r['s_per_megapixel']:.2f} s/MP\n" if "s_per_megapixel" in r else "\n")
            + f"  peak memory: +{r['peak_delta_mb']:.1f} MB over {r['rss_before_mb']:.1f} MB "
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
