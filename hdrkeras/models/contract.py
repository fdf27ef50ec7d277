"""The network contract every architecture follows; see hdrkeras.models' docstring.

Imports nothing from hdrkeras, so every model module can import it.
"""


FRAME_INPUTS = ("x1", "x2", "x3")
ALIGN_INPUTS = ("nonref", "ref")


def frame_dict(frames, names=FRAME_INPUTS):
    """Frames (a list in increasing exposure, or already a dict) -> the input dict."""
    if isinstance(frames, dict):
        return frames
    frames = list(frames)
    if len(frames) != len(names):
        raise ValueError(f"expected {len(names)} frames ({', '.join(names)}), got {len(frames)}")
    return dict(zip(names, frames))


class NetworkConfig:
    """Mixin (before keras.Model in the bases): the constructor arguments handed to
    `set_config` become attributes and are what `get_config` returns."""

    def set_config(self, **config):
        self._config_keys = tuple(config)
        for key, value in config.items():
            setattr(self, key, value)

    def get_config(self):
        return {**{k: getattr(self, k) for k in self._config_keys},
                "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
