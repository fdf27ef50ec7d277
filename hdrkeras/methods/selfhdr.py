"""SelfHDR (Zhang et al., ICLR 2024): HDR reconstruction learned without ground truth.

Stages (`python train/fit.py --method selfhdr --backbone NAME --stage ...`):
  targets         colour component Y_color for every training scene: optical-flow
                  alignment + triangle-weight merge (hdrkeras.data.selfhdr_targets). Reuses
                  records that already carry it (tfrecord_tools/make_selfhdr_targets.py).
  structure       stage 1: the structure-focused network, trained on the UNALIGNED frames
                  against Y_color (masked) and the reference (SelfHDR1Model).
  stru_targets    runs it on the ALIGNED frames of every scene -> structure component
                  Y_stru (the official `test.py --stage0_inference True`).
  reconstruction  stage 2: a fresh backbone on unaligned frames with Gaussian noise
                  (sigma 0.5/255) on the reference LDR, against Y_color (masked by its
                  agreement with Y_stru) and Y_stru (VGG19) (SelfHDR2Model).
The training records' ground truth, if any, is never read: targets are built from the
frames and the target records carry no GT.
"""

import dataclasses
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from hdrkeras.data.schema import ALIGNED, Y_COLOR, Y_STRU
from hdrkeras.errors import ConfigError
from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.methods.backbones import get_backbone
from hdrkeras.methods.base import Method, PerceptualOptions, Stage, TrainTask, register
from hdrkeras.methods.supervised import build_backbone_inference_model
from hdrkeras.models import frame_dict
from hdrkeras.ops.tonemap import mu_law
from hdrkeras.predictor import keras_predictor
from hdrkeras.tiling import run_tiled

DEFAULT_BACKBONE = "ahdrnet"
REFERENCE_NOISE_SIGMA = 0.5 / 255.0
# Tile side when the stage-1 network runs over whole scenes: bounds memory at full size.
STRU_TARGET_TILE = 512


@dataclasses.dataclass(frozen=True)
class SelfHDROptions(PerceptualOptions):
    """SelfHDR's options.

    Attributes:
      backbone: network trained (hdrkeras.methods.backbones); None = AHDRNet.
      perceptual_weight: weight of stage 2's VGG19 structure loss; None = 1 (the paper's).
      vgg_weights: local VGG19 ImageNet weights file; None = Keras' download cache.
    """

    backbone: Optional[str] = None

    def __post_init__(self):
        super().__post_init__()
        get_backbone(self.backbone_name)

    @property
    def backbone_name(self):
        return self.backbone or DEFAULT_BACKBONE


class _SelfHDRTask(TrainTask):
    """A fresh backbone and one of SelfHDR's two losses (`options`: SelfHDROptions)."""

    def __init__(self, options, name):
        self.backbone_name = options.backbone_name
        net = get_backbone(self.backbone_name).build(name=f"{self.backbone_name}_{name}")
        self.networks = {"backbone": net}
        self.trainable = ("backbone",)
        self.inputs = FrameInputs("hdr_ldr")
        self._inference = None

    def _forward(self, ldr, exposures, training):
        frames = self.inputs(ldr, exposures)
        net = self.networks["backbone"]
        return frames, tf.cast(net(frame_dict(frames), training=training), tf.float32)

    def inference_model(self):
        if self._inference is None:
            self._inference = build_backbone_inference_model(self.networks["backbone"],
                                                             "selfhdr")
        return self._inference


class StructureTask(_SelfHDRTask):
    """Stage 1: structure expansion (Y_color under mask M1) + 4 x structure preserving."""

    batch_keys = (Y_COLOR,)

    def __init__(self, options):
        from hdrkeras.losses import SelfHDRStage1Loss

        super().__init__(options, "structure")
        self.loss_fn = SelfHDRStage1Loss()

    def loss(self, batch, training=True):
        frames, pred = self._forward(batch["ldr"], batch["exposures"], training)
        terms = self.loss_fn.terms(pred, batch[Y_COLOR], frames[1])
        logs = {"stru_expan": terms["stru_expan"], "stru_prese": terms["stru_prese"],
                "mask_fraction": tf.reduce_mean(terms["label_mask"])}
        return terms["total"], logs, {"hdr_mu": mu_law(pred), "y_color_mu": mu_law(batch[Y_COLOR]),
                                      "reference": batch["ldr"][:, 1]}


class ReconstructionTask(_SelfHDRTask):
    """Stage 2: colour loss (Y_color, mask M2) + structure loss (VGG19 to Y_stru)."""

    batch_keys = (Y_COLOR, Y_STRU)

    def __init__(self, options):
        from hdrkeras.losses import SelfHDRStage2Loss

        super().__init__(options, "reconstruction")
        weight = options.perceptual_weight
        self.loss_fn = SelfHDRStage2Loss(vgg_weight=1.0 if weight is None else float(weight),
                                         vgg_weights_path=options.vgg_weights)

    def loss(self, batch, training=True):
        ldr = batch["ldr"]
        if training:
            # SelfHDR2Model.forward: Gaussian noise on the reference LDR, clamped, and its
            # HDR-domain twin recomputed from the noisy values.
            ref = ldr[:, 1] + tf.random.normal(tf.shape(ldr[:, 1]), stddev=REFERENCE_NOISE_SIGMA)
            ldr = tf.concat([ldr[:, :1], tf.clip_by_value(ref, 0.0, 1.0)[:, None], ldr[:, 2:]],
                            axis=1)
        _, pred = self._forward(ldr, batch["exposures"], training)
        terms = self.loss_fn.terms(pred, batch[Y_COLOR], batch[Y_STRU])
        logs = {"color": terms["color"], "stru": terms["stru"],
                "mask_fraction": tf.reduce_mean(terms["label_mask"])}
        return terms["total"], logs, {"hdr_mu": mu_law(pred), "y_stru_mu": mu_law(batch[Y_STRU]),
                                      "reference": batch["ldr"][:, 1]}


