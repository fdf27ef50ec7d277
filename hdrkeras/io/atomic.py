"""Atomic file and directory writes: readers see the old file or the new one, never half of one."""

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it onto `path` only if the block succeeds.

    Works for files and directories (e.g. SavedModels). The temporary name keeps the
    extension so writers that dispatch on it (cv2, imageio) still work.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=parent)
    os.close(fd)
    os.unlink(tmp)  # writer creates it (file or directory)
    try:
        yield tmp
        if os.path.isdir(tmp):
            old = None
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=f".{stem}.old.", dir=parent)
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
