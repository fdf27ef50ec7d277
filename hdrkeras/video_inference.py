"""Video inference: a whole alternating-exposure sequence -> one HDR frame per input frame.

`streaming_model(model=PATH | method=NAME)` gives a hdrkeras.methods.streaming
StreamingModel: a method's own streaming model (the video baselines), or any per-window
model (an exported/saved window model, a weight-free Keras method) wrapped as a
WindowModel. `reconstruct_sequence` walks the sequence with `streaming.stream` and writes
each frame as soon as it is computed, so memory stays constant in the sequence length.

Windows: the output for frame c comes from `sequence.window(c, T)`, whose edge policy
replaces a position outside the sequence by the nearest frame inside it with the same
exposure (the pattern shifted by whole periods), so the first and last frames see the
same alternation as every other frame.

Outputs in OUT: `frame_00000.exr` (or .hdr) and `frame_00000_preview.png` (mu-law) per
input frame, both renamed into place together; frames whose two files exist are skipped
(resume). `preview.mp4` of the PNGs when OpenCV's VideoWriter can encode MP4
(opencv-python-headless wheels bundle FFmpeg).

Tiling (`tile`): each window runs through hdrkeras.tiling.run_tiled on tiles of the
window's frames, without reuse between windows (a tile of a window is the unit of work).
`tile=hdrkeras.tiling.AUTO` (the tools' default) keeps whole frames while the memory model
of hdrkeras.tiling says a window fits in the budget, and tiles otherwise.
"""

import os
import sys
import time

import numpy as np

from hdrkeras.errors import ConfigError, DataError
from hdrkeras.methods.streaming import WindowModel, stream

FRAME_PATTERN = "frame_{:05d}"
PREVIEW_VIDEO = "preview.mp4"


def streaming_model(model=None, method=None, config=None, num_frames=None, num_exposures=None,
                    extra=None):
    """A StreamingModel from exactly one of `model` (path: SavedModel / .keras window model)
    or `method` (a registered weight-free method).

    A `.keras` model of a method that streams its own models (`streams_keras_models`,
    DeAltHDR: encoder features once per frame, flows once per frame pair) runs through
    the method's `streaming_model`; other models are wrapped per window.

    Args:
      config: dict. Method config (e.g. {"num_frames": 5}).
      num_frames: int or None. Window size for a model that does not fix it.
      num_exposures: int or None. Exposure levels the model was trained for (checked
        against the sequence); when absent, a SavedModel's metadata `num_exposures` or its
        method's `num_exposures` attribute.
      extra: dict name -> float of scalar extra model inputs (e.g. {"sensitivity": 15});
        None values and missing inputs take the default option of the model's method.
    """
    from hdrkeras import inference

    if bool(model) == bool(method):
        raise ConfigError("give exactly one of --model PATH or --method NAME")
    extra = {k: v for k, v in dict(extra or {}).items() if v is not None}
    if method:
        from hdrkeras import methods

        try:
            m = methods.get(method)
        except KeyError as e:
            raise ConfigError(str(e.args[0])) from None
        if hasattr(m, "streaming_model"):
            _check_extra_names(m.name, [spec.name for spec in m.extra_inputs], extra)
            return m.streaming_model(dict(config or {}, **extra))
        predictor = inference.from_method(method, config)
    else:
        predictor = inference.load_model(model)
        own = _method_streaming(predictor, extra)
        if own is not None:
            return own
        if num_exposures is None:
            num_exposures = _metadata_exposures(predictor)
    _check_extra(predictor, extra or {})
    n = predictor.num_frames if predictor.num_frames is not None else num_frames
    if n is None:
        raise ConfigError(f"{predictor.name}: the model does not fix its window size; give "
                          f"--frames")
    return WindowModel(predictor, int(n), name=predictor.name, num_exposures=num_exposures,
                       extra=_extra_values(predictor.name, predictor.extra_inputs, extra))


def _check_extra_names(name, takes, extra):
    if extra and not takes:
        raise ConfigError(f"model {name!r} takes no extra inputs, got "
                          f"{', '.join(sorted(extra))}")
    for key in extra:
        if key not in takes:
            raise ConfigError(f"--{key}: model {name!r} has no {key!r} input (it takes "
                              f"{', '.join(takes) or 'none'})")


def extra_input_values(predictor, extra):
    """{name: float} for each extra input of a Predictor: given in `extra` (None = not
    given), else the default option of the model's method (see `streaming_model`)."""
    return _extra_values(predictor.name, predictor.extra_inputs, dict(extra or {}))


