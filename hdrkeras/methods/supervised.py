"""Supervised single-network methods: one backbone, one stage, a loss against ground truth.

SCTNet (Tel et al., ICCV 2023) is trained this way by its authors (train_sct.py): L1 on
mu-law HDR plus 0.01 x a VGG16 perceptual loss (relu1_2, relu2_2, relu3_3, relu4_3), Adam
2e-4 (eps 1e-8), 128x128 crops, batch 22, 100 epochs of the Kalantari crop128/stride64 set
(about 1,000 steps an epoch at batch 22, hence 100k steps) with no decay inside them.
"""

import keras
import tensorflow as tf

from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.methods import register
from hdrkeras.methods.base import Method, Stage, TrainTask
from hdrkeras.ops.tonemap import mu_law


def backbone_inputs(backbone, frames):
    """Frames in the structure the backbone was built with: a list (AHDRNet, FSHDR) or a
    dict keyed by the official argument names x1, x2, x3 (SCTNet, HDR-Transformer)."""
    if isinstance(backbone.input, dict):
        return {f"x{i + 1}": frame for i, frame in enumerate(frames)}
    return list(frames)


def build_backbone_inference_model(backbone, name):
    """Standard signature around a backbone that takes three [H, L] frames."""
    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposures = keras.Input((3,), name="exposures")
    frames = FrameInputs("hdr_ldr", name="frame_inputs")(ldr, exposures)
    out = backbone(backbone_inputs(backbone, frames))
    hdr = keras.layers.Activation("linear", dtype="float32", name="hdr")(out)
    return keras.Model({"ldr": ldr, "exposures": exposures}, hdr, name=name)


class BackboneTask(TrainTask):
    """Trains `networks["backbone"]` against the ground truth with `loss_fn(pred, gt)`."""

    def __init__(self, backbone, loss_fn, name):
        self.networks = {"backbone": backbone}
        self.trainable = ("backbone",)
        self.loss_fn = loss_fn
        self.inputs = FrameInputs("hdr_ldr")
        self.name = name
        self._inference = None

    def loss(self, batch, training=True):
        frames = self.inputs(batch["ldr"], batch["exposures"])
        net = self.networks["backbone"]
        pred = tf.cast(net(backbone_inputs(net, frames), training=training), tf.float32)
        gt = tf.maximum(tf.cast(batch["hdr"], tf.float32), 0.0)
        total = self.loss_fn(pred, gt)
        l1_mu = tf.reduce_mean(tf.abs(mu_law(pred) - mu_law(gt)))
        return total, {"l1_mu": l1_mu}, {"hdr_mu": mu_law(pred), "gt_mu": mu_law(gt),
                                         "reference": batch["ldr"][:, 1]}

    def inference_model(self):
        if self._inference is None:
            self._inference = build_backbone_inference_model(self.networks["backbone"], self.name)
        return self._inference


def _sctnet_task(options, previous):
    from hdrkeras.losses import SCTNetLoss
    from hdrkeras.models.sctnet import SCTNet

    weight = options.get("perceptual_weight")
    loss = SCTNetLoss(alpha=0.01 if weight is None else float(weight),
                      weights_path=options.get("vgg_weights"))
    return BackboneTask(SCTNet(name="sctnet_backbone"), loss, "sctnet")


@register
class SCTNetMethod(Method):
    name = "sctnet"
    num_frames = 3
    size_multiple = 8
    stages = (
        Stage("train", _sctnet_task, steps=100_000, batch_size=22, patch_size=128,
              learning_rate=2e-4, adam={"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}),
    )

    def preprocess(self, ldr, exposures):
        return FrameInputs("hdr_ldr")(ldr, exposures)

    def build_inference_model(self, config=None):
        from hdrkeras.models.sctnet import SCTNet

        return build_backbone_inference_model(SCTNet(name="sctnet_backbone", **(config or {})),
                                               "sctnet")
