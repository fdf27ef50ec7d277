"""Where evaluation / inference data comes from, chosen by an explicit type.

Three source types:
  records   a records folder (manifest.json or *.tfrecord), a shard file, a glob or a list
  dataset   a dataset root in the Kalantari17 / SCTNet layout (ROOT/Training, ROOT/Test)
  bracket   one folder of bracketed photos of one scene (no ground truth)
`source_type(path)` detects the type from what is on disk and validates it; a caller (or
a command-line flag) may name the type instead, and a path that does not fit the named
type is an error, never a fallback to another type.
"""

import glob
import os

from hdrkeras.errors import ConfigError, DataError

RECORDS, DATASET, BRACKET = "records", "dataset", "bracket"
SOURCE_TYPES = (RECORDS, DATASET, BRACKET)
RECORD_SUFFIXES = (".tfrecord", ".tfrecords")


def _is_records(path):
    from hdrkeras.data.records import MANIFEST

    if os.path.isdir(path):
        return (os.path.isfile(os.path.join(path, MANIFEST))
                or bool(glob.glob(os.path.join(path, "*.tfrecord*"))))
    return path.endswith(RECORD_SUFFIXES) or any(c in path for c in "*?[")


def _split_dirs(path):
    from hdrkeras.data.kalantari import SPLIT_DIRS

    names = [d for split in ("train", "test") for d in SPLIT_DIRS[split]]
    return [d for d in names if os.path.isdir(os.path.join(path, d))]


def _photos(path):
    from hdrkeras.data.bracket import BRACKET_EXTENSIONS

    return [f for f in os.listdir(path)
            if f.lower().endswith(BRACKET_EXTENSIONS) and not f.startswith(".")]


def source_type(source, expected=None):
    """The type of `source` (one of SOURCE_TYPES), detected and validated.

    Args:
      source: path (or list of record files).
      expected: str or None. The type the caller was told to read; DataError if the path
        is not one.
    """
    if expected is not None and expected not in SOURCE_TYPES:
        raise ConfigError(f"source type must be one of {', '.join(SOURCE_TYPES)}, "
                          f"got {expected!r}")
    if isinstance(source, (list, tuple)):
        found = RECORDS
    else:
        source = os.fspath(source)
        if _is_records(source):
            found = RECORDS
        elif not os.path.exists(source):
            raise DataError(f"source {source} does not exist")
        elif not os.path.isdir(source):
            raise DataError(f"source {source} is a file, not records, a dataset root or a "
                            f"bracket folder")
        elif _split_dirs(source):
            found = DATASET
        elif _photos(source):
            found = BRACKET
        else:
            raise DataError(f"{source} is neither records (manifest.json or *.tfrecord), a "
                            f"dataset root (Training/ and Test/ folders) nor a bracket folder "
                            f"(photos of one scene)")
    if expected is not None and found != expected:
        raise DataError(f"{source} is not a {expected} source: it looks like {found}")
    return found


def source_scenes(source, *, split="test", num_frames=3, dataset="auto", kind=None):
    """Scenes of a dataset root (the `split` folder; DataError if it has none) or of one
    bracket folder. kind: the source type if known (see `source_type`)."""
    from hdrkeras.data import bracket, kalantari

    kind = source_type(source, kind)
    if kind == RECORDS:
        raise DataError(f"{source} holds records, not image scenes")
    if kind == DATASET:
        return kalantari.list_scenes(source, split, num_frames=num_frames, dataset=dataset)
    return [bracket.bracket_scene(source, num_frames=num_frames)]
