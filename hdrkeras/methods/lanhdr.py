"""LAN-HDR as a method: training recipe, window inference model, streaming inference.

Model: hdrkeras.models.lanhdr (`LanHdr`; 2 exposures -> 5-frame window, 3 -> 7 frames).
Recipe (haesoochung/LAN-HDR trainer.py / config.py), on the fly from 7-frame source
clips through hdrkeras.methods.lanhdr_recipe:
  AdamW lr 1e-4, PyTorch's default weight decay 0.01 and betas (0.9, 0.999), constant
  rate; batch 8, 128x128 crops; loss `LanHdrLoss` on two windows one frame apart:
  mu-law L1 + 0.1 VGG19 relu5_1 MSE + 0.1 FFT L1 + 0.1 temporal Charbonnier.
Inference model (the video signature of hdrkeras.methods.base): `ldr` [B,T,H,W,3] gamma
LDR in [0,1] in time order + `exposures` [B,T] -> `hdr` [B,H,W,3] linear HDR of the centre
frame in (0,1) (the network's sigmoid output), any H, W.
Streaming (`LanHdrStreaming`): each frame's encoder, value pyramid and luminance key are
computed once and reused by every window containing it; per window only the reference
encoder, the query side, the aligner of each position and the merge run. The merge's
first conv is accumulated one position at a time, so the T aligned full-resolution maps
never coexist. Large frames take a memory-bounded plan (PLANS, `choose_plan`): the
64-channel full-resolution stages in row bands and spectrum columns
(hdrkeras.methods.lanhdr_banded), and, leaner still, each frame's hallucination pyramid
recomputed at every window position instead of cached.
"""

import dataclasses
from typing import Optional

import numpy as np

from hdrkeras.errors import ConfigError
from hdrkeras.methods.base import (Method, OptimizerSettings, PerceptualOptions, Stage,
                                   TrainTask, register)
from hdrkeras.methods.streaming import StreamingModel

# Exposure levels -> (window length, official converter name).
CONFIGS = {2: (5, "lanhdr_2e"), 3: (7, "lanhdr_3e")}
DEFAULT_EXPOSURES = 2
PERCEPTUAL_WEIGHT = 0.1
# Official schedule: 1000 epochs of the Vimeo septuplet train list (64,612 clips) at
# batch 8 = 8,077 iterations per epoch.
PAPER_STEPS = 1000 * 8077
BATCH_SIZE = 8
CROP = 128
LEARNING_RATE = 1e-4


@dataclasses.dataclass(frozen=True)
class LanHdrOptions(PerceptualOptions):
    """LAN-HDR's options (fit's --exposures, --independent_windows, --perceptual_weight,
    --vgg_weights).

    Attributes:
      exposures: 2 (5-frame window) or 3 (7-frame window); None = 2.
      independent_windows: crop and augment the two training windows separately, as the
        official loader does (its temporal loss then compares unrelated crops); None/False
        shares one transform.
    """

    exposures: Optional[int] = None
    independent_windows: Optional[bool] = None

    def __post_init__(self):
        super().__post_init__()
        if self.exposures is not None and self.exposures not in CONFIGS:
            raise ConfigError(f"--exposures must be 2 or 3 for lanhdr, got {self.exposures!r}")

    @property
    def nexps(self):
        return int(self.exposures or DEFAULT_EXPOSURES)

    @property
    def nframes(self):
        return CONFIGS[self.nexps][0]


def _optimizer_settings():
    return OptimizerSettings(kind="adamw", beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                             weight_decay=0.01, schedule="step")


def build_network(nexps=DEFAULT_EXPOSURES, **kwargs):
    """The LanHdr window network for 2 or 3 exposures (kwargs: ch, tdim)."""
    from hdrkeras.models.lanhdr import LanHdr

    if nexps not in CONFIGS:
        raise ConfigError(f"LAN-HDR takes 2 or 3 exposures, got {nexps!r}")
    return LanHdr(nframes=CONFIGS[nexps][0], nexps=nexps, name="lanhdr_net", **kwargs)


