"""Learning-rate schedules of the papers, all defined on optimiser steps.

Piecewise constant (ESBN, AHDRNet-style: divided at fixed steps), constant (LAN-HDR) and
cosine annealing after a linear warm-up (DeAltHDR). Each is a serializable Keras schedule
so a checkpointed optimiser restores the same curve.
"""

import math

import keras


@keras.saving.register_keras_serializable(package="hdrkeras")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr = initial / factor**k after the k-th boundary of `boundaries` has been passed.

    ESBN: 1e-4, /10 at 200k; AHDRNet-style: halved every 50 epochs (boundaries listed).
    With no boundaries the rate is constant.
    """

    def __init__(self, initial_learning_rate, boundaries=(), factor=10.0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.boundaries = [int(b) for b in boundaries]
        self.factor = float(factor)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        k = keras.ops.zeros((), "float32")
        for b in self.boundaries:
            k = k + keras.ops.cast(step >= b, "float32")
        return self.initial_learning_rate / keras.ops.power(self.factor, k)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "boundaries": self.boundaries, "factor": self.factor}


@keras.saving.register_keras_serializable(package="hdrkeras")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak_learning_rate` over `warmup_steps`, then cosine
    annealing to `min_learning_rate` at `total_steps` (PyTorch's CosineAnnealingLR shape:
    min + (peak - min) * (1 + cos(pi * t / T)) / 2), constant at the minimum afterwards.

    Args:
      peak_learning_rate: float. Rate at the end of the warm-up.
      total_steps: int. Step at which the cosine reaches the minimum.
      warmup_steps: int. Length of the linear warm-up (0: none). Defaults to 0.
      min_learning_rate: float. Final rate. Defaults to 0.
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps=0, min_learning_rate=0.0):
        if total_steps <= warmup_steps:
            raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps "
                             f"({warmup_steps})")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.min_learning_rate = float(min_learning_rate)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        peak, low = self.peak_learning_rate, self.min_learning_rate
        warm = float(max(self.warmup_steps, 1))
        warmup_lr = peak * keras.ops.minimum(step + 1.0, warm) / warm
        t = keras.ops.clip((step - self.warmup_steps)
                           / float(self.total_steps - self.warmup_steps), 0.0, 1.0)
        cosine_lr = low + (peak - low) * 0.5 * (1.0 + keras.ops.cos(math.pi * t))
        if self.warmup_steps == 0:
            return cosine_lr
        return keras.ops.where(step < self.warmup_steps, warmup_lr, cosine_lr)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "min_learning_rate": self.min_learning_rate}
