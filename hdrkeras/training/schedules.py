"""Learning-rate schedules used by the papers: piecewise constant, divided at fixed steps."""

import keras


@keras.saving.register_keras_serializable(package="hdrkeras")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr = initial / factor**k after the k-th boundary of `boundaries` has been passed.

    ESBN: 1e-4, /10 at 200k; AHDRNet-style: halved every 50 epochs (boundaries listed).
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