def build_video_model(net, name="lanhdr"):
    """{"ldr" [B,T,H,W,3] gamma LDR, "exposures" [B,T]} -> "hdr" [B,H,W,3] linear HDR of
    the centre frame, around a LanHdr window network (weights shared)."""
    import keras

    from hdrkeras.layers.lanhdr_inputs import LanHdrInputs

    t = net.nframes
    ldr = keras.Input((t, None, None, 3), name="ldr")
    exposures = keras.Input((t,), name="exposures")
    out = net(LanHdrInputs(name="lanhdr_inputs")(ldr, exposures))["output"]
    hdr = keras.layers.Activation("linear", dtype="float32", name="hdr")(out)
    return keras.Model({"ldr": ldr, "exposures": exposures}, hdr, name=name)


def _window_net(model):
    """The LanHdr inside a video model built by `build_video_model` (or `model` itself)."""
    from hdrkeras.models.lanhdr import LanHdr

    if isinstance(model, LanHdr):
        return model
    for layer in model.layers:
        if isinstance(layer, LanHdr):
            return layer
    raise ConfigError(f"model {model.name!r} holds no LAN-HDR network")


class LanHdrTask(TrainTask):
    """Trains a LanHdr network on pairs of consecutive windows.

    Batch (from `LanHdr.train_dataset` / `lanhdr_recipe.training_pair`): "ldr" [B,2,T,h,w,3]
    gamma LDR, "exposures" [B,2,T], "hdr" [B,2,h,w,3] linear centre-frame ground truth in
    [0,1]. A single-window batch ("ldr" [B,T,h,w,3], "hdr" [B,h,w,3]; validation) gets the
    loss without the temporal term.
    """

    batch_keys = ("hdr",)

    def __init__(self, net, loss):
        from hdrkeras.layers.lanhdr_inputs import LanHdrInputs

        self.networks = {"lanhdr": net}
        self.trainable = ("lanhdr",)
        self.loss_fn = loss
        self.inputs = LanHdrInputs()
        self._inference = None

    def predict(self, ldr, exposures, training=False):
        """[N,T,h,w,3], [N,T] -> [N,h,w,3] float32 linear HDR."""
        import tensorflow as tf

        out = self.networks["lanhdr"](self.inputs(ldr, exposures), training=training)
        return tf.cast(out["output"], tf.float32)

    def loss(self, batch, training=True):
        import tensorflow as tf

        from hdrkeras.ops.tonemap import mu_law

        ldr = tf.convert_to_tensor(batch["ldr"], tf.float32)
        exposures = tf.convert_to_tensor(batch["exposures"], tf.float32)
        gt = tf.clip_by_value(tf.convert_to_tensor(batch["hdr"], tf.float32), 0.0, 1.0)
        if ldr.shape.rank == 5:  # one window: no temporal term
            pred = self.predict(ldr, exposures, training)
            terms = self.loss_fn.terms(pred, gt, pred, gt)
        else:
            n = tf.shape(ldr)[0]
            # Both windows in one call: [2B] = window 1 of every sample, then window 2.
            both = self.predict(tf.concat([ldr[:, 0], ldr[:, 1]], 0),
                                tf.concat([exposures[:, 0], exposures[:, 1]], 0), training)
            pred, pred1 = both[:n], both[n:]
            terms = self.loss_fn.terms(pred, gt[:, 0], pred1, gt[:, 1])
            gt = gt[:, 0]
        logs = {k: v for k, v in terms.items() if k != "total"}
        previews = {"pred": mu_law(pred), "gt": mu_law(gt)}
        return terms["total"], logs, previews

    def inference_model(self):
        if self._inference is None:
            self._inference = build_video_model(self.networks["lanhdr"])
        return self._inference


