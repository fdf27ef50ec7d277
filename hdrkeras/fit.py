"""Train a registered HDR method, stage by stage, resuming where a previous run stopped.

  python -m hdrkeras.fit --method esbn --stage all --steps 300
  python -m hdrkeras.fit --method sctnet --vgg_weights ~/vgg16_notop.h5
  python -m hdrkeras.fit --method lanhdr --exposures 3 --vgg_weights ~/vgg19.h5

(`python train/fit.py ...` is the same tool.) Rerunning the same command after an
interruption resumes from the last checkpoint.
"""

import os
import sys

from absl import flags

from hdrkeras import cli
from hdrkeras.errors import ConfigError
from hdrkeras.training.strategy import STRATEGIES

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_string("method", None, "Registered method name (see hdrkeras.methods.names()).",
                    **_F)
flags.DEFINE_string("stage", "all", "Stage to train, or 'all' for every stage in order.", **_F)
flags.DEFINE_string("run_dir", None, "Run folder (default runs/<method>).", **_F)
flags.DEFINE_string("train_records", "work/records/train", "Training TFRecord folder.", **_F)
flags.DEFINE_string("val", "work/records/test",
                    "Held-out scenes (TFRecord folder or dataset root); '' disables validation.",
                    **_F)
flags.DEFINE_integer("steps", None, "Steps per stage (default: the paper's schedule).", **_F)
flags.DEFINE_integer("batch_size", None, "Batch size (default: the paper's).", **_F)
flags.DEFINE_integer("patch_size", None, "Square crop size (default: the paper's).", **_F)
flags.DEFINE_float("learning_rate", None, "Initial learning rate (default: the paper's).", **_F)
flags.DEFINE_integer("checkpoint_every", 500, "Steps between checkpoints.", **_F)
flags.DEFINE_integer("log_every", 50, "Steps between progress lines / TensorBoard scalars.", **_F)
flags.DEFINE_integer("preview_every", 500,
                     "Steps between TensorBoard image previews (0: never).", **_F)
flags.DEFINE_integer("validate_every", 1000, "Steps per epoch; validation runs after each.", **_F)
flags.DEFINE_integer("max_val_scenes", 8, "Validation scenes per epoch.", **_F)
flags.DEFINE_enum("strategy", "default", list(STRATEGIES), "tf.distribute strategy.", **_F)
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.", **_F)
flags.DEFINE_bool("mixed_precision", False,
                  "Mixed precision (float16 on GPU, bfloat16 on CPU).", **_F)
flags.DEFINE_bool("deterministic", False,
                  "Deterministic data and ops; resumed == uninterrupted.", **_F)
flags.DEFINE_integer("seed", 0, "Random seed.", **_F)
flags.DEFINE_string("vgg_weights", None, "Local VGG ImageNet weights file (perceptual losses).",
                    **_F)
flags.DEFINE_float("perceptual_weight", None,
                   "Perceptual loss weight (method default if unset).", **_F)
flags.DEFINE_float("sensitivity", None, "DeAltHDR: FGMA sensitivity of the selfsup stage "
                   "(default 15).", **_F)
flags.DEFINE_string("real_records", None, "DeAltHDR: clip records of unlabelled real video "
                    "for the selfsup stage (default: --train_records).", **_F)
flags.DEFINE_string("backbone", None,
                    "Backbone network for methods that take one (SelfHDR).", **_F)
flags.DEFINE_integer("exposures", None,
                     "Alternating exposure levels of a video method (LAN-HDR: 2 or 3).", **_F)
flags.DEFINE_bool("independent_windows", None,
                  "LAN-HDR: crop/augment its two training windows independently (the "
                  "official loader) instead of sharing one transform.", **_F)
flags.DEFINE_float("linear_weight", None,
                   "ESBN: weight of an L1 on linear HDR added to the fusion and joint losses "
                   "(default 0: the paper's mu-law L1 alone; a deviation, see docs/training.md).",
                   **_F)
flags.mark_flag_as_required("method", flag_values=FLAGS)


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    from hdrkeras import methods
    from hdrkeras.training import Interrupted, RunConfig, run

    try:
        method = methods.get(FLAGS.method)
    except KeyError as e:  # an unknown name is the user's error, not a bug
        raise ConfigError(str(e.args[0])) from None
    options = {k: getattr(FLAGS, k) for k in ("vgg_weights", "perceptual_weight", "backbone",
                                              "exposures", "independent_windows",
                                              "sensitivity", "real_records",
                                              "linear_weight")
               if getattr(FLAGS, k) is not None}
    config = RunConfig(
        run_dir=FLAGS.run_dir or os.path.join("runs", method.name),
        train_records=FLAGS.train_records, val_source=FLAGS.val or None,
        steps=FLAGS.steps, batch_size=FLAGS.batch_size, patch_size=FLAGS.patch_size,
        learning_rate=FLAGS.learning_rate, checkpoint_every=FLAGS.checkpoint_every,
        log_every=FLAGS.log_every, preview_every=FLAGS.preview_every,
        validate_every=FLAGS.validate_every, max_val_scenes=FLAGS.max_val_scenes,
        strategy=FLAGS.strategy, jit_compile=FLAGS.jit_compile,
        mixed_precision=FLAGS.mixed_precision, deterministic=FLAGS.deterministic,
        seed=FLAGS.seed, method_options=options)
    try:
        run(method, FLAGS.stage, config)
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    print(f"done: {config.run_dir}")
    return 0


def entry(argv=None):
    """Console entry: parses the flags, runs, exits (status 1 with one line on user errors,
    130 after an interruption that wrote a checkpoint)."""
    cli.run_main(main, argv, FLAGS)


if __name__ == "__main__":
    entry()
