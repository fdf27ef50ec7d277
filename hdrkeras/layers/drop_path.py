"""Stochastic depth: drops a whole residual branch per sample during training."""

import keras


@keras.saving.register_keras_serializable(package="hdrkeras")
class DropPath(keras.layers.Layer):
    """Zeroes the input for a random subset of samples and rescales the rest by 1/keep.

    Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016 (timm's DropPath).
    Identity at inference.

    Call args:
      x: float [B, ...] residual-branch output.

    Args:
      rate: float in [0, 1). Probability of dropping a sample's branch. Defaults to 0.
      seed: int or None. Seed of the layer's generator. Defaults to None.
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"DropPath rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if self.rate > 0 else None

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        shape = (keras.ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        noise = keras.random.uniform(shape, dtype=x.dtype, seed=self.seed_generator)
        return x * keras.ops.floor(keep + noise) / keep

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