@register
class LanHdrMethod(Method):
    """LAN-HDR (ICCV 2023), 2 or 3 alternating exposures (see the module docstring)."""

    name = "lanhdr"
    kind = "video"
    num_frames = CONFIGS[DEFAULT_EXPOSURES][0]
    Options = LanHdrOptions
    # One role: the converter tells 2E from 3E by the weights. The official code reads
    # RGB frames (imageio), so no colour permutation.
    official_networks = {"network": "lanhdr"}
    official_bgr = False
    # reconstruct/video.py --model lanhdr.keras streams it (LanHdrStreaming).
    streams_keras_models = True

    def __init__(self):
        self.optimizer_settings = _optimizer_settings()
        # The official trainer never changes the rate: one constant-rate stage.
        self.stages = (Stage("train", self._task, steps=PAPER_STEPS, batch_size=BATCH_SIZE,
                             patch_size=CROP, learning_rate=LEARNING_RATE,
                             optimizer=self.optimizer_settings),)

    # --- training ---
    def loss(self, options):
        """LanHdrLoss of these options; a missing VGG19 file raises MissingWeightsError
        now, unless the perceptual weight is 0."""
        from hdrkeras.losses import LanHdrLoss

        opts = self.parse_options(options)
        w = PERCEPTUAL_WEIGHT if opts.perceptual_weight is None else float(opts.perceptual_weight)
        return LanHdrLoss(vgg_weight=w, vgg_weights_path=opts.vgg_weights)

    def _task(self, options, previous, **net_kwargs):
        opts = self.parse_options(options)
        return LanHdrTask(build_network(opts.nexps, **net_kwargs), self.loss(opts))

    def window_size(self, options=None):
        return self.parse_options(options).nframes

    def recipe(self, options, crop):
        """Per-example map fn (source, seed) -> the training pair of
        `lanhdr_recipe.training_pair`: source {"source" [7,H,W,3], "linear" bool}, seed
        int32 [2]."""
        import tensorflow as tf

        from hdrkeras.methods.lanhdr_recipe import training_pair

        opts = self.parse_options(options)
        args = dict(nexps=opts.nexps, nframes=opts.nframes, crop=int(crop),
                    independent_windows=bool(opts.independent_windows))

        def fn(example, seed):
            return tf.cond(tf.cast(example["linear"], tf.bool),
                           lambda: training_pair(example["source"], seed, linear=True, **args),
                           lambda: training_pair(example["source"], seed, linear=False, **args))
        return fn

    def pairs_dataset(self, sources, options, batch_size, crop, seed=0, deterministic=False):
        """Batched training pairs (see LanHdrTask) from an unbatched tf.data of source
        clips {"source" float32 [7,H,W,3], "linear" bool} (H, W >= crop), each synthesised
        afresh at every visit with a per-example stateless seed."""
        import tensorflow as tf

        seeds = tf.data.Dataset.random(seed=seed).batch(2).map(
            lambda s: tf.cast(s % (2 ** 31 - 1), tf.int32))
        ds = tf.data.Dataset.zip((sources, seeds))
        ds = ds.map(self.recipe(options, crop), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=deterministic)
        return ds.batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    @staticmethod
    def sequence_sources(sequences, seed=0, repeat=True):
        """Unbatched tf.data of 7-frame source clips from `VideoSequence`s: consecutive
        7-frame chunks; a sequence with ground truth for every frame (our synthetic HDR
        video) gives its linear frames, any other its LDR frames (a Vimeo septuplet)."""
        import tensorflow as tf

        from hdrkeras.errors import DataError

        clips = []
        for seq in sequences:
            linear = all(g is not None for g in seq.ground_truth)
            clips += [(seq, start, linear) for start in range(0, len(seq) - 6, 7)]
        if not clips:
            raise DataError("no training clip of 7 frames in the given sequences "
                            f"({', '.join(s.name for s in sequences) or 'none'})")

        def gen():
            for seq, start, linear in clips:
                read = seq.hdr if linear else seq.ldr
                frames = np.stack([read(start + k) for k in range(7)]).astype(np.float32)
                yield {"source": frames, "linear": np.bool_(linear)}

        spec = {"source": tf.TensorSpec((7, None, None, 3), tf.float32),
                "linear": tf.TensorSpec((), tf.bool)}
        ds = tf.data.Dataset.from_generator(gen, output_signature=spec)
        if len(clips) <= 512:  # small sets (tests, synthetic video) stay decoded
            ds = ds.cache()
        if repeat:
            ds = ds.repeat()
        return ds.shuffle(min(len(clips), 256), seed=seed)

    @staticmethod
    def record_sources(records, crop, seed=0, deterministic=False):
        """Unbatched source clips from video clip records (make_tfrecord --kind video):
        7-frame windows cropped to `crop` by the video pipeline (no augmentation: the
        recipe does its own); linear ground truth where the records carry it."""
        from hdrkeras.data.pipeline import inspect_records
        from hdrkeras.data.video_pipeline import video_train_dataset

        m = inspect_records(records)["manifest"]
        with_hdr = bool(m is None or m.get("valid_fraction", 1) > 0)
        ds = video_train_dataset(records, 1, crop, num_frames=7, augment=False,
                                 rgb_permute=False, time_reverse=False,
                                 require_valid="all" if with_hdr else None,
                                 deterministic=deterministic, seed=seed).unbatch()
        if with_hdr:
            return ds.map(lambda e: {"source": e["hdr"], "linear": True})
        return ds.map(lambda e: {"source": e["ldr"], "linear": False})

    def train_dataset(self, stage_name, config, hp, previous):
        """Training pairs from `config.train_records`: video clip records (synthetic HDR
        video or a Vimeo tree converted with make_tfrecord --kind video), or a video
        dataset root read directly (a Vimeo-septuplet tree, our synthetic HDR video)."""
        import os

        from hdrkeras.errors import DataError

        root = config.train_records
        crop, batch = int(hp["patch_size"]), int(hp["batch_size"])
        if os.path.isfile(os.path.join(root, "manifest.json")) or not os.path.isdir(root):
            sources = self.record_sources(root, crop, config.seed, config.deterministic)
        else:
            from hdrkeras.data.video_sources import video_sequences

            seqs = video_sequences(root, split="train")
            if not seqs:
                raise DataError(f"{root}: no training sequences")
            sources = self.sequence_sources(seqs, config.seed)
        return self.pairs_dataset(sources, config.method_options, batch, crop, config.seed,
                                  config.deterministic)

    def val_dataset(self, config):
        """Held-out windows of `config.val_source` (a video dataset root, e.g. our synthetic
        HDR video): per sequence with this exposure count, up to 4 centres with ground
        truth, whole frames, batch 1: {"ldr" [1,T,H,W,3], "exposures" [1,T], "hdr"
        [1,H,W,3]}."""
        if not config.val_source:
            return None
        import tensorflow as tf

        from hdrkeras.data.video_sources import video_sequences
        from hdrkeras.errors import DataError

        opts = self.parse_options(config.method_options)
        seqs = [s for s in video_sequences(config.val_source, split="test",
                                           num_exposures=opts.nexps)
                if len(s.levels) == opts.nexps and len(s) >= opts.nframes]
        if not seqs:
            raise DataError(f"{config.val_source}: no {opts.nexps}-exposure sequence of at "
                            f"least {opts.nframes} frames to validate on")

        def gen():
            for seq in seqs:
                centres = [c for c in range(len(seq)) if seq.ground_truth[c] is not None]
                for c in centres[::max(1, len(centres) // 4)][:4]:
                    idx = seq.window(c, opts.nframes)
                    yield {"ldr": np.stack([seq.ldr(i) for i in idx])[None],
                           "exposures": np.asarray([[seq.exposures[i] for i in idx]],
                                                   np.float32),
                           "hdr": np.asarray(seq.hdr(c), np.float32)[None]}

        t = opts.nframes
        spec = {"ldr": tf.TensorSpec((1, t, None, None, 3), tf.float32),
                "exposures": tf.TensorSpec((1, t), tf.float32),
                "hdr": tf.TensorSpec((1, None, None, 3), tf.float32)}
        return tf.data.Dataset.from_generator(gen, output_signature=spec)

    # --- inference ---
    def build_inference_model(self, config=None):
        """config: {"exposures": 2|3, "num_frames": 5|7, "ch", "tdim"} (all optional)."""
        config = dict(config or {})
        nexps = int(config.pop("exposures", 0) or 0)
        frames = config.pop("num_frames", None)
        if not nexps:
            by_frames = {v[0]: k for k, v in CONFIGS.items()}
            if frames is not None and int(frames) not in by_frames:
                raise ConfigError(f"lanhdr: num_frames must be 5 (2 exposures) or 7 (3), "
                                  f"got {frames}")
            nexps = by_frames[int(frames)] if frames is not None else DEFAULT_EXPOSURES
        return build_video_model(build_network(nexps, **config))

    def streaming_model(self, config=None, model=None):
        """A `LanHdrStreaming` around `model` (a video model of this method or a LanHdr),
        or a fresh one built from `config` (LAN-HDR takes no extra inputs)."""
        model = model if model is not None else self.build_inference_model(config or None)
        return LanHdrStreaming(_window_net(model))

    # --- official checkpoints (python -m hdrkeras.convert --method lanhdr) ---
    def from_official(self, networks, options=None):
        """{"network": converted LanHdr (2E or 3E, from its weights)} -> the video model."""
        return build_video_model(networks["network"])


# Streaming plans, fastest first (LanHdrStreaming): "whole" runs every stage on whole
# maps; "banded" runs the 64-channel full-resolution stages (the fuser's last block with the
# merge's first conv, the merge body) in row bands and spectrum columns
# (hdrkeras.methods.lanhdr_banded); "recompute" also keeps only the small part of each
# frame's state (value pyramid, key) and recomputes its hallucination encoder pyramid at
# every window position, 4-6 more encoder runs per output frame.
PLANS = ("whole", "banded", "recompute")
# Peak resident bytes of a stream at batch 1, per plan: FIXED + pixels * (PER_PIXEL +
# frames * PER_FRAME), frames = the window length (the states it caches). FIXED: the
# process before its first frame (TF 583 MB after import, the network 54 MB). `recompute`
# from `python -m hdrkeras.bench --method lanhdr --exposures {2,3} --streaming --size
# 1080x1920 --threads 2 --runs 1` (2026-12-02; peak 3613 / 3890 MB for 2E / 3E: 1503 /
# 1643 B per pixel above FIXED, solved for the two terms and rounded up); `banded` the
# same plus a frame's hallucination pyramid (16 + 32/4 + 64/16 + 128/64 channels of
# float32: 120 B per pixel) per frame; `whole` from the 1080x1920 2E whole-map peak of
# 8310 MB (docs/benchmarks.md, "LAN-HDR (issue 16)"), above the 540x960 peak of 2610 MB.
PLAN_MEMORY = {"whole": (640 * 2 ** 20, 3100, 190),
               "banded": (640 * 2 ** 20, 1160, 190),
               "recompute": (640 * 2 ** 20, 1160, 70)}


def plan_peak_bytes(plan, height, width, frames):
    """Estimated peak resident bytes of a stream with this plan (PLAN_MEMORY)."""
    fixed, per_pixel, per_frame = PLAN_MEMORY[plan]
    return fixed + height * width * (per_pixel + frames * per_frame)


def choose_plan(height, width, frames, max_memory_gb):
    """The fastest plan whose estimated peak fits in `max_memory_gb`, else the leanest."""
    for plan in PLANS:
        if plan_peak_bytes(plan, height, width, frames) <= max_memory_gb * 2 ** 30:
            return plan
    return PLANS[-1]


class LanHdrStreaming(StreamingModel):
    """Streaming LAN-HDR (see the module docstring); the same numbers as the window model
    up to float summation order (the merge head is a sum over positions).

    Per frame (`frame_state`): the frame's hallucination encoder pyramid, value pyramid and
    luminance key (from its own inputs [L, H, Y] / [Y, H]). Per window: the reference
    encoder of the centre frame, then for each position (one call at a time) its query
    and aligner, accumulated into the merge head, then the merge body.

    Large frames take a leaner plan (PLANS, chosen from the frame size and
    `max_memory_gb` by `choose_plan`); every plan computes the same function (the banded
    ones up to float rounding), and a stream and `run_window` of one frame size take the
    same plan, so their results are identical.

    Args:
      net: a LanHdr window network.
      max_memory_gb: float. Memory budget the plan is chosen for. Defaults to
        hdrkeras.tiling.DEFAULT_MAX_MEMORY_GB (the tools' --max_memory_gb default).
      plan: one of PLANS to force it (tests, measurements); None chooses by size.
      chunk_pixels: pixels per band of the banded plans. Defaults to
        hdrkeras.methods.lanhdr_banded.CHUNK_PIXELS.
    """

    def __init__(self, net, max_memory_gb=None, plan=None, chunk_pixels=None):
        import keras
        import tensorflow as tf

        from hdrkeras import tiling
        from hdrkeras.layers.lanhdr_inputs import frame_inputs
        from hdrkeras.methods import lanhdr_banded

        if plan is not None and plan not in PLANS:
            raise ConfigError(f"LAN-HDR streaming plan must be one of {', '.join(PLANS)}, "
                              f"got {plan!r}")
        self.net = net
        self.name = "lanhdr"
        self.num_frames = int(net.nframes)
        self.num_exposures = int(net.nexps)
        self.max_memory_gb = float(max_memory_gb or tiling.DEFAULT_MAX_MEMORY_GB)
        self.forced_plan = plan
        self.chunk_pixels = int(chunk_pixels or lanhdr_banded.CHUNK_PIXELS)
        merge = net.merge
        self._head = merge.get_layer("conv1_head")
        self._body = [merge.get_layer(f"rb1_{i}") for i in range(5)] + \
            [merge.get_layer("conv1_tail")]
        self._encode = tf.function(self._encode_frame, reduce_retracing=True)
        self._reference = tf.function(self._reference_fn, reduce_retracing=True)
        self._position = tf.function(self._position_fn, reduce_retracing=True)
        self._merge_body = self._merge_body_fn
        self._relu_bias = tf.function(lambda x, b: tf.nn.relu(x + b), reduce_retracing=True)
        self._spatial = tf.function(lambda blk, x: blk.main_2(tf.nn.relu(blk.main_0(x))),
                                    reduce_retracing=True)
        self._fourier = tf.function(lambda blk, x: blk.frequency_branch(x),
                                    reduce_retracing=True)
        self._block_sum = tf.function(lambda x, a, b: x + a + b, reduce_retracing=True)
        self._tail = tf.function(lambda x: self._body[-1](x), reduce_retracing=True)
        # Banded plans: the aligner up to the fuser's last block (t channels at full
        # resolution), that block with the merge's first conv in bands, the banded body.
        fuse = net.fuser
        self._last_block = fuse.get_layer("up_2_1_rb")
        trunk = keras.Model(fuse.inputs, [fuse.get_layer("up_2_1_add").output,
                                          fuse.outputs[1]], name="fuser_trunk")
        self._trunk_model = net.aligner_model(trunk, name="aligner_trunk")
        self._trunk = tf.function(self._trunk_fn, reduce_retracing=True)
        self._frame_input = tf.function(lambda ldr, t: frame_inputs(ldr, t)[0][0],
                                        reduce_retracing=True)
        self._banded_mov = lanhdr_banded.BandedPyramidEncoder(net.mov_extractor,
                                                              self.chunk_pixels)
        self._banded_ref = lanhdr_banded.BandedPyramidEncoder(net.ref_extractor,
                                                              self.chunk_pixels)
        self._value_key_model = net.value_key_model()
        self._value_key = tf.function(self._value_key_fn, reduce_retracing=True)
        self._band_head = tf.function(
            lambda x, kernel: tf.nn.conv2d(self._last_block(x), kernel, 1, "SAME"),
            reduce_retracing=True)
        self._banded_body = lanhdr_banded.BandedMergeBody(self._body[:-1], self._body[-1],
                                                          self.chunk_pixels)

    def plan(self, height, width):
        """The plan (one of PLANS) for frames of this size."""
        if self.forced_plan:
            return self.forced_plan
        return choose_plan(height, width, self.num_frames, self.max_memory_gb)

    def memory_plan(self, height, width, max_memory_gb):
        """Whole frames within the budget by the model's own plans (StreamingModel)."""
        self.max_memory_gb = float(max_memory_gb)
        plan = self.plan(height, width)
        peak = plan_peak_bytes(plan, height, width, self.num_frames)
        if peak > self.max_memory_gb * 2 ** 30:
            return None
        return (f"whole frames, {plan} plan (estimated peak {peak / 2 ** 30:.1f} GB of the "
                f"{self.max_memory_gb:g} GB budget)")

    def _encode_frame(self, ldr, t):
        from hdrkeras.layers.lanhdr_inputs import frame_inputs

        return self.net.frame_encoder(list(frame_inputs(ldr, t)))

    def _value_key_fn(self, ldr, t):
        import tensorflow as tf

        from hdrkeras.layers.lanhdr_inputs import frame_inputs

        def quarter(n):  # two stride-2 convs, padding 1: ceil(ceil(n / 2) / 2) = ceil(n / 4)
            return (n + 3) // 4
        shape = tf.shape(ldr)
        size = tf.zeros([1, quarter(shape[1]), quarter(shape[2]), 1], ldr.dtype)
        return self._value_key_model(list(frame_inputs(ldr, t)) + [size])

    def frame_state(self, i, ldr, exposure):
        import tensorflow as tf

        ldr = tf.convert_to_tensor(np.asarray(ldr, np.float32)[None])
        t = tf.constant(exposure, tf.float32)
        plan = self.plan(ldr.shape[1], ldr.shape[2])
        if plan == "whole":
            feats = list(self._encode(ldr, t))
        elif plan == "banded":
            feats = self._banded_mov(self._frame_input(ldr, t)) + list(self._value_key(ldr, t))
        else:  # the hallucination pyramid is recomputed at each window position
            feats = [None] * 4 + list(self._value_key(ldr, t))
        return {"ldr": ldr, "t": float(exposure), "feats": feats}

    def _reference_fn(self, ldr, t):
        from hdrkeras.layers.lanhdr_inputs import frame_inputs

        return self.net.ref_extractor(frame_inputs(ldr, t)[0])

    def _position_fn(self, feats, ref, ref_ldr, t_ref, t_i, kernel):
        """One window position's aligned features through its slice of the merge's first
        conv: [1,H,W,ch] (a term of the merge head)."""
        import tensorflow as tf

        from hdrkeras.layers.lanhdr_inputs import query_inputs

        aligned, _ = self.net.aligner(list(feats) + list(ref)
                                      + [query_inputs(ref_ldr, t_ref, t_i)])
        return tf.nn.conv2d(aligned, kernel, 1, "SAME")

    def _trunk_fn(self, feats, ref, ref_ldr, t_ref, t_i):
        """One window position's aligner up to the fuser's last block: [1,H,W,t]."""
        from hdrkeras.layers.lanhdr_inputs import query_inputs

        x, _ = self._trunk_model(list(feats) + list(ref) + [query_inputs(ref_ldr, t_ref, t_i)])
        return x

    def _merge_body_fn(self, head):
        """The merge after its first conv, one branch of one FFT residual block per call:
        at full resolution with 64 channels each intermediate is 0.5 GB at 1080p, so the
        spatial and Fourier branches must not run (and hold their buffers) side by side."""
        x = self._relu_bias(head, self._head.bias)
        for block in self._body[:-1]:
            x = self._block_sum(x, self._spatial(block, x), self._fourier(block, x))
        return self._tail(x)[0]

    def window_output(self, indices, states, pair_states):
        """Each position runs as its own call, one after the other, so only one
        position's full-resolution aligner intermediates exist at a time."""
        import tensorflow as tf

        c = states[indices[len(indices) // 2]]
        _, h, w, _ = c["ldr"].shape
        plan = self.plan(h, w)
        t_ref = tf.constant(c["t"], tf.float32)
        if plan == "whole":
            ref = self._reference(c["ldr"], t_ref)
        else:
            ref = self._banded_ref(self._frame_input(c["ldr"], t_ref))
        ch = self._head.kernel.shape[2] // self.num_frames
        head = None
        if plan != "whole":
            from hdrkeras.methods.lanhdr_banded import banded

            head = np.empty((h, w, self._head.kernel.shape[3]), np.float32)
            rows = max(1, self.chunk_pixels // w)
        for k, i in enumerate(indices):
            s = states[i]
            t_i = tf.constant(s["t"], tf.float32)
            kernel = self._head.kernel[:, :, k * ch:(k + 1) * ch]
            if plan == "whole":
                part = self._position(s["feats"], ref, c["ldr"], t_ref, t_i, kernel)
                head = part if head is None else head + part
                del part
                continue
            feats = s["feats"]
            if plan == "recompute":
                feats = self._banded_mov(self._frame_input(s["ldr"], t_i)) + feats[4:]
            x = self._trunk(feats, ref, c["ldr"], t_ref, t_i)[0]
            del feats
            # The last block (two 3x3 convs and a 3x3 projection) and the head conv:
            # radius 3.
            banded(lambda band: self._band_head(band, kernel), x, 3, rows, head,
                   accumulate=k > 0)
            del x
        del ref
        if plan == "whole":
            return self._merge_body(head).numpy()
        return self._banded_body(head, self._head.bias.numpy())