def _extra_values(name, takes, extra):
    """Values of the extra inputs `takes` of model `name`: given (validated by the
    method's option of the same name), else that option's default."""
    from hdrkeras import methods

    extra = {k: v for k, v in extra.items() if v is not None}
    _check_extra_names(name, takes, extra)
    method = methods.get(name) if name in methods.names() else None
    out = {}
    for key in takes:
        if key in extra:
            out[key] = float(extra[key])
            if method is not None and hasattr(method.Options(), key):
                method.parse_options({key: out[key]})  # the method's own range check
            continue
        default = getattr(method.Options(), key, None) if method is not None else None
        if default is None:
            raise ConfigError(f"model {name!r} needs its {key!r} input; give --{key}")
        out[key] = float(default)
    return out


def _method_streaming(predictor, extra):
    """The registered method's own streaming model around a loaded `.keras` window model
    that the method knows how to stream (LAN-HDR: per-frame features reused between
    windows; DeAltHDR: encoder features once per frame, flows once per frame pair) at the
    given (or default) extra input values, else None (the model runs window by window)."""
    from hdrkeras import methods

    keras_model = getattr(predictor, "keras_model", None)
    if keras_model is None or keras_model.name not in methods.names():
        return None
    m = methods.get(keras_model.name)
    if not getattr(m, "streams_keras_models", False):
        return None
    values = _extra_values(m.name, [spec.name for spec in m.extra_inputs], extra)
    return m.streaming_model(values, model=keras_model)


def _check_extra(predictor, extra):
    """ConfigError before any work when --extra_input names an input the model does not
    take, or leaves out one it declares."""
    declared = set(predictor.extra_inputs)
    unknown = sorted(set(extra) - declared)
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        raise ConfigError(f"{predictor.name} takes no extra input {', '.join(unknown)} "
                          f"(its extra inputs: {takes})")
    missing = sorted(declared - set(extra))
    if missing:
        raise ConfigError(f"{predictor.name} needs "
                          + " ".join(f"--extra_input {k}=VALUE" for k in missing))


def parse_extra_inputs(values):
    """["sensitivity=15", ...] -> {"sensitivity": 15.0}; ConfigError on a malformed entry."""
    out = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--extra_input must be NAME=NUMBER, got {item!r}") from None
    return out


def _metadata_exposures(predictor):
    """Exposure levels a SavedModel was built for: its metadata's `num_exposures`, else the
    `num_exposures` attribute of the registered method its metadata names; None if unknown."""
    if not os.path.isdir(predictor.source):
        return None
    from hdrkeras import methods
    from hdrkeras.saving import read_metadata

    meta = read_metadata(predictor.source)
    value = meta.get("num_exposures")
    if value is None and meta.get("method") in methods.names():
        value = getattr(methods.get(meta["method"]), "num_exposures", None)
    return int(value) if value else None


def frame_paths(out_dir, index, ext):
    """(hdr path, preview png path) of output frame `index`."""
    from hdrkeras.inference import preview_path

    hdr = os.path.join(out_dir, FRAME_PATTERN.format(index) + ext)
    return hdr, preview_path(hdr)


def check_output_dir(out_dir, ext):
    """Checks the output location before any work: a creatable, writable folder, and a
    known HDR extension. Creates the folder."""
    from hdrkeras.inference import HDR_OUTPUTS

    if ext not in HDR_OUTPUTS:
        raise ConfigError(f"--format must be one of {', '.join(HDR_OUTPUTS)}, got {ext!r}")
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"--out {out_dir} exists and is not a folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out {out_dir}: cannot create the folder ({e.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {out_dir}: folder is not writable")
    return out_dir


def done_frames(out_dir, count, ext):
    """Indices < count whose HDR and preview both exist in out_dir."""
    return [i for i in range(count) if all(os.path.isfile(p) for p in frame_paths(out_dir, i, ext))]


def _window_arrays(sequence, indices):
    ldr = np.stack([sequence.ldr(i) for i in indices])
    return ldr, np.asarray([sequence.exposures[i] for i in indices], np.float32)


def _tiled_outputs(model, sequence, centres, tile, overlap):
    """(centre, hdr) per centre, each window run tile by tile (no reuse between windows)."""
    from hdrkeras.tiling import run_tiled

    model.check_sequence(sequence)
    size = model.window_size(sequence)
    for c in centres:
        ldr, t = _window_arrays(sequence, sequence.window(c, size))
        yield c, run_tiled(model.batch_fn, ldr[None], t[None], tile=tile, overlap=overlap)[0]


def resolve_tile(model, sequence, tile, overlap=32, max_memory_gb=None):
    """(tile or None, message) for `sequence`'s frame size (AUTO: whole frames when the
    model bounds its own memory within the budget (StreamingModel.memory_plan), else
    hdrkeras.tiling.resolve_tile with the model's window of T frames as the call; None or
    0: whole frames; a positive int: that tile)."""
    from hdrkeras import tiling

    budget = max_memory_gb or tiling.DEFAULT_MAX_MEMORY_GB
    if tile is None:
        return None, "whole frames"
    h, w = sequence.ldr(0).shape[:2]
    if tile == tiling.AUTO:
        # A model that bounds its own memory exactly beats tiling it.
        own = model.memory_plan(h, w, budget)
        if own:
            return None, own
    return tiling.resolve_tile(tile, h, w, model, overlap=overlap, max_memory_gb=budget)


