"""The four backbones SelfHDR trains, by name, with the schedule its authors used for each.

SelfHDR's train.sh: an "epoch" is 1,200 iterations (len_data = 1200 * batch_size in
data/sig17align_dataset.py), the step policy halves the learning rate every
`lr_decay_iters` epochs, Adam (0.9, 0.999, eps 1e-8), 128x128 crops:
  AHDRNet, FSHDR:            batch 16, lr 1e-4, 150 epochs, halved every 50
  HDR-Transformer, SCTNet:   batch 8,  lr 2e-4, 200 epochs, halved every 100
The supervised registrations of the same networks (hdrkeras.methods.supervised) reuse
these schedules so the two trainings of one network are comparable step for step.
"""

import dataclasses

from hdrkeras.models.ahdrnet import AHDRNet
from hdrkeras.models.fshdr import FSHDR
from hdrkeras.models.hdr_transformer import HDRTransformer
from hdrkeras.models.sctnet import SCTNet
from hdrkeras.registry import Registry

EPOCH_STEPS = 1200


@dataclasses.dataclass(frozen=True)
class Schedule:
    steps: int
    batch_size: int
    learning_rate: float
    lr_decay_steps: tuple
    lr_decay_factor: float = 2.0
    patch_size: int = 128


CNN_SCHEDULE = Schedule(150 * EPOCH_STEPS, 16, 1e-4, (50 * EPOCH_STEPS, 100 * EPOCH_STEPS))
TRANSFORMER_SCHEDULE = Schedule(200 * EPOCH_STEPS, 8, 2e-4, (100 * EPOCH_STEPS,))


@dataclasses.dataclass(frozen=True)
class Backbone:
    """name: command-line name, also the hdrkeras.convert converter of its official
    checkpoints; build(**config) -> keras.Model taking three [H,W,6] frames; schedule:
    SelfHDR's schedule for it."""

    name: str
    build: object
    schedule: Schedule


BACKBONES = Registry("backbone")
BACKBONES.add("ahdrnet", Backbone("ahdrnet", AHDRNet, CNN_SCHEDULE))
BACKBONES.add("fshdr", Backbone("fshdr", FSHDR, CNN_SCHEDULE))
BACKBONES.add("hdr_transformer", Backbone("hdr_transformer", HDRTransformer, TRANSFORMER_SCHEDULE))
BACKBONES.add("sctnet", Backbone("sctnet", SCTNet, TRANSFORMER_SCHEDULE))


def get_backbone(name):
    """The registered `Backbone` called `name`; UnknownNameError lists the known ones."""
    return BACKBONES.get(name)
