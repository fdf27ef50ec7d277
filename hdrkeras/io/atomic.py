"""Atomic file and directory writes: readers see the old file or the new one, never half of one.

Temporaries are hidden names beside the target that carry the writer's process id
(`.STEM.pPID.XXXXXXXX.tmp.EXT`), so a later write into the same folder can tell the leftovers
of a killed process (kill -9, power loss) from a write in progress and remove them.
"""

import contextlib
import os
import re
import shutil
import tempfile

# .<stem>.p<pid>.[old.]<8 random chars from tempfile>[.tmp<ext>]
_TEMPORARY = re.compile(r"^\..+\.p(\d+)\.(?:old\.)?[a-z0-9_]{8}(?:\.tmp.*)?$")


def _alive(pid):
    if pid == os.getpid():
        return True  # another thread of this process may be writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(folder):
    """Removes the temporaries of atomic writes whose process no longer runs; returns their
    paths. Called before every atomic write, so a killed run's leftovers go with the next."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        if not match or _alive(int(match.group(1))):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it onto `path` only if the block succeeds.

    Works for files and directories (e.g. SavedModels). The temporary name keeps the
    extension so writers that dispatch on it (cv2, imageio) still work.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent)
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    tag = f".{stem}.p{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=tag, suffix=f".tmp{ext}", dir=parent)
    os.close(fd)
    os.unlink(tmp)  # writer creates it (file or directory)
    try:
        yield tmp
        if os.path.isdir(tmp):
            old = None
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=f"{tag}old.", dir=parent)
                os.rmdir(old)
                os.replace(path, old)
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data: bytes):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


def missing_folders(path):
    """`path` and those of its ancestors that do not exist yet, deepest first."""
    missing = []
    current = os.path.abspath(os.fspath(path))
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return missing


def remove_folders(folders, contents=False):
    """Removes `folders` (deepest first, as missing_folders lists them) where empty; with
    `contents`, the first (deepest) one goes with whatever it holds."""
    for i, folder in enumerate(folders):
        if contents and i == 0:
            shutil.rmtree(folder, ignore_errors=True)
            continue
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # fails (and is kept) when something else lives there


@contextlib.contextmanager
def cleanup_on_failure(path, contents=False):
    """Removes, if the block raises, the folders on the way to `path` that the block created
    (empty ones only, unless `contents`: then `path` goes with what it holds). A failed tool
    leaves the file system as it found it."""
    created = missing_folders(path)
    try:
        yield
    except BaseException:
        remove_folders(created, contents=contents)
        raise
