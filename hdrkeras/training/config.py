"""Typed configuration of one training run (what train/fit.py's flags fill in)."""

import dataclasses
from typing import Optional

from hdrkeras import checks


@dataclasses.dataclass
class RunConfig:
    """Settings of a run that are not part of a method's recipe.

    Attributes:
      run_dir: folder holding one sub-folder per stage (checkpoints, TensorBoard logs) and
        the final `model.keras`.
      train_records: TFRecord folder (with manifest.json) of training data.
      val_source: TFRecord folder or dataset root of held-out scenes; None disables validation.
      steps: override of the stage's step count (None = the paper's schedule).
      batch_size, patch_size, learning_rate: overrides (None = stage default).
      checkpoint_every: steps between checkpoints (one is also written on exit).
      log_every: steps between TensorBoard scalar writes and console progress lines.
      preview_every: steps between tonemapped image previews in TensorBoard.
      validate_every: steps per "epoch"; validation runs at the end of each.
      max_val_scenes: cap on validation scenes per evaluation (keeps epochs cheap).
      strategy: "default", "mirrored" or "multi_worker" (tf.distribute).
      jit_compile: compile the train step with XLA.
      mixed_precision: run in mixed precision (float16 on GPU, bfloat16 on CPU).
      deterministic: deterministic input pipeline and op determinism; the data iterator
        is checkpointed, so a resumed run reproduces an uninterrupted one.
      seed: seed of crops, augmentation and initialisation.
      method_options: method-specific options (e.g. vgg_weights, perceptual_weight, backbone).
    """

    run_dir: str
    train_records: str
    val_source: Optional[str] = None
    steps: Optional[int] = None
    batch_size: Optional[int] = None
    patch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    checkpoint_every: int = 500
    log_every: int = 50
    preview_every: int = 500
    validate_every: int = 1000
    max_val_scenes: int = 8
    strategy: str = "default"
    jit_compile: bool = False
    mixed_precision: bool = False
    deterministic: bool = False
    seed: int = 0
    method_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        """Ranges checked here, the one place every caller passes through: 0 or a negative
        number never stands for "default" or "unlimited". Messages name fit's flag."""
        checks.positive_ints({"--steps": self.steps, "--batch_size": self.batch_size,
                              "--patch_size": self.patch_size})
        checks.positive_float("--learning_rate", self.learning_rate)
        checks.positive_ints({"--checkpoint_every": self.checkpoint_every,
                              "--log_every": self.log_every,
                              "--validate_every": self.validate_every,
                              "--max_val_scenes": self.max_val_scenes}, optional=False)
        checks.non_negative_int("--preview_every", self.preview_every)
        checks.non_negative_int("--seed", self.seed)
