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
never coexist.
"""

import dataclasses
from typing import Optional

import numpy as np

from hdrkeras.errors import ConfigError
from hdrkeras.methods.base import PerceptualOptions, Method, Stage, TrainTask, register
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
    from hdrkeras.training.optimizers import OptimizerSettings

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
    official_networks = {"2e": "lanhdr_2e", "3e": "lanhdr_3e"}

    def __init__(self):
        kwargs = {}
        import inspect

        if "optimizer" in inspect.signature(Stage).parameters:  # the runner's video support
            kwargs["optimizer"] = _optimizer_settings()
        self.stages = (Stage("train", self._task, steps=PAPER_STEPS, batch_size=BATCH_SIZE,
                             patch_size=CROP, learning_rate=LEARNING_RATE,
                             adam={"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
                             **kwargs),)
        self.optimizer_settings = _optimizer_settings()

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

    def pipeline_hook_for(self, options, crop):
        """Per-example map fn: {"source" [7,H,W,3], "linear" bool scalar, "seed" int32 [2]}
        -> the training pair of `lanhdr_recipe.training_pair`."""
        import tensorflow as tf

        from hdrkeras.methods.lanhdr_recipe import training_pair

        opts = self.parse_options(options)

        def hook(example):
            args = dict(nexps=opts.nexps, nframes=opts.nframes, crop=int(crop),
                        independent_windows=bool(opts.independent_windows))
            source, seed = example["source"], example["seed"]
            return tf.cond(tf.cast(example["linear"], tf.bool),
                           lambda: training_pair(source, seed, linear=True, **args),
                           lambda: training_pair(source, seed, linear=False, **args))
        return hook

    def train_dataset(self, sources, options, batch_size, crop, seed=0, repeat=True):
        """tf.data of training pairs (see LanHdrTask) from 7-frame source clips.

        Args:
          sources: a Vimeo-septuplet root (str), or a list of `VideoSequence`s of at least 7
            frames (gamma LDR frames; sequences with ground truth use it as linear
            radiance, e.g. our synthetic HDR video), or a callable returning such a list.
          options: method options. batch_size, crop: ints. seed: int (deterministic).
        """
        import tensorflow as tf

        from hdrkeras.errors import DataError

        if isinstance(sources, str):
            from hdrkeras.data.vimeo import vimeo_sequences

            sources = vimeo_sequences(sources, "train")
        elif callable(sources):
            sources = sources()
        clips = []
        for seq in sources:
            if len(seq) < 7:
                raise DataError(f"sequence {seq.name}: {len(seq)} frames; LAN-HDR training "
                                f"clips need 7")
            linear = all(g is not None for g in seq.ground_truth)
            for start in range(0, len(seq) - 6, 7):
                clips.append((seq, start, linear))
        if not clips:
            raise DataError("no 7-frame training clips in the given sources")

        def gen():
            for seq, start, linear in clips:
                read = seq.hdr if linear else seq.ldr
                frames = np.stack([read(start + k) for k in range(7)]).astype(np.float32)
                yield {"source": frames, "linear": np.bool_(linear)}

        spec = {"source": tf.TensorSpec((7, None, None, 3), tf.float32),
                "linear": tf.TensorSpec((), tf.bool)}
        ds = tf.data.Dataset.from_generator(gen, output_signature=spec)
        if len(clips) <= 512:
            ds = ds.cache()
        if repeat:
            ds = ds.repeat()
        ds = ds.shuffle(min(len(clips), 256), seed=seed)
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda ex, s: {**ex, "seed": tf.cast(s % (2 ** 31 - 1), tf.int32)})
        ds = ds.map(self.pipeline_hook_for(options, crop), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(int(batch_size), drop_remainder=True).prefetch(2)

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
        or a fresh one built from `config`."""
        model = model if model is not None else self.build_inference_model(config)
        return LanHdrStreaming(_window_net(model))

    # --- official checkpoints ---
    def checkpoint_role(self, state_dict, source):
        """2e or 3e, from the window length the merge head was trained for."""
        try:
            head = np.shape(state_dict["merge.conv1_head.weight"])
            frames = int(head[1]) // int(head[0])
        except (KeyError, IndexError, ZeroDivisionError):
            raise ConfigError(f"{source}: not a LAN-HDR checkpoint (no merge.conv1_head."
                              f"weight)") from None
        for nexps, (nframes, _) in CONFIGS.items():
            if nframes == frames:
                return f"{nexps}e"
        raise ConfigError(f"{source}: a LAN-HDR checkpoint for a {frames}-frame window; "
                          f"the official models take 5 (2E) or 7 (3E)")

    def from_official(self, networks, options=None):
        if len(networks) != 1:
            raise ConfigError(f"lanhdr takes one official checkpoint, got {sorted(networks)}")
        return build_video_model(next(iter(networks.values())))

    def convert_checkpoint(self, state_dict, source="checkpoint"):
        """An official state dict (name -> numpy array) -> the video inference model."""
        from hdrkeras import convert

        role = self.checkpoint_role(state_dict, source)
        net = convert.load_reference(self.official_networks[role], state_dict,
                                     self.official_config(role, None))
        return self.from_official({role: net})


