"""Shared command-line plumbing: the package's own errors become one line on stderr and exit
code 1; every other exception (a bug) keeps its traceback."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_HELP = ("--help", "-h", "-?", "--helpshort", "--helpfull")


def _usage(main_fn, flag_values):
    module = sys.modules.get(getattr(main_fn, "__module__", ""), None)
    doc = (getattr(module, "__doc__", None) or "").strip()
    return f"{doc}\n\nflags:\n{flag_values.get_help()}" if doc else flag_values.get_help()


def run_main(main_fn, argv=None, flag_values=None):
    """Parses the flags and runs `main_fn(argv)`; exits with its return code.

    HDRKerasError (user errors: ConfigError, DataError, RecordError, MissingWeightsError) and
    flag parsing errors -> 'error: ...' on stderr, exit 1. Anything else propagates with its
    traceback. `flag_values` is the tool's own absl FlagValues (so several tools can live in
    one process, e.g. the tests); without it the global FLAGS are parsed by absl's app.run.
    """
    from absl import flags

    from hdrkeras.errors import HDRKerasError

    def wrapped(args):
        try:
            return main_fn(args)
        except HDRKerasError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(1)

    if flag_values is None:
        from absl import app

        app.run(wrapped, argv=argv)
        return
    argv = list(sys.argv if argv is None else argv)
    if any(a in _HELP for a in argv[1:]):
        print(_usage(main_fn, flag_values))
        sys.exit(0)
    flag_values.unparse_flags()  # a second run in one process starts from the defaults
    try:
        rest = flag_values(argv)
    except flags.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(wrapped(rest) or 0)


def define_video_model_flags(flag_values):
    """The flags every video tool takes to run a window model: its window and exposure
    count where the model does not fix them, its extra inputs, and tiling."""
    from absl import flags

    f = {"flag_values": flag_values}
    flags.DEFINE_integer("frames", None, "Window size for a model or method that does not fix "
                         "it (video_classical_merge: 3 for 2 exposures, 5 for 3).", **f)
    flags.DEFINE_integer("num_exposures", None, "Exposure levels the --model was trained for "
                         "(checked against the input; default: the SavedModel's metadata).",
                         **f)
    flags.DEFINE_float("sensitivity", None, "DeAltHDR's FGMA sensitivity s >= 0 (0 = pure "
                       "flow warping, faster; default: the method's, 15); same as "
                       "--extra_input sensitivity=S.", **f)
    flags.DEFINE_multi_string("extra_input", [], "NAME=VALUE of a scalar extra input the "
                              "--model declares, e.g. sensitivity=15 (DeAltHDR); repeatable.",
                              **f)
    flags.DEFINE_integer("tile", None, "Tile size; 0: whole frames, streaming with per-frame "
                         "reuse (default: whole frames if a window fits in --max_memory_gb, "
                         "else the largest tile that does).", **f)
    flags.DEFINE_float("max_memory_gb", 4.0, "Memory bound of the automatic tiling (GB); the "
                       "machine's available memory lowers it further.", **f)
    flags.DEFINE_integer("overlap", 32, "Overlap of neighbouring tiles, blended smoothly.", **f)
