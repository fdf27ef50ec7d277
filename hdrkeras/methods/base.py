"""The contract between a method (a training recipe) and the generic machinery.

A *model* is an architecture (hdrkeras.models.*); a *method* says how it is trained and
how raw frames become model inputs. The training driver, export, reconstruct and bench
only ever talk to a `Method` obtained from `hdrkeras.methods.get(name)`.

Every method's inference model has ONE signature, so export/reconstruct/evaluate are
method-agnostic:

  inputs  {"ldr": float32 [B, N, H, W, 3] gamma-encoded LDR in [0,1], frames in increasing
           exposure (reference = middle frame),
           "exposures": float32 [B, N] relative exposure times (shortest = 1)}
  output  float32 [B, H, W, 3] linear HDR (unbounded, >= 0)

for any H and W: padding to the architecture's multiple happens inside the model.
"""

import dataclasses
from typing import Any, Callable, Mapping, Optional, Sequence


@dataclasses.dataclass
class Stage:
    """One training stage of a method.

    Attributes:
      name: stage name used on the command line (`--stage NAME`).
      build_task: callable(config: dict, previous: Optional[TrainTask]) -> TrainTask.
        `previous` is the task of the stage before it (already trained) so a stage can
        start from, or freeze, the networks it produced.
      steps: default number of optimiser steps (the paper's schedule).
      batch_size: default batch size.
      patch_size: default square crop size.
      learning_rate: default peak learning rate.
      lr_decay_steps: steps at which the learning rate is divided by `lr_decay_factor`.
      lr_decay_factor: divisor applied at each entry of `lr_decay_steps`.
      adam: Adam hyperparameters (beta_1, beta_2, epsilon).
      produce: for stages that compute data instead of training (SelfHDR's targets),
        callable(method, config, previous, out_dir, log) -> dict of outputs (e.g.
        {"records": path}); the runner records them in the stage's done.json and hands
        them to later stages as `previous[name]`. `build_task` is None for such stages.
    """

    name: str
    build_task: Callable[..., Any]
    steps: int
    batch_size: int
    patch_size: int
    learning_rate: float
    lr_decay_steps: Sequence[int] = ()
    lr_decay_factor: float = 10.0
    adam: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8})
    produce: Optional[Callable[..., Mapping[str, Any]]] = None

    @classmethod
    def producer(cls, name, produce):
        """A stage that writes data (no optimiser, no steps)."""
        return cls(name, None, steps=0, batch_size=0, patch_size=0, learning_rate=0.0,
                   produce=produce)


class TrainTask:
    """What a stage trains: the networks, the loss, and what to save.

    Subclasses set `networks` (dict name -> keras.Model; all are checkpointed) and
    `trainable` (the subset whose variables the optimiser updates), and implement
    `loss(batch, training)`.

    `batch` is the dict the pipeline yields: "ldr" [B,N,h,w,3] float32 in [0,1],
    "exposures" [B,N], "hdr" [B,h,w,3] linear ground truth (absent for GT-free methods),
    plus any extra keys the method's `pipeline_hook` adds.
    """

    networks: Mapping[str, Any] = {}
    trainable: Sequence[str] = ()
    # Batch entries `loss` needs; validation skips the loss where a batch lacks one
    # (held-out scenes have GT but no SelfHDR targets).
    batch_keys: Sequence[str] = ("hdr",)

    def loss(self, batch, training=True):
        """Returns (scalar loss, dict of scalar logs, dict of [B,h,w,3] preview images in [0,1])."""
        raise NotImplementedError

    def trainable_variables(self):
        out = []
        for name in self.trainable:
            out.extend(self.networks[name].trainable_variables)
        return out

    def inference_model(self):
        """The keras.Model with the standard inference signature, or None if this stage
        does not produce one (e.g. ESBN's alignment stages)."""
        return None


class Method:
    """A registered HDR method. Subclasses set `name`, `stages`, `num_frames` and
    implement `build_inference_model`."""

    name: str = ""
    num_frames: int = 3
    stages: Sequence[Stage] = ()
    requires_ground_truth: bool = True
    # Spatial multiple the architecture needs; inference models pad to it internally.
    size_multiple: int = 1
    # Random rotations/flips of training crops (SelfHDR's official loader has none).
    augment: bool = True

    def stage(self, name):
        for s in self.stages:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.stages)
        raise KeyError(f"Method {self.name!r} has no stage {name!r}; known: {known}")

    def check_options(self, options):
        """Raises ConfigError for method options this method cannot honour, before any
        work starts."""
        if options.get("backbone") is not None:
            from hdrkeras.errors import ConfigError
            raise ConfigError(f"method {self.name!r} has a fixed network; --backbone is for "
                              f"methods that train one of several (selfhdr)")

    def configured_stage(self, name, options):
        """The stage as run with these method options (e.g. a backbone that changes the
        paper's schedule). Default: `stage(name)`."""
        return self.stage(name)

    def train_records(self, stage_name, config, previous):
        """Records a training stage reads: `config.train_records` unless an earlier
        stage produced them (`previous[stage]` holds a producer stage's outputs)."""
        return config.train_records

    def build_inference_model(self, config: Optional[dict] = None):
        """keras.Model with the standard signature (see module docstring)."""
        raise NotImplementedError

    def preprocess(self, ldr, exposures):
        """Raw frames -> the architecture's input tensors (used inside the inference model
        and by training tasks). ldr [B,N,H,W,3] in [0,1]; exposures [B,N]."""
        raise NotImplementedError

    def pipeline_hook(self, batch):
        """Optional per-example hook run inside tf.data after cropping/augmentation;
        returns the (possibly extended) example dict. Default: identity."""
        return batch
