"""Shared command-line plumbing: user errors become one line on stderr and exit code 1."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_main(main_fn, argv=None):
    """Runs an absl `main(argv)`; HDRKerasError/FileNotFoundError -> 'error: ...', exit 1."""
    from absl import app

    from hdrkeras.errors import HDRKerasError

    def wrapped(args):
        try:
            return main_fn(args)
        except (HDRKerasError, FileNotFoundError, KeyError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"error: {message}", file=sys.stderr)
            sys.exit(1)

    app.run(wrapped, argv=argv)
