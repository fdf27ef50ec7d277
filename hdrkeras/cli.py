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
