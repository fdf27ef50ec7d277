"""DeAltHDR's two training stages, as the authors' v1.4.2 code trains them.

Supervised (`basicsr/models/dealthdr_model.py`, options/DeAltHDR.yml) on synthetic
degraded clips of 5 frames with per-frame linear ground truth:

  s per step   1/4 s = 0 ('optical_flow'), 1/4 s = 1000 ('attention'), 1/2 one of the 16
               points {0, 1/6..1 (6), 1 + 16.5 k (k = 1..6), 15, 100, 1000} ('mixed').
  outputs      for every clip position j = 0..4 the window of positions clamp(j + (-2..2))
               (edge-replicated at the clip ends) gives O_j.
  l_pix        (1/5) sum_j mean |mu(O_j) - mu(H_j)|, mu(x) = log(1 + 5000 max(x, 0)) /
               log(5001).
  l_temporal   (1/4) sum_{j>=1} mean |O_j - warp(stop_grad(O_{j-1}), F_{j->j-1})| (linear).
  loss         l_pix + 0.1 l_temporal; Adam lr 4e-4, betas (0.9, 0.99), no weight decay
               (torch AdamW with weight_decay 0), 4,000 linear warm-up steps then cosine to
               1e-7 over 200,000 steps, batch 6, crops 128; gradients clipped to global
               norm 5 (`clip_grad_norm_(..., max_norm=5.0)` in optimize_parameters).

  Deviations: the official temporal flow F comes from a SpyNet (`temporal_spynet`) that is
  built but never trained or loaded, i.e. random flows; here F is the model's own SpyNet
  flow on the linear frames, with no gradient (stop_gradient). The official code adds
  0.5 x a VGG16 perceptual term on the mu-law images that its yml does not list
  (pixel_opt: L1Loss only) and that needs ImageNet VGG16 weights; it is not ported. The
  official picks the encoder branch by the iteration's parity for all frames; here every
  frame goes through the encoder of its own exposure. Each frame is encoded once per step
  (the five windows share the features, as the official recomputation gives the same
  values and gradients).

Self-supervised (`dealthdr_real_model.py`, options/DeAltHDR_Real.yml) on unlabelled real
alternating-exposure windows of 5 frames, s = 15:

  subset      one long-exposure neighbour from {T-2, T+2} and one short from {T-1, T+1}
              (Algorithm 1's pools), the other two positions filled with the centre frame.
  loss        mean |mu(O_subset) - stop(mu(O_all))| + 1.0 x mean |mu(O_subset) -
              stop(mu(O_teacher))|, O_all the student on all five frames, O_teacher the EMA
              teacher on all five.
  teacher     EMA of the student's trainable weights, decay 0.999, after every optimiser
              step (`TrainTask.after_step`); initialised from the same weights.
  optimiser   AdamW lr 1e-5, weight decay 1e-4, betas (0.9, 0.99), cosine to 1e-7 over
              50,000 steps, no warm-up, batch 2, crops 128, global-norm clipping 5.
"""

import math

import tensorflow as tf

from hdrkeras.layers.dealthdr_inputs import preprocess_window
from hdrkeras.layers.pad_to_multiple import crop_to, zero_pad_to_multiple
from hdrkeras.layers.spy_net import dealthdr_warp
from hdrkeras.methods.base import TrainTask

WINDOW = 5
CENTRE = 2
NEIGHBOURS = (0, 1, 3, 4)
LAMBDA_TEMPORAL = 0.1
BETA_EMA = 1.0
EMA_DECAY = 0.999
_LOG_DENOM = math.log(1.0 + 5000.0)
# The official 'mixed' sample points (get_sensitivity_for_sample).
MIXED_POINTS = ((0.0,) + tuple(i / 6.0 for i in range(1, 7))
                + tuple(1.0 + i * 99.0 / 6.0 for i in range(1, 7)) + (15.0, 100.0, 1000.0))
# Algorithm 1's pools inside a 5-frame window: long (+-2) and short (+-1) neighbours.
LONG_POOL = (0, 4)
SHORT_POOL = (1, 3)


def mu_tonemap(hdr):
    """Official mu-law of the losses: log(1 + 5000 max(x, 0)) / log(5001)."""
    return tf.math.log1p(5000.0 * tf.maximum(hdr, 0.0)) / _LOG_DENOM