def _scenes(records):
    """Whole scenes of a records folder, without their ground truth."""
    from hdrkeras.data import pipeline

    with pipeline.record_errors(records):
        for ex in pipeline.eval_dataset(records, num_frames=3, ground_truth=False,
                                        source_type="records"):
            out = {k: v[0].numpy() for k, v in ex.items()}
            out["scene"] = out["scene"].decode()
            yield out


def produce_targets(method, config, previous, out_dir, log):
    """Y_color and the aligned frames of every training scene -> records (no GT)."""
    from hdrkeras.data import pipeline, records, selfhdr_targets

    source = config.train_records
    info = pipeline.inspect_records(source)
    if Y_COLOR in info["targets"] and info["has_aligned"]:
        log(f"[targets] {source} already carries {Y_COLOR} and aligned frames; using it")
        return {"records": os.fspath(source)}
    if info["num_frames"] != 3:
        raise ConfigError(f"SelfHDR needs 3-frame stacks; {source} holds {info['num_frames']}")

    out = os.path.join(out_dir, "records")
    records.write_example_records(selfhdr_targets.color_target_examples(_scenes(source)), out,
                                  overwrite=True, source=source, progress=log)
    return {"records": out}


def produce_structure_targets(method, config, previous, out_dir, log):
    """Runs the stage-1 network on the aligned frames: Y_stru per scene -> records (+ .hdr)."""
    from hdrkeras import io
    from hdrkeras.data import records

    source = previous["targets"]["records"]
    model = previous["structure"].inference_model()
    predictor = keras_predictor(model, "stage-1 network", "selfhdr_structure")
    hdr_dir = os.path.join(out_dir, "hdr")
    os.makedirs(hdr_dir, exist_ok=True)

    def examples():
        for ex in _scenes(source):
            if ALIGNED not in ex:
                raise ConfigError(f"records {source} carry no aligned frames (scene "
                                  f"{ex['scene']}); rebuild them with --stage targets")
            y_stru = run_tiled(predictor, ex[ALIGNED][None], ex["exposures"][None],
                               tile=STRU_TARGET_TILE)[0]
            io.write_hdr(os.path.join(hdr_dir, ex["scene"].replace("/", "_") + ".hdr"), y_stru)
            yield {"scene": ex["scene"], "ldr": ex["ldr"], "exposures": ex["exposures"],
                   "targets": {Y_COLOR: ex[Y_COLOR], Y_STRU: np.maximum(y_stru, 0.0)},
                   ALIGNED: ex[ALIGNED]}

    out = os.path.join(out_dir, "records")
    records.write_example_records(examples(), out, overwrite=True, source=source,
                                  progress=log)
    return {"records": out, "hdr": hdr_dir}


def _stage(name, build, schedule):
    return Stage(name, build, steps=schedule.steps, batch_size=schedule.batch_size,
                 patch_size=schedule.patch_size, learning_rate=schedule.learning_rate,
                 lr_decay_steps=schedule.lr_decay_steps, lr_decay_factor=schedule.lr_decay_factor)


@register
class SelfHDR(Method):
    name = "selfhdr"
    num_frames = 3
    augment = False  # SIG17AlignDataset crops without rotations or flips
    Options = SelfHDROptions
    _cnn = get_backbone(DEFAULT_BACKBONE).schedule

    def __init__(self):
        self.stages = (
            Stage.producer("targets", produce_targets),
            _stage("structure", self._structure_task, self._cnn),
            Stage.producer("stru_targets", produce_structure_targets),
            _stage("reconstruction", self._reconstruction_task, self._cnn),
        )

    def _structure_task(self, options, previous):
        return StructureTask(self.parse_options(options))

    def _reconstruction_task(self, options, previous):
        return ReconstructionTask(self.parse_options(options))

    def configured_stage(self, name, options):
        """The stage on the chosen backbone's schedule (SelfHDR's train.sh settings)."""
        stage = self.stage(name)
        if stage.produce is not None:
            return stage
        sch = get_backbone(self.parse_options(options).backbone_name).schedule
        return dataclasses.replace(stage, steps=sch.steps, batch_size=sch.batch_size,
                                   patch_size=sch.patch_size, learning_rate=sch.learning_rate,
                                   lr_decay_steps=sch.lr_decay_steps,
                                   lr_decay_factor=sch.lr_decay_factor)

    def train_records(self, stage_name, config, previous):
        source = {"structure": "targets", "reconstruction": "stru_targets"}[stage_name]
        return previous[source]["records"]

    def official_roles(self, options):
        """SelfHDR's released checkpoints are its backbones' (models/<backbone>.py)."""
        return {"network": self.parse_options(options).backbone_name}

    def from_official(self, networks, options):
        return build_backbone_inference_model(networks["network"], self.name)

    def build_inference_model(self, config=None):
        config = dict(config or {})
        name = config.pop("backbone", DEFAULT_BACKBONE)
        net = get_backbone(name).build(name=f"{name}_reconstruction", **config)
        return build_backbone_inference_model(net, "selfhdr")
