"""DeAltHDR as a method: the serving model with a per-request sensitivity, and streaming.

Inference model (`DeAltHDRVideo`, named "dealthdr"): ldr [B, 5, H, W, 3] gamma LDR,
exposures [B, 5], sensitivity [B] -> linear HDR [B, H, W, 3] of the centre frame. Every
frame goes through the encoder of its own exposure (long when above the window's
shortest), in training, test and serving alike. `sensitivity` is an input, so a server
picks s per request (0 = pure flow warping, official default 15, 1000 = attention almost
everywhere); export gives the SavedModel a `sensitivity` input beside ldr/exposures.

Streaming (`DeAltHDRStreaming`, hdrkeras.methods.streaming): a window's output needs

  per frame   its encoder features (three levels) -- the same in every window that holds
              the frame, so computed once per frame instead of five times;
  per pair    SpyNet flows centre -> neighbour and (for the consistency error, which is
              the mask before thresholding) neighbour -> centre. Each unordered frame pair
              within two frames of each other is used by two windows (one per centre)
              that need exactly these two flows, so a pair costs two SpyNet calls once
              per sequence: 4 per output frame instead of the per-window 8;
  per window  the decoder with FGMA and fusion (depends on the centre and s).

What the mask provably discards: mask = error > 0.5 / s with error = mean_c |warp(warp(x,
f), b) - x| of a frame x in [0, 1] (bilinear, edge padding: a warp stays in [0, 1]), so
error <= 1 up to float rounding. For s <= NO_ATTENTION_MAX_S the threshold is >= 2: the
mask is zero everywhere, FGMA reduces to flow warping and the error (hence the
neighbour -> centre flow) is not needed. Per window that halves the SpyNet work (4 calls
instead of 8); in streaming both directions are needed anyway as the forward flows of
the two windows centred on the pair's frames, so only the consistency warps are saved.
The attention's own cost does not depend on the mask (the official masks only the query),
and it is about 2% of a frame (see docs/benchmarks.md).

Per-frame state depends on the window's shortest exposure (frames are normalised to it);
states are cached per shortest exposure, so windows of an alternating video share them
and a window with another shortest exposure still gets exactly its own features.
"""

import dataclasses
import math
from typing import Any, Mapping, Optional

import numpy as np

from hdrkeras.errors import ConfigError
from hdrkeras.methods.base import InputSpec, Method, OptimizerSettings, Stage, register
from hdrkeras.methods.streaming import StreamingModel

DEFAULT_SENSITIVITY = 15.0
# Frames whose first feature level (padded H x W x dim) holds more floats than this stream
# through hdrkeras.models.dealthdr_banded: every piece in row bands of about this many
# floats per map (8 MB; memory bounded by the band, not the frame). 256x256 runs whole.
BAND_FLOATS = 2 ** 21
# s at or below which the FGMA mask is provably all-zero (threshold 0.5 / s >= 2 > error).
NO_ATTENTION_MAX_S = 0.25

# Streaming plans, fastest first (DeAltHDRStreaming.plan): "whole" runs every piece on whole
# maps (only frames whose first feature level fits one band); "banded" runs every piece in
# row bands (hdrkeras.models.dealthdr_banded) and caches each frame's three feature levels;
# "recompute" caches only levels 2 and 3 and the frame's 6-channel input, and recomputes
# the level-1 features (row-local: a 3x3 projection and two convolutional blocks) for the
# rows each band reads (hdrkeras.models.dealthdr_banded.Level1Rows): 242 MB less per
# cached frame at 1080p (the 267 MB map, less the 25 MB more of input kept), for about
# 11 frames' worth of level-1 rows recomputed per output frame (the centre's skip, each
# neighbour's FGMA keys, then its values and the rows its flow reaches).
PLANS = ("whole", "banded", "recompute")
# Peak resident bytes of a stream, per plan: FIXED + PER_PIXEL * padded pixels (the five
# frames a window caches included), from the timed-frame peak RSS of `python -m
# hdrkeras.bench --method dealthdr --sensitivity 15 --streaming --size HxW --threads 2
# --runs 1 --json` (2026-12-02, docs/benchmarks.md "DeAltHDR at 1080p under 4 GB"):
# banded 2,724 / 4,374 MiB at 720x1280 / 1080x1920, the line through them (1,368 MiB +
# 1,509 B per pixel) rounded up; recompute 2,198 / 3,258 MiB the same way (720p with the
# plan forced; 1,327 MiB + 969 B); whole 1,421 MiB at 256x256 above the process before its
# first frame (1,045 MiB), rounded up.
PLAN_MEMORY = {"whole": (1045 * 2 ** 20, 6100), "banded": (1400 * 2 ** 20, 1510),
               "recompute": (1400 * 2 ** 20, 970)}