class LanHdrStreaming(StreamingModel):
    """Streaming LAN-HDR (see the module docstring); the same numbers as the window model
    up to float summation order (the merge head is a sum over positions).

    Per frame (`frame_state`): the frame's own inputs [L, H, Y] / [Y, H], its hallucination
    encoder pyramid, value pyramid and luminance key. Per window: the reference encoder
    of the centre frame, the query of each exposure level, the aligner of each position
    (one at a time) accumulated into the merge head, then the merge body.

    Args:
      net: a LanHdr window network.
    """

    def __init__(self, net):
        import tensorflow as tf

        self.net = net
        self.name = "lanhdr"
        self.num_frames = int(net.nframes)
        self.num_exposures = int(net.nexps)
        merge = net.merge
        self._head = merge.get_layer("conv1_head")
        self._body = [merge.get_layer(f"rb1_{i}") for i in range(5)] + \
            [merge.get_layer("conv1_tail")]
        self._encode = tf.function(self._encode_frame, reduce_retracing=True)
        self._window = tf.function(self._window_fn, reduce_retracing=True)

    def _encode_frame(self, ldr, t):
        from hdrkeras.layers.lanhdr_inputs import frame_inputs

        inputs, ys = frame_inputs(ldr, t)
        return inputs, self.net.frame_encoder([inputs, ys])

    def frame_state(self, i, ldr, exposure):
        import tensorflow as tf

        ldr = tf.convert_to_tensor(np.asarray(ldr, np.float32)[None])
        inputs, feats = self._encode(ldr, tf.constant(exposure, tf.float32))
        return {"ldr": ldr, "t": float(exposure), "inputs": inputs, "feats": list(feats)}

    def _window_fn(self, feats, ref_inputs, ref_ldr, t_ref, ts):
        import tensorflow as tf

        from hdrkeras.layers.lanhdr_inputs import query_inputs

        ch = self._head.kernel.shape[2] // self.num_frames
        ref = self.net.ref_extractor(ref_inputs)
        head = None
        for k, f in enumerate(feats):
            exp_ys = query_inputs(ref_ldr, t_ref, ts[k])
            aligned, _ = self.net.aligner(list(f) + list(ref) + [exp_ys])
            part = tf.nn.conv2d(aligned, self._head.kernel[:, :, k * ch:(k + 1) * ch], 1,
                                "SAME")
            head = part if head is None else head + part
        x = tf.nn.relu(head + self._head.bias)
        for layer in self._body:
            x = layer(x)
        return x[0]

    def window_output(self, indices, states, pair_states):
        import tensorflow as tf

        c = states[indices[len(indices) // 2]]
        ts = tf.constant([states[i]["t"] for i in indices], tf.float32)
        out = self._window([states[i]["feats"] for i in indices], c["inputs"], c["ldr"],
                           tf.constant(c["t"], tf.float32), ts)
        return out.numpy()