def sample_sensitivity(generator):
    """One s by the official schedule: P(0) = 1/4 + 1/2 * 2/16 ... as drawn there: a mode
    out of (flow, attention, mixed, mixed), then for 'mixed' one of MIXED_POINTS."""
    mode = generator.uniform([], 0, 4, dtype=tf.int32)
    point = tf.gather(tf.constant(MIXED_POINTS, tf.float32),
                      generator.uniform([], 0, len(MIXED_POINTS), dtype=tf.int32))
    return tf.switch_case(mode, [lambda: tf.constant(0.0), lambda: tf.constant(1000.0),
                                 lambda: point, lambda: point])


def window_indices(j, length=WINDOW):
    """Clip positions of the window centred on position j, edge-replicated (clamped)."""
    return [min(max(j + o, 0), length - 1) for o in (-2, -1, 0, 1, 2)]


def decode_windows(net, frames, is_long, sensitivity, windows, multiple=32):
    """Centre-frame outputs of several windows over one clip, each frame encoded once.

    frames [B, L, H, W, Cf] (official input domain), is_long [B, L], sensitivity [B],
    windows: lists of 5 clip positions. Returns a list of [B, H, W, out] (one per window).
    """
    shape = tf.shape(frames)
    h, w = shape[2], shape[3]
    frames = zero_pad_to_multiple(frames, multiple)
    feats = net.encode_frames(frames, is_long)
    outs = []
    for idx in windows:
        flow, error = net.centre_flows(tf.gather(frames, idx, axis=1))
        centre = [f[:, idx[CENTRE]] for f in feats]
        nbs = [tf.gather(f, [idx[k] for k in NEIGHBOURS], axis=1) for f in feats]
        out = net.window_decoder(centre + nbs + [flow, error, sensitivity])
        outs.append(crop_to(out, h, w))
    return outs