def padded_size(height, width):
    """(rows, cols) of a frame zero-padded to the model's multiple of 32."""
    from hdrkeras.models.dealthdr import MULTIPLE

    return tuple(-(-int(n) // MULTIPLE) * MULTIPLE for n in (height, width))


def plan_peak_bytes(plan, height, width):
    """Estimated peak resident bytes of a stream of frames of this size with this plan
    (PLAN_MEMORY; at the padded size)."""
    fixed, per_pixel = PLAN_MEMORY[plan]
    rows, cols = padded_size(height, width)
    return fixed + rows * cols * per_pixel


def check_sensitivity_value(value, where="--sensitivity"):
    """A finite float >= 0, or ConfigError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ConfigError(f"{where} must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{where} must be finite and >= 0 (0 = pure flow warping), "
                          f"got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class DeAltHDROptions:
    """Options of the dealthdr method.

    Attributes:
      sensitivity: s of the FGMA mask (0 = pure flow warping; official default 15) used
        for reconstruction and the self-supervised stage.
      real_records: clip records of unlabelled real alternating-exposure video for the
        `selfsup` stage (make_tfrecord --kind video of a frame folder with exposures);
        None = --train_records.
      network: DeAltHDR constructor arguments of the trained model (None = official).
    """

    sensitivity: float = DEFAULT_SENSITIVITY
    real_records: Optional[str] = None
    network: Optional[Mapping[str, Any]] = None

    def __post_init__(self):
        check_sensitivity_value(self.sensitivity)


@register
class DeAltHDRMethod(Method):
    """DeAltHDR (Zhang et al.): 5-frame alternating-exposure HDR video, see module docstring."""

    name = "dealthdr"
    kind = "video"
    num_frames = 5
    num_exposures = 2
    extra_inputs = (InputSpec("sensitivity", (),
                              "float32 [B] FGMA sensitivity s >= 0 per request (0 = pure "
                              "flow warping, 15 = official default, 1000 = attention "
                              "almost everywhere)"),)
    Options = DeAltHDROptions
    official_networks = {"network": "dealthdr"}
    # reconstruct/video.py runs a .keras dealthdr model through `streaming_model`.
    streams_keras_models = True

    def __init__(self):
        # Official schedules (options/DeAltHDR.yml, options/DeAltHDR_Real.yml), scaled by
        # --steps; see hdrkeras.methods.dealthdr_recipe.
        self.stages = (
            Stage("supervised", self._supervised_task, steps=200_000, batch_size=6,
                  patch_size=128, learning_rate=4e-4,
                  optimizer=OptimizerSettings("adam", 0.9, 0.99, 1e-8, clip_global_norm=5.0,
                                              schedule="cosine", warmup_steps=4000,
                                              min_learning_rate=1e-7)),
            Stage("selfsup", self._selfsup_task, steps=50_000, batch_size=2,
                  patch_size=128, learning_rate=1e-5,
                  optimizer=OptimizerSettings("adamw", 0.9, 0.99, 1e-8, weight_decay=1e-4,
                                              clip_global_norm=5.0, schedule="cosine",
                                              warmup_steps=0, min_learning_rate=1e-7)),
        )

    def _supervised_task(self, options, previous):
        from hdrkeras.methods.dealthdr_recipe import SupervisedTask

        opts = self.parse_options(options)
        return SupervisedTask(self.build_inference_model(opts.network))

    def _selfsup_task(self, options, previous):
        """Student and EMA teacher start from the supervised stage's weights (the official
        loads net_g_latest of the supervised run into both)."""
        from hdrkeras.methods.dealthdr_recipe import SelfSupervisedTask, teacher_of

        opts = self.parse_options(options)
        model = self.build_inference_model(opts.network)
        before = (previous or {}).get("supervised")
        if before is not None:
            model.set_weights(before.model.get_weights())
        teacher = teacher_of(model, lambda: self.build_inference_model(opts.network))
        return SelfSupervisedTask(model, teacher, opts.sensitivity)

    def train_dataset(self, stage_name, config, hp, previous):
        """supervised: 5-frame windows of clip records with ground truth on every frame;
        selfsup: 5-frame windows of unlabelled clip records (--real_records)."""
        from hdrkeras.data.video_pipeline import video_train_dataset

        opts = self.parse_options(config.method_options)
        supervised = stage_name == "supervised"
        records = config.train_records if supervised else (opts.real_records
                                                           or config.train_records)
        ds = video_train_dataset(records, hp["batch_size"], hp["patch_size"],
                                 num_frames=self.num_frames,
                                 require_valid="all" if supervised else None,
                                 deterministic=config.deterministic, seed=config.seed)
        if supervised:
            return ds
        return ds.map(lambda b: {"ldr": b["ldr"], "exposures": b["exposures"]})

    def val_dataset(self, config):
        """None: score video models with `reconstruct/evaluate.py --video`."""
        return None

    def build_inference_model(self, config=None):
        """`DeAltHDRVideo`; `config` holds `DeAltHDR` constructor arguments (e.g. dim)."""
        from hdrkeras.models.dealthdr import DeAltHDRVideo

        config = dict(config or {})
        if config.pop("num_frames", self.num_frames) != self.num_frames:
            raise ConfigError(f"dealthdr takes windows of {self.num_frames} frames")
        return DeAltHDRVideo(config, name=self.name)

    def from_official(self, networks, options):
        """The converted official `DeAltHDR` -> the serving model with its weights."""
        net = networks["network"]
        model = self.build_inference_model(
            {k: v for k, v in net.get_config().items() if k not in ("name", "trainable")})
        model.network.set_weights(net.get_weights())
        return model

    def streaming_model(self, config=None, model=None):
        """`DeAltHDRStreaming` of `model` (a loaded `DeAltHDRVideo`) at config["sensitivity"]
        (default 15). The method has no weights of its own. Large frames take the plan
        that fits the tools' memory budget (`memory_plan`)."""
        config = dict(config or {})
        if model is not None:
            config["model"] = model
        if config.get("model") is None:
            raise ConfigError("dealthdr is trained: give its model with --model PATH "
                              "(a .keras file or an exported SavedModel)")
        s = config.get("sensitivity")
        return DeAltHDRStreaming(config["model"], DEFAULT_SENSITIVITY if s is None else s)


def _network(model):
    from hdrkeras.models.dealthdr import DeAltHDR

    net = getattr(model, "network", model)
    if not isinstance(net, DeAltHDR):
        raise ConfigError(f"model {getattr(model, 'name', model)!r} is not a DeAltHDR model")
    return net


class DeAltHDRStreaming(StreamingModel):
    """Streaming DeAltHDR (module docstring): encoder features once per frame, flows once
    per frame pair, the decoder once per output frame. Outputs equal the window model's
    up to float rounding of batched vs single-frame convolutions.

    Frames whose first feature level holds more than `band_floats` floats run every
    piece in row bands (hdrkeras.models.dealthdr_banded): encoder features are cached as
    numpy maps, each pair keeps its two flows and the two thresholded masks (1 byte per
    pixel), and a direction is dropped once the window centred on its frame is done. The
    level-1 features are cached ("banded" plan) or recomputed for the rows each band
    reads ("recompute"), whichever is faster within `max_memory_gb` (PLANS, `plan`); a
    stream and `run_window` of one frame size take the same plan.

    Args:
      model: `DeAltHDRVideo` or `DeAltHDR`.
      sensitivity: float s >= 0. Defaults to 15.
      band_floats: int. Floats per band of a map (and the first feature level of the
        largest frame run whole). Defaults to BAND_FLOATS.
      max_memory_gb: float. Memory budget (GiB) the plan of a banded frame is chosen for.
        Defaults to hdrkeras.tiling.DEFAULT_MAX_MEMORY_GB (the tools' --max_memory_gb).
      plan: "banded" or "recompute" to force the plan of banded frames (tests,
        measurements); None chooses by size and budget.
    """

    name = "dealthdr"
    num_frames = 5
    num_exposures = None  # any exposures; routing follows each frame's own

    def __init__(self, model, sensitivity=DEFAULT_SENSITIVITY, band_floats=BAND_FLOATS,
                 max_memory_gb=None, plan=None):
        import tensorflow as tf

        from hdrkeras import tiling
        from hdrkeras.models.dealthdr import MULTIPLE, sensitivity_threshold
        from hdrkeras.models.dealthdr_banded import level1_reach

        self.net = _network(model)
        self.sensitivity = check_sensitivity_value(sensitivity, "sensitivity")
        self.band_floats = int(band_floats)
        if plan not in (None,) + PLANS[1:]:
            raise ConfigError(f"DeAltHDR streaming plan must be one of {', '.join(PLANS[1:])} "
                              f"(or None: chosen by frame size), got {plan!r}")
        self.forced_plan = plan
        self.max_memory_gb = float(max_memory_gb or tiling.DEFAULT_MAX_MEMORY_GB)
        # Recomputing needs row-local level-1 blocks (no channel attention there).
        self.can_recompute = all(level1_reach(self.net, is_long) is not None
                                 for is_long in (True, False))
        if plan == "recompute" and not self.can_recompute:
            raise ConfigError("DeAltHDR streaming: the recompute plan needs level-1 encoder "
                              "blocks without channel attention (encoder1_attn_type*)")
        self.threshold = np.float32(sensitivity_threshold(np.float32(self.sensitivity)))
        self.both = self.net.get_config()["use_both_input"]
        self.multiple = MULTIPLE
        c = self.net.frame_channels
        dim = self.net.get_config()["dim"]
        frame = tf.TensorSpec([None, None, None, c], tf.float32)
        self._encode = {
            branch: tf.function(enc, input_signature=[frame], autograph=False)
            for branch, enc in (("long", self.net.long_encoder),
                                ("short", self.net.short_encoder))}
        lin = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._flow_only = tf.function(lambda a, b: self.net.pair_flow.get_layer("spynet")([a, b]),
                                      input_signature=[lin, lin], autograph=False)
        self._pair = tf.function(lambda a, b: self.net.pair_flow([a, b]),
                                 input_signature=[lin, lin], autograph=False)
        n = 4
        specs = ([tf.TensorSpec([None, None, None, dim * 2 ** i], tf.float32)
                  for i in range(3)]
                 + [tf.TensorSpec([None, n, None, None, dim * 2 ** i], tf.float32)
                    for i in range(3)]
                 + [tf.TensorSpec([None, n, None, None, 2], tf.float32),
                    tf.TensorSpec([None, n, None, None, 1], tf.float32),
                    tf.TensorSpec([None], tf.float32)])
        self._decode = tf.function(lambda *x: self.net.window_decoder(list(x)),
                                   input_signature=specs, autograph=False)

    @property
    def needs_error(self):
        """False when the mask is provably all-zero (s <= NO_ATTENTION_MAX_S)."""
        return self.sensitivity > NO_ATTENTION_MAX_S

    def plan(self, height, width):
        """The plan (one of PLANS) for frames of this size: "whole" when the first feature
        level (padded to 32) fits one band of `band_floats`, else the forced plan, else
        "banded" when its estimated peak fits `max_memory_gb`, else "recompute"."""
        dim = self.net.get_config()["dim"]
        rows, cols = padded_size(height, width)
        if rows * cols * dim <= self.band_floats:
            return "whole"
        if self.forced_plan:
            return self.forced_plan
        if not self.can_recompute or self._fits("banded", height, width):
            return "banded"
        return "recompute"

    def _fits(self, plan, height, width):
        return plan_peak_bytes(plan, height, width) <= self.max_memory_gb * 2 ** 30

    def memory_plan(self, height, width, max_memory_gb):
        """Whole frames within the budget by the model's own plans (StreamingModel)."""
        self.max_memory_gb = float(max_memory_gb)
        plan = self.plan(height, width)
        if not self._fits(plan, height, width):
            return None
        peak = plan_peak_bytes(plan, height, width)
        return (f"whole frames, {plan} plan (estimated peak {peak / 2 ** 30:.1f} GB of the "
                f"{self.max_memory_gb:g} GB budget)")

    # --- per frame ---
    def frame_state(self, i, ldr, exposure):
        return {"ldr": np.asarray(ldr, np.float32), "t": float(exposure), "by_shortest": {}}

    def _frame(self, state, shortest):
        """(padded linear frame [1, H', W', 3], three feature levels), cached; level 1 a
        `Level1Rows` in the recompute plan."""
        cache = state["by_shortest"]
        if shortest not in cache:
            import tensorflow as tf

            from hdrkeras.models.dealthdr import preprocess_window
            from hdrkeras.layers.pad_to_multiple import zero_pad_to_multiple

            # Normalised to the window's shortest exposure exactly as the window model
            # does: the frame beside a stand-in frame of the shortest exposure (per pixel,
            # so a large frame goes in bands of rows into a zero-padded numpy map).
            def inputs(ldr):
                pair = np.stack([ldr, np.zeros_like(ldr)])[None]
                frames, _ = preprocess_window(
                    pair, np.array([[state["t"], shortest]], np.float32), self.both)
                return frames[:, 0]

            ldr = state["ldr"]
            branch = "long" if state["t"] > shortest else "short"
            plan = self.plan(*ldr.shape[:2])
            if plan != "whole":
                from hdrkeras.models import dealthdr_banded

                h, w = ldr.shape[:2]
                x = np.zeros((1, *padded_size(h, w), self.net.frame_channels), np.float32)
                for r0 in range(0, h, 64):
                    x[0, r0:min(r0 + 64, h), :w] = inputs(ldr[r0:r0 + 64])[0]
                # "recompute": level 1 is read from x (kept whole; the linear channels
                # are a view of it), else x gives way to a copy of its linear channels.
                keep = plan == "banded"
                feats = dealthdr_banded.encode(self.net, branch == "long", x,
                                               self.band_floats, keep_level1=keep)
                x = np.ascontiguousarray(x[..., :3]) if keep else x[..., :3]
            else:
                x = zero_pad_to_multiple(inputs(ldr), self.multiple)
                feats = [tf.identity(f) for f in self._encode[branch](x)]
                x = x[..., :3]
            cache[shortest] = (x, feats)
        return cache[shortest]

    # --- per pair ---
    def pairs(self, indices):
        c = indices[len(indices) // 2]
        return [(c, j) for k, j in enumerate(indices) if k != len(indices) // 2]

    def pair_state(self, i, j, state_i, state_j):
        return {}  # filled per shortest exposure by `_flows`

    def _flows(self, cache, key, states, shortest, need_error):
        """(flow key[0]->key[1], flow key[1]->key[0], error on key[0], error on key[1]);
        the errors are None when not needed."""
        entry = cache.get(shortest)
        if entry is None or (need_error and entry[2] is None):
            a = self._frame(states[key[0]], shortest)[0]
            b = self._frame(states[key[1]], shortest)[0]
            if need_error:
                entry = tuple(self._pair(a, b))
            else:
                entry = (self._flow_only(a, b), self._flow_only(b, a), None, None)
            cache[shortest] = entry
        return entry

    def _banded_flow(self, cache, key, states, shortest, frame):
        """(flow frame -> other frame of the pair `key`, mask on frame's grid: bool
        [1, H, W, 1], all False when not needed), computed by bands for both directions
        at the first request."""
        from hdrkeras.models import dealthdr_banded as banded

        entry = cache.get(shortest)
        if entry is None or frame not in entry:
            a = self._frame(states[key[0]], shortest)[0]
            b = self._frame(states[key[1]], shortest)[0]
            f_ab = banded.spynet_flow(self.spynet, a, b, self.band_floats)
            f_ba = banded.spynet_flow(self.spynet, b, a, self.band_floats)
            masks = []
            for image, fwd, bwd in ((a, f_ab, f_ba), (b, f_ba, f_ab)):
                if self.needs_error:
                    error = banded.consistency_error(image, fwd, bwd, self.band_floats)
                    masks.append(error > self.threshold)
                else:
                    masks.append(np.zeros(fwd.shape[:3] + (1,), bool))
            entry = cache[shortest] = {key[1]: (f_ba, masks[1]), key[0]: (f_ab, masks[0])}
        return entry[frame]

    @property
    def spynet(self):
        return self.net.pair_flow.get_layer("spynet")

    def _banded_window(self, indices, states, pair_states, shortest):
        """window_output of a large frame, every piece in bands; drops the centre's
        directions of its pairs afterwards (no later window is centred on it)."""
        from hdrkeras.models import dealthdr_banded as banded
        from hdrkeras.models.dealthdr import CENTRE, NEIGHBOURS

        c = indices[CENTRE]
        keys = [(c, j) if c <= j else (j, c) for j in (indices[k] for k in NEIGHBOURS)]
        flows, masks = zip(*(self._banded_flow(pair_states[key], key, states, shortest, c)
                             for key in keys))
        feats = {i: self._frame(states[i], shortest)[1] for i in set(indices)}
        out = banded.decode(self.net, feats[c], [feats[indices[k]] for k in NEIGHBOURS],
                            flows, masks, self.band_floats)
        for key in keys:
            pair_states[key].get(shortest, {}).pop(c, None)
        return out

    # --- per window ---
    def window_output(self, indices, states, pair_states):
        import tensorflow as tf

        from hdrkeras.models.dealthdr import CENTRE, NEIGHBOURS

        shortest = min(states[i]["t"] for i in indices)
        c = indices[CENTRE]
        h, w = states[c]["ldr"].shape[:2]
        if self.plan(h, w) != "whole":
            out = self._banded_window(indices, states, pair_states, shortest)
            return np.asarray(out[0, :h, :w], np.float32)
        feats = {i: self._frame(states[i], shortest)[1] for i in set(indices)}
        flows, errors = [], []
        for k in NEIGHBOURS:
            j = indices[k]
            key = (c, j) if c <= j else (j, c)
            f_ab, f_ba, e_a, e_b = self._flows(pair_states[key], key, states, shortest,
                                               self.needs_error)
            forward = c == key[0]
            flows.append(f_ab if forward else f_ba)
            error = e_a if forward else e_b
            errors.append(tf.zeros_like(flows[-1][..., :1]) if error is None else error)
        centre = list(feats[c])
        nbs = [tf.stack([feats[indices[k]][lv][0] for k in NEIGHBOURS])[None]
               for lv in range(3)]
        out = self._decode(*centre, *nbs, tf.stack([f[0] for f in flows])[None],
                           tf.stack([e[0] for e in errors])[None],
                           tf.constant([self.sensitivity], tf.float32))
        return np.asarray(out[0, :h, :w], np.float32)
