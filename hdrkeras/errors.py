"""Exceptions a user can cause. CLIs print them as one line and exit non-zero."""


class HDRKerasError(ValueError):
    """Base class for every error caused by user input (paths, files, arguments)."""


class DataError(HDRKerasError):
    """A file or scene is missing, unreadable, inconsistent or non-finite."""


class RecordError(DataError):
    """A TFRecord file is corrupt, truncated or written by another schema."""


class ConfigError(HDRKerasError):
    """An argument or configuration value is invalid."""


class MissingWeightsError(HDRKerasError):
    """Pretrained weights (VGG, official checkpoints) that must be supplied locally are absent."""
