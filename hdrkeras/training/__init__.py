"""Method-agnostic staged training (see runner.py)."""

from hdrkeras.training.config import RunConfig
from hdrkeras.training.runner import Interrupted, make_train_step, run, stage_hyperparameters

__all__ = ["RunConfig", "Interrupted", "make_train_step", "run", "stage_hyperparameters"]
