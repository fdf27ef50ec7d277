"""ESBN (Lee, Chung & Cho, IEEE Access 2020): exposure-structure blending.

Two alignment networks re-synthesise the short and long exposures structurally aligned to
the reference; a small fusion network merges the aligned stack. Training follows the
official scripts (training_align_low.py, training_align_high.py, training_fusion.py):

  align_low / align_high  MSE in the [-1, 1] LDR domain against the ground truth re-exposed
                          to that frame, clip(H_gt * t_k, 0, 1) ** (1/2.2)
  fusion                  L1 on mu-law HDR (in the official [-1, 1] scaling, i.e. twice the
                          plain mu-law L1) with both alignment nets frozen in front
  joint                   all three fine-tuned end to end with the fusion loss, lower rate

Defaults are the paper's: Adam 1e-4 (beta1 0.9, eps 1e-8), batch 8 (alignment) / 4
(fusion), 256x256 patches, 300k iterations with the rate divided by 10 at 200k. The joint
stage's schedule is not given in the paper; we use 1e-5 for 50k steps.

One option departs from the paper (off by default): `linear_weight` adds an L1 on linear
HDR to the fusion and joint losses (see ESBNOptions).
"""

import dataclasses
from typing import Optional

import keras
import tensorflow as tf

from hdrkeras.convert.esbn import detect_role
from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.losses import MuLawL1
from hdrkeras.methods.base import Method, Stage, TrainTask, check_loss_weight, register
from hdrkeras.models import ALIGN_INPUTS, frame_dict
from hdrkeras.models.esbn import ESBNAlign, ESBNFusion
from hdrkeras.ops.response import reexpose
from hdrkeras.ops.tonemap import mu_law

LOW, MID, HIGH = 0, 1, 2


def _to_unit(x):
    """[-1, 1] (ESBN's convention) -> [0, 1]."""
    return (tf.cast(x, tf.float32) + 1.0) * 0.5


def build_esbn_inference_model(align_low, align_high, fusion, name="esbn"):
    """The standard inference signature around the three trained networks.

    ldr [B,3,H,W,3] in [0,1] + exposures [B,3] -> linear HDR [B,H,W,3] in [0,1] (the
    scale of the shortest exposure, like Kalantari's ground truth).
    """
    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposures = keras.Input((3,), name="exposures")
    x_low, x_mid, x_high = FrameInputs("esbn", name="esbn_inputs")(ldr, exposures)
    aligned_low = align_low(frame_dict([x_low, x_mid], ALIGN_INPUTS))
    aligned_high = align_high(frame_dict([x_high, x_mid], ALIGN_INPUTS))
    aligned = keras.ops.stack(
        [(aligned_low + 1.0) * 0.5, ldr[:, MID], (aligned_high + 1.0) * 0.5], axis=1)
    f_low, f_mid, f_high = FrameInputs("esbn", name="esbn_fusion_inputs")(aligned, exposures)
    out = fusion(frame_dict([f_low, f_mid, f_high]))
    hdr = keras.layers.Activation("linear", dtype="float32", name="hdr")((out + 1.0) * 0.5)
    return keras.Model({"ldr": ldr, "exposures": exposures}, hdr, name=name)


@dataclasses.dataclass(frozen=True)
class ESBNOptions:
    """Options of the esbn method (fit's --linear_weight).

    Attributes:
      linear_weight: weight of an L1 on linear HDR added to the fusion and joint losses;
        None or 0 is the paper's mu-law L1 alone. Not in the paper: the mu-law curve's
        slope at x is 1/(1 + 5000 x) of its slope at 0, so a short schedule leaves the
        bright regions, which decide PSNR-l and most of the colour, nearly untrained.
        The main job uses it as a documented deviation (docs/training.md).
    """

    linear_weight: Optional[float] = None

    def __post_init__(self):
        check_loss_weight("--linear_weight", self.linear_weight)


class AlignTask(TrainTask):
    """Trains one alignment net: (non-reference, reference) -> non-reference aligned."""

    def __init__(self, which):
        self.which = which
        self.frame = LOW if which == "low" else HIGH
        self.net_name = f"align_{which}"
        self.inputs = FrameInputs("esbn")
        self.networks = {self.net_name: ESBNAlign(name=self.net_name)}
        self.trainable = (self.net_name,)

    def loss(self, batch, training=True):
        frames = self.inputs(batch["ldr"], batch["exposures"])
        out = tf.cast(self.networks[self.net_name](
            frame_dict([frames[self.frame], frames[MID]], ALIGN_INPUTS), training=training),
            tf.float32)
        t_k = batch["exposures"][:, self.frame, None, None, None]
        target = reexpose(batch["hdr"], t_k) * 2.0 - 1.0
        mse = tf.reduce_mean(tf.square(out - target))
        previews = {"input": batch["ldr"][:, self.frame], "aligned": _to_unit(out),
                    "target": _to_unit(target), "reference": batch["ldr"][:, MID]}
        return mse, {"mse": mse}, previews


