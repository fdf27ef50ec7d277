"""A stage's optimiser from its `OptimizerSettings` (hdrkeras.methods.base), as its paper
sets it: Adam or AdamW, betas, weight decay, global-norm gradient clipping and a
learning-rate schedule, all scaled by the run's `--steps`.

Weight decay is decoupled (p -= lr * wd * p), which is PyTorch's AdamW; PyTorch's Adam
couples it into the gradient instead, so a paper's `Adam(weight_decay>0)` is rejected here
rather than silently changed (none of the ported methods uses it).
"""

from typing import Sequence

import keras

from hdrkeras.methods.base import OptimizerSettings
from hdrkeras.training.schedules import StepDecay, WarmupCosine


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
