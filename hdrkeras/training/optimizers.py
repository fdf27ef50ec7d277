"""A stage's optimiser, as its paper sets it: Adam or AdamW, betas, weight decay, global-norm
gradient clipping and a learning-rate schedule, all scaled by the run's `--steps`.

Weight decay is decoupled (p -= lr * wd * p), which is PyTorch's AdamW; PyTorch's Adam
couples it into the gradient instead, so a paper's `Adam(weight_decay>0)` is rejected here
rather than silently changed (none of the ported methods uses it).
"""

import dataclasses
from typing import Optional, Sequence

import keras

from hdrkeras.training.schedules import StepDecay, WarmupCosine

SCHEDULES = ("step", "cosine")


@dataclasses.dataclass(frozen=True)
class OptimizerSettings:
    """How one stage optimises.

    Attributes:
      kind: "adam" or "adamw".
      beta_1, beta_2, epsilon: Adam moments and epsilon.
      weight_decay: decoupled weight decay (AdamW only; PyTorch's AdamW default is 0.01).
      clip_global_norm: clip the gradients to this global norm; None disables clipping.
      schedule: "step" (divide by the stage's lr_decay_factor at its lr_decay_steps, a
        constant rate when there are none) or "cosine" (linear warm-up, then cosine).
      warmup_steps: warm-up length of the cosine schedule, in the paper's steps.
      min_learning_rate: the cosine schedule's final rate.
    """

    kind: str = "adam"
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 0.0
    clip_global_norm: Optional[float] = None
    schedule: str = "step"
    warmup_steps: int = 0
    min_learning_rate: float = 0.0

    def __post_init__(self):
        if self.kind not in ("adam", "adamw"):
            raise ValueError(f"optimizer kind must be 'adam' or 'adamw', got {self.kind!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.kind == "adam" and self.weight_decay:
            raise ValueError("Adam with weight decay is PyTorch's coupled L2 penalty; use "
                             "kind='adamw' for decoupled decay")


def scaled_steps(steps: Sequence[int], paper_steps: int, run_steps: int):
    """Schedule points of a `paper_steps`-long schedule moved onto a `run_steps`-long run,
    so a short run keeps the paper's shape (e.g. a drop at two thirds stays at two thirds)."""
    scale = run_steps / float(paper_steps)
    return [max(1, int(round(s * scale))) for s in steps]


def learning_rate_schedule(settings: OptimizerSettings, learning_rate, total_steps,
                           boundaries=(), factor=10.0, warmup_steps=0):
    """The schedule object; `boundaries` and `warmup_steps` are already scaled to the run."""
    if settings.schedule == "cosine":
        warmup = min(int(warmup_steps), max(int(total_steps) - 1, 0))
        return WarmupCosine(learning_rate, max(int(total_steps), warmup + 1), warmup,
                            settings.min_learning_rate)
    return StepDecay(learning_rate, boundaries, factor)


def build_optimizer(settings: OptimizerSettings, schedule):
    """A Keras optimiser for `settings` following `schedule`."""
    kwargs = dict(learning_rate=schedule, beta_1=settings.beta_1, beta_2=settings.beta_2,
                  epsilon=settings.epsilon)
    if settings.clip_global_norm is not None:
        kwargs["global_clipnorm"] = float(settings.clip_global_norm)
    if settings.kind == "adamw":
        return keras.optimizers.AdamW(weight_decay=settings.weight_decay, **kwargs)
    return keras.optimizers.Adam(**kwargs)