def outputs(model, sequence, centres=None, tile=None, overlap=32, max_memory_gb=None,
            log=None):
    """Yields (centre, hdr [H,W,3]) for `centres` (None = all): streaming with reuse, or
    window by window in tiles when `tile` is set (hdrkeras.tiling.AUTO: chosen from the
    frame size and `max_memory_gb`, see resolve_tile; the choice goes to `log`)."""
    if centres is None:
        centres = range(len(sequence))
    if tile is not None:
        tile, why = resolve_tile(model, sequence, tile, overlap, max_memory_gb)
        if log:
            log(f"{model.name}: {why}")
    if tile is None:
        return stream(model, sequence, centres)
    return _tiled_outputs(model, sequence, centres, tile, overlap)


class Progress:
    """One line per frame: done/total, frames per second, ETA (to `stream`, flushed)."""

    def __init__(self, total, stream_=None):
        self.total = total
        self.done = 0
        self.start = time.perf_counter()
        self.out = stream_ or sys.stdout

    def step(self, label):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else float("inf")
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        print(f"  {label}: {self.done}/{self.total}  {rate:.2f} frames/s  "
              f"ETA {int(eta // 60):d}:{int(eta % 60):02d}", file=self.out, flush=True)


def reconstruct_sequence(model, sequence, out_dir, ext=".exr", tile=None, overlap=32,
                         mp4=True, fps=25.0, log=print, max_memory_gb=None):
    """Reconstructs every frame of `sequence` into `out_dir` (see module docstring).

    Args:
      model: StreamingModel (see `streaming_model`).
      sequence: hdrkeras.data VideoSequence.
      out_dir: str. Output folder (created).
      ext: ".exr" or ".hdr".
      tile, overlap: per-window tiling (hdrkeras.tiling.run_tiled); None = whole frames
        with streaming reuse; hdrkeras.tiling.AUTO = whole frames if they fit in
        `max_memory_gb` (default 4), else the largest tile that does.
      mp4: bool. Also write preview.mp4 when an encoder is available.
      fps: float. Frame rate of the MP4 preview.
      log: callable(str) or None.

    Returns:
      dict: {"written": [indices], "skipped": [indices], "mp4": path or None}.
    """
    log = log or (lambda *_: None)
    model.check_sequence(sequence)
    out_dir = check_output_dir(out_dir, ext)
    n = len(sequence)
    skipped = done_frames(out_dir, n, ext)
    todo = [i for i in range(n) if i not in set(skipped)]
    if skipped:
        log(f"resuming: {len(skipped)} of {n} frames already in {out_dir}")
    from hdrkeras.inference import write_outputs

    progress = Progress(len(todo))
    written = []
    for centre, hdr in outputs(model, sequence, todo, tile, overlap, max_memory_gb, log):
        write_outputs(hdr, frame_paths(out_dir, centre, ext)[0])
        written.append(centre)
        progress.step(FRAME_PATTERN.format(centre))
    mp4_path = write_preview_video(out_dir, n, ext, fps, log) if mp4 else None
    return {"written": written, "skipped": skipped, "mp4": mp4_path}


def write_preview_video(out_dir, count, ext, fps=25.0, log=print):
    """preview.mp4 of the per-frame preview PNGs (read back one at a time), via OpenCV's
    VideoWriter (mp4v); None with a one-line note when no MP4 encoder is available."""
    import cv2

    from hdrkeras.io.atomic import atomic_path

    pngs = [frame_paths(out_dir, i, ext)[1] for i in range(count)]
    first = cv2.imread(pngs[0], cv2.IMREAD_COLOR)
    if first is None:
        raise DataError(f"{pngs[0]}: cannot read the preview back")
    h, w = first.shape[:2]
    path = os.path.join(out_dir, PREVIEW_VIDEO)
    try:
        with atomic_path(path) as tmp:
            writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
            if not writer.isOpened():
                raise _NoEncoder()
            try:
                for p in pngs:
                    frame = cv2.imread(p, cv2.IMREAD_COLOR)
                    if frame is None or frame.shape[:2] != (h, w):
                        raise DataError(f"{p}: cannot read the preview back")
                    writer.write(frame)
            finally:
                writer.release()
    except _NoEncoder:
        if log:
            log("note: no MP4 encoder in this OpenCV build; skipped preview.mp4")
        return None
    return path


class _NoEncoder(Exception):
    pass