class SupervisedTask(TrainTask):
    """The supervised stage (module docstring). Batches: "ldr" [B, 5, p, p, 3], "exposures"
    [B, 5], "hdr" [B, 5, p, p, 3] per-frame linear ground truth (same scale as the
    outputs: linear / shortest exposure)."""

    batch_keys = ("hdr",)

    def __init__(self, model, seed=0):
        self.model = model  # DeAltHDRVideo
        self.networks = {"dealthdr": model}
        self.trainable = ("dealthdr",)
        self.generator = tf.random.Generator.from_seed(int(seed))

    def loss(self, batch, training=True):
        net = self.model.network
        ldr, exposures, hdr = batch["ldr"], batch["exposures"], batch["hdr"]
        n = ldr.shape[1]
        frames, is_long = preprocess_window(ldr, exposures, net.get_config()["use_both_input"])
        s = sample_sensitivity(self.generator) if training else tf.constant(15.0)
        s = tf.fill([tf.shape(ldr)[0]], s)
        outs = decode_windows(net, frames, is_long, s, [window_indices(j, n) for j in range(n)])
        l_pix = tf.add_n([tf.reduce_mean(tf.abs(mu_tonemap(o) - mu_tonemap(hdr[:, j])))
                          for j, o in enumerate(outs)]) / n
        lin = frames[..., :3]
        temporal = []
        for j in range(1, n):
            flow = tf.stop_gradient(
                net.pair_flow.get_layer("spynet")([zero_pad_to_multiple(lin[:, j], 32),
                                                   zero_pad_to_multiple(lin[:, j - 1], 32)]))
            flow = crop_to(flow, tf.shape(lin)[2], tf.shape(lin)[3])
            warped = dealthdr_warp(tf.stop_gradient(outs[j - 1]), flow)
            temporal.append(tf.reduce_mean(tf.abs(outs[j] - warped)))
        l_temporal = tf.add_n(temporal) / max(n - 1, 1)
        total = l_pix + LAMBDA_TEMPORAL * l_temporal
        preview = tf.clip_by_value(mu_tonemap(outs[n // 2]), 0.0, 1.0)
        return total, {"l_pix": l_pix, "l_temporal": l_temporal, "sensitivity": s[0]}, {
            "output": preview, "target": tf.clip_by_value(mu_tonemap(hdr[:, n // 2]), 0, 1)}

    def inference_model(self):
        return self.model


def subset_index(long_pick, short_pick):
    """Window positions of the subset input: centre, the picked long and short neighbours,
    the centre frame elsewhere (build_subset_input)."""
    keep = {CENTRE, long_pick, short_pick}
    return [i if i in keep else CENTRE for i in range(WINDOW)]


class SelfSupervisedTask(TrainTask):
    """The self-supervised stage (module docstring). Batches: "ldr" [B, 5, p, p, 3],
    "exposures" [B, 5]; no ground truth."""

    batch_keys = ()

    def __init__(self, model, teacher, sensitivity=15.0, seed=0):
        self.model = model
        self.teacher = teacher  # from `teacher_of`
        self.networks = {"dealthdr": model, "teacher": teacher}
        self.trainable = ("dealthdr",)
        self.sensitivity = float(sensitivity)
        self.generator = tf.random.Generator.from_seed(int(seed))
        pairs = [subset_index(a, b) for a in LONG_POOL for b in SHORT_POOL]
        self._subsets = tf.constant(pairs, tf.int32)

    def _run(self, model, ldr, exposures):
        s = tf.fill([tf.shape(ldr)[0]], self.sensitivity)
        return model({"ldr": ldr, "exposures": exposures, "sensitivity": s})

    def draw_subset(self):
        """This step's neighbour subset: window positions [5] (int32)."""
        pick = self.generator.uniform([], 0, len(LONG_POOL) * len(SHORT_POOL), dtype=tf.int32)
        return tf.gather(self._subsets, pick)

    def targets(self, batch):
        """(student's all-neighbour output, teacher's), both held fixed by the loss."""
        ldr, exposures = batch["ldr"], batch["exposures"]
        return (tf.stop_gradient(self._run(self.model, ldr, exposures)),
                tf.stop_gradient(self._run(self.teacher, ldr, exposures)))

    def consistency(self, batch, idx, hat, ema):
        """(total, l_time, l_ema) of the student's output from the neighbour subset `idx`
        against the fixed targets; the only path the gradient takes."""
        tilde = self._run(self.model, tf.gather(batch["ldr"], idx, axis=1),
                          tf.gather(batch["exposures"], idx, axis=1))
        tilde_tm = mu_tonemap(tilde)
        l_time = tf.reduce_mean(tf.abs(tilde_tm - mu_tonemap(hat)))
        l_ema = tf.reduce_mean(tf.abs(tilde_tm - mu_tonemap(ema)))
        return l_time + BETA_EMA * l_ema, l_time, l_ema

    def loss(self, batch, training=True):
        idx = self.draw_subset()
        hat, ema = self.targets(batch)
        total, l_time, l_ema = self.consistency(batch, idx, hat, ema)
        return total, {"l_time": l_time, "l_ema": l_ema}, {
            "output": tf.clip_by_value(mu_tonemap(hat), 0.0, 1.0),
            "teacher": tf.clip_by_value(mu_tonemap(ema), 0.0, 1.0)}

    def after_step(self):
        """teacher <- 0.999 teacher + 0.001 student, trainable weights only (the official
        averages named_parameters, not buffers)."""
        for t, s in zip(self.teacher.ema_variables, self.model.trainable_variables):
            t.assign(EMA_DECAY * t + (1.0 - EMA_DECAY) * s)

    def inference_model(self):
        return self.model


def copy_weights(src, dst):
    """dst's weights = src's (same architecture)."""
    dst.set_weights(src.get_weights())
    return dst


def teacher_of(model, build):
    """An EMA teacher: a fresh model from `build()` carrying `model`'s weights and frozen;
    `ema_variables` lists its variables that mirror the student's trainable ones, in the
    student's order (same construction, so the same order)."""
    teacher = copy_weights(model, build())
    teacher.ema_variables = list(teacher.trainable_variables)
    for t, s in zip(teacher.ema_variables, model.trainable_variables):
        if tuple(t.shape) != tuple(s.shape):
            raise ValueError(f"teacher variable {t.path} {t.shape} does not mirror {s.path}")
    if len(teacher.ema_variables) != len(model.trainable_variables):
        raise ValueError("teacher and student differ in their trainable variables")
    teacher.trainable = False
    return teacher
