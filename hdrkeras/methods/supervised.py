"""Supervised single-network methods: one backbone, one stage, a loss against ground truth.

`--method ahdrnet|fshdr|hdr_transformer` train SelfHDR's backbones with ground truth on
SelfHDR's schedule for each (hdrkeras.methods.backbones), so a self-supervised and a
supervised training of one network can be compared. `--method sctnet` is SCTNet's own recipe:
SCTNet (Tel et al., ICCV 2023) is trained this way by its authors (train_sct.py): L1 on
mu-law HDR plus 0.01 x a VGG16 perceptual loss (relu1_2, relu2_2, relu3_3, relu4_3), Adam
2e-4 (eps 1e-8), 128x128 crops, batch 22, 100 epochs of the Kalantari crop128/stride64 set
(about 1,000 steps an epoch at batch 22, hence 100k steps) with no decay inside them.
"""

import keras
import tensorflow as tf

from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.losses import MuLawL1
from hdrkeras.methods.backbones import Schedule, get_backbone
from hdrkeras.methods.base import Method, PerceptualOptions, Stage, TrainTask, register
from hdrkeras.models import frame_dict
from hdrkeras.ops.tonemap import mu_law


def build_backbone_inference_model(backbone, name):
    """Standard signature around a backbone that takes three [H, L] frames."""
    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposures = keras.Input((3,), name="exposures")
    frames = FrameInputs("hdr_ldr", name="frame_inputs")(ldr, exposures)
    out = backbone(frame_dict(frames))
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
        pred = tf.cast(net(frame_dict(frames), training=training), tf.float32)
        gt = tf.maximum(tf.cast(batch["hdr"], tf.float32), 0.0)
        total = self.loss_fn(pred, gt)
        l1_mu = MuLawL1()(pred, gt)
        return total, {"l1_mu": l1_mu}, {"hdr_mu": mu_law(pred), "gt_mu": mu_law(gt),
                                         "reference": batch["ldr"][:, 1]}

    def inference_model(self):
        if self._inference is None:
            self._inference = build_backbone_inference_model(self.networks["backbone"], self.name)
        return self._inference


def _loss_for(backbone_name, options):
    """The loss each backbone's own paper trains it with (`options`: the method's Options)."""
    from hdrkeras.losses import SCTNetLoss

    if backbone_name in ("sctnet", "hdr_transformer"):
        # JointReconPerceptualLoss of both official repositories.
        weight = options.perceptual_weight
        return SCTNetLoss(alpha=0.01 if weight is None else float(weight),
                          weights_path=options.vgg_weights)
    return MuLawL1()


class SupervisedBackbone(Method):
    """One backbone trained against ground truth in one stage; subclasses set `name` (a
    hdrkeras.methods.backbones name, also the converter of its official checkpoints) and
    may replace SelfHDR's `schedule` with their own."""

    num_frames = 3
    schedule = None

    def __init__(self):
        backbone = get_backbone(self.name)
        self.official_networks = {"network": self.name}
        sch = self.schedule or backbone.schedule
        self.stages = (Stage("train", self._task, steps=sch.steps, batch_size=sch.batch_size,
                             patch_size=sch.patch_size, learning_rate=sch.learning_rate,
                             lr_decay_steps=sch.lr_decay_steps,
                             lr_decay_factor=sch.lr_decay_factor),)

    def _task(self, options, previous):
        net = get_backbone(self.name).build(name=f"{self.name}_backbone")
        return BackboneTask(net, _loss_for(self.name, self.parse_options(options)), self.name)

    def build_inference_model(self, config=None):
        net = get_backbone(self.name).build(name=f"{self.name}_backbone", **(config or {}))
        return build_backbone_inference_model(net, self.name)

    def from_official(self, networks, options):
        return build_backbone_inference_model(networks["network"], self.name)


@register
class SCTNetMethod(SupervisedBackbone):
    """SCTNet's own recipe (train_sct.py), see the module docstring."""

    name = "sctnet"
    schedule = Schedule(100_000, 22, 2e-4, ())
    Options = PerceptualOptions


@register
class AHDRNetMethod(SupervisedBackbone):
    """AHDRNet (Yan et al., CVPR 2019): mu-law L1, on SelfHDR's AHDRNet schedule."""

    name = "ahdrnet"


@register
class FSHDRMethod(SupervisedBackbone):
    """FSHDR's network (Prabhakar et al., CVPR 2021) fully supervised: mu-law L1, on
    SelfHDR's FSHDR schedule."""

    name = "fshdr"


@register
class HDRTransformerMethod(SupervisedBackbone):
    """HDR-Transformer (Liu et al., ECCV 2022): mu-law L1 + 0.01 x VGG16 perceptual loss
    (its JointReconPerceptualLoss), on SelfHDR's HDR-Transformer schedule."""

    name = "hdr_transformer"
    Options = PerceptualOptions