class FusionTask(TrainTask):
    """Fusion behind the alignment nets; `joint=True` fine-tunes all three."""

    def __init__(self, previous, joint=False, linear_weight=None):
        if joint:
            nets = dict(previous["fusion"].networks)
        else:
            nets = {
                "align_low": previous["align_low"].networks["align_low"],
                "align_high": previous["align_high"].networks["align_high"],
                "fusion": ESBNFusion(name="fusion"),
            }
        self.networks = nets
        self.joint = joint
        self.trainable = ("align_low", "align_high", "fusion") if joint else ("fusion",)
        self.inputs = FrameInputs("esbn")
        self.loss_fn = MuLawL1(loss_weight=2.0)
        self.linear_weight = float(linear_weight or 0.0)
        self._inference = None

    def forward(self, ldr, exposures, training):
        align_training = training and self.joint  # frozen nets keep their BN statistics
        x_low, x_mid, x_high = self.inputs(ldr, exposures)
        a_low = self.networks["align_low"](frame_dict([x_low, x_mid], ALIGN_INPUTS),
                                           training=align_training)
        a_high = self.networks["align_high"](frame_dict([x_high, x_mid], ALIGN_INPUTS),
                                             training=align_training)
        aligned = tf.stack([_to_unit(a_low), tf.cast(ldr[:, MID], tf.float32),
                            _to_unit(a_high)], axis=1)
        f_low, f_mid, f_high = self.inputs(aligned, exposures)
        out = self.networks["fusion"](frame_dict([f_low, f_mid, f_high]), training=training)
        return _to_unit(out), _to_unit(a_low), _to_unit(a_high)

    def loss(self, batch, training=True):
        hdr, a_low, a_high = self.forward(batch["ldr"], batch["exposures"], training)
        gt = tf.maximum(batch["hdr"], 0.0)
        # Official: |T(out)*2-1 - T(gt)*2-1| averaged, i.e. twice the mu-law L1.
        l1 = self.loss_fn(hdr, gt)
        logs = {"l1_mu": l1 * 0.5}
        loss = l1
        if self.linear_weight:
            l1_linear = tf.reduce_mean(tf.abs(hdr - gt))
            logs["l1_linear"] = l1_linear
            loss = l1 + self.linear_weight * l1_linear
        previews = {"hdr_mu": mu_law(hdr), "gt_mu": mu_law(gt),
                    "aligned_low": a_low, "aligned_high": a_high}
        return loss, logs, previews

    def inference_model(self):
        if self._inference is None:
            self._inference = build_esbn_inference_model(
                self.networks["align_low"], self.networks["align_high"], self.networks["fusion"])
        return self._inference


@register
class ESBN(Method):
    name = "esbn"
    num_frames = 3
    Options = ESBNOptions
    # Three official TF1 checkpoints; both alignment nets are MCAE_align networks.
    official_networks = {"align_low": "esbn_align", "align_high": "esbn_align",
                         "fusion": "esbn_fusion"}

    def __init__(self):
        # Every stage: Adam (0.9, 0.999, eps 1e-8), the Stage default, as in the official code.
        self.stages = (
            Stage("align_low", lambda options, previous: AlignTask("low"), steps=300_000,
                  batch_size=8, patch_size=256, learning_rate=1e-4, lr_decay_steps=(200_000,)),
            Stage("align_high", lambda options, previous: AlignTask("high"), steps=300_000,
                  batch_size=8, patch_size=256, learning_rate=1e-4, lr_decay_steps=(200_000,)),
            Stage("fusion", self._fusion_task, steps=300_000, batch_size=4, patch_size=256,
                  learning_rate=1e-4, lr_decay_steps=(200_000,)),
            Stage("joint", self._joint_task, steps=50_000, batch_size=4, patch_size=256,
                  learning_rate=1e-5),
        )

    def _fusion_task(self, options, previous):
        return FusionTask(previous, linear_weight=self.parse_options(options).linear_weight)

    def _joint_task(self, options, previous):
        return FusionTask(previous, joint=True,
                          linear_weight=self.parse_options(options).linear_weight)

    def checkpoint_role(self, state_dict, source, roles):
        """Fusion or alignment from the variable names (an alignment net without a role is
        align_low: both nets share their names, only the user knows which one it is)."""
        return detect_role(state_dict, source)

    def official_config(self, role, config):
        return {**(config or {}), "name": role}

    def from_official(self, networks, options):
        return build_esbn_inference_model(
            networks["align_low"], networks["align_high"], networks["fusion"], name=self.name)

    def build_inference_model(self, config=None):
        config = dict(config or {})
        return build_esbn_inference_model(
            ESBNAlign(name="align_low"), ESBNAlign(name="align_high"), ESBNFusion(name="fusion"))
