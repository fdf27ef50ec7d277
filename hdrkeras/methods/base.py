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

for any H and W: padding to the architecture's multiple happens inside the model. An image
method takes a bracket (N frames in increasing exposure); a video method (`kind = "video"`)
takes a window of T consecutive frames in time order with the same `ldr`/`exposures` layout
plus the extra inputs it declares (`extra_inputs`, e.g. DeAltHDR's `sensitivity`), and
returns the centre frame's HDR. The model's name is the method's name: it is how a saved
`.keras` file records which method it is (export and convert check it).

Methods are registered in `METHODS` with the `register` class decorator; hdrkeras.methods
imports every method module, so `hdrkeras.methods.get(name)` sees them all.
"""

import dataclasses
import math
from typing import Any, Callable, Mapping, Optional, Sequence

from hdrkeras.errors import ConfigError
from hdrkeras.registry import Registry

METHODS = Registry("method")


def register(cls):
    """Class decorator: registers an instance of a `Method` subclass under `cls.name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    METHODS.add(cls.name, cls())
    return cls


def check_loss_weight(flag, value):
    """A loss weight option: None (the method's default) or a finite number >= 0."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or not math.isfinite(value) or value < 0):
        raise ConfigError(f"{flag} must be a finite number >= 0, got {value!r}")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """Options of a method that takes none."""


@dataclasses.dataclass(frozen=True)
class PerceptualOptions:
    """Options of a method whose loss has a VGG perceptual term.

    Attributes:
      perceptual_weight: weight of the perceptual term; None = the method's paper value.
      vgg_weights: local ImageNet VGG weights file; None = Keras' download cache.
    """

    perceptual_weight: Optional[float] = None
    vgg_weights: Optional[str] = None

    def __post_init__(self):
        check_loss_weight("--perceptual_weight", self.perceptual_weight)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One named input of an inference model.

    Attributes:
      name: input name (a key of the model's input dict and of the serving signature).
      shape: shape without the batch axis; None marks a dimension of any size.
      doc: layout and domain, as written into the export's metadata.
      dtype: dtype name.
    """

    name: str
    shape: tuple
    doc: str
    dtype: str = "float32"


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
      optimizer: the optimiser, its schedule shape and clipping (OptimizerSettings);
        `learning_rate` is its peak rate and `steps` the length its schedule is scaled from.
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
    optimizer: OptimizerSettings = OptimizerSettings()
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

    def after_step(self):
        """Runs inside the compiled training step after the optimiser update, e.g. to move
        an EMA teacher towards the student. Default: nothing."""


class Method:
    """A registered HDR method. Subclasses set `name`, `stages`, `num_frames`, `Options`
    and implement `build_inference_model`.

    Attributes:
      name: registry name, also the name of its inference model.
      kind: "image" (a bracket, frames in increasing exposure) or "video" (a window of
        consecutive frames in time order; the output is the centre frame's HDR).
      num_frames: N (image) or T (video) the inference model takes.
      extra_inputs: InputSpecs of inputs beyond `ldr` and `exposures`.
      stages: ordered training stages; empty for methods that need no training.
      Options: frozen dataclass of the method's own options (fit's --backbone,
        --perceptual_weight, --vgg_weights); an option it does not declare is an error.
      augment: random rotations/flips of training crops (SelfHDR's loader has none).
      official_networks: role -> hdrkeras.convert converter name of the official
        networks the inference model is assembled from (`python -m hdrkeras.convert`);
        empty when no official checkpoint exists. Methods whose networks depend on their
        options override `official_roles` instead.
      official_bgr: the official networks were trained on BGR frames (OpenCV), so the
        converter permutes their colour layers to take RGB; False where the official
        code already reads RGB (LAN-HDR).
    """

    name: str = ""
    kind: str = "image"
    num_frames: int = 3
    extra_inputs: Sequence[InputSpec] = ()
    stages: Sequence[Stage] = ()
    Options = NoOptions
    augment: bool = True
    official_networks: Mapping[str, str] = {}
    official_bgr: bool = True

    def input_specs(self, num_frames=None):
        """The inference model's inputs: ldr, exposures, then `extra_inputs`."""
        n = int(num_frames or self.num_frames)
        frames = "frames in increasing exposure" if self.kind == "image" else \
            "consecutive frames in time order"
        return (InputSpec("ldr", (n, None, None, 3),
                          f"float32 [B, {n}, H, W, 3] gamma LDR in [0,1], {frames}"),
                InputSpec("exposures", (n,),
                          f"float32 [B, {n}] relative exposure times (shortest = 1)"),
                ) + tuple(self.extra_inputs)

    def parse_options(self, options):
        """A mapping of option name -> value (None = not given) -> `self.Options`.

        Raises ConfigError naming the option and the method for an option the method does
        not use, instead of ignoring it.
        """
        if isinstance(options, self.Options):
            return options
        given = {k: v for k, v in dict(options or {}).items() if v is not None}
        known = [f.name for f in dataclasses.fields(self.Options)]
        for key in given:
            if key not in known:
                takes = ", ".join(f"--{k}" for k in known) or "no options"
                raise ConfigError(f"--{key} is not an option of method {self.name!r} "
                                  f"(it takes {takes})")
        return self.Options(**given)

    def stage(self, name):
        for s in self.stages:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.stages)
        raise KeyError(f"Method {self.name!r} has no stage {name!r}; known: {known}")

    def check_options(self, options):
        """Raises ConfigError for method options this method cannot honour, before any
        work starts."""
        self.parse_options(options)

    def configured_stage(self, name, options):
        """The stage as run with these method options (e.g. a backbone that changes the
        paper's schedule). Default: `stage(name)`."""
        return self.stage(name)

    def train_records(self, stage_name, config, previous):
        """Records a training stage reads: `config.train_records` unless an earlier
        stage produced them (`previous[stage]` holds a producer stage's outputs)."""
        return config.train_records

    def train_dataset(self, stage_name, config, hp, previous):
        """The tf.data.Dataset of training batches a stage consumes (an infinite, batched
        stream of dicts for `TrainTask.loss`). Default: the image pipeline over
        `train_records` with random crops of `hp["patch_size"]` and `pipeline_hook`; video
        methods build their own from clip records.

        Args:
          config: the run's RunConfig (deterministic, seed, ...). hp: the stage's
            hyperparameters after the run's overrides (batch_size, patch_size, steps).
          previous: outputs of earlier stages (see `train_records`).
        """
        from hdrkeras.data import pipeline

        return pipeline.train_dataset(
            self.train_records(stage_name, config, previous), hp["batch_size"],
            hp["patch_size"], num_frames=self.num_frames, hook=self.pipeline_hook,
            augment=self.augment, deterministic=config.deterministic, seed=config.seed)

    def val_dataset(self, config):
        """Held-out examples for validation: dicts with "ldr", "exposures" (the inference
        model's inputs, batch 1) and "hdr" (the output's ground truth), or None without
        `config.val_source`. Default: the image evaluation pipeline."""
        if not config.val_source:
            return None
        from hdrkeras.data import pipeline

        return pipeline.eval_dataset(config.val_source, num_frames=self.num_frames)

    def build_inference_model(self, config: Optional[dict] = None):
        """keras.Model with the standard signature (see module docstring), named `name`."""
        raise NotImplementedError

    def official_roles(self, options):
        """role -> converter name of the official networks, for these (parsed) options."""
        return dict(self.official_networks)

    def checkpoint_role(self, state_dict, source, roles):
        """The role (a key of `roles`, see `official_roles`) of an official checkpoint given
        without one. Default: the only role; methods with several override it or ask for
        ROLE=PATH."""
        if len(roles) == 1:
            return next(iter(roles))
        raise ConfigError(f"{source}: method {self.name!r} takes several official "
                          f"checkpoints; name this one's role: --checkpoint ROLE={source} "
                          f"with ROLE one of {', '.join(roles)}")

    def official_config(self, role, config):
        """`config` handed to hdrkeras.convert.load_reference for `role`, given the
        official constructor arguments the user passed (None: the converter infers them
        from the weights)."""
        return config

    def from_official(self, networks, options):
        """{role: converted official network} -> the inference model (see module docstring)."""
        raise ConfigError(f"method {self.name!r} has no official checkpoint to convert")

    def pipeline_hook(self, batch):
        """Optional per-example hook run inside tf.data after cropping/augmentation;
        returns the (possibly extended) example dict. Default: identity."""
        return batch
