"""Files only the bank's user may read: the data directory 0700, its files 0600 (the embedded
database, keys, the master secret). Created so from the start, never widened afterwards."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """The directory, created owner-only (an existing one is tightened)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """The file, created empty and owner-only if missing (an existing one is tightened), so
    whoever writes it next never makes it readable by others, even for a moment.

    An existing file is never opened here: closing any descriptor of an SQLite database drops
    the POSIX locks this process's connections hold on it (corrupting concurrent writes)."""
    private_dir(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process created it just now
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    path.chmod(0o600)
    return path


def write_new_private(path: Path, data: bytes) -> None:
    """Writes a new owner-only file in an existing directory (its mode is the caller's
    choice); FileExistsError if it exists (two processes starting together: the first one's
    content stands)."""
    with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as f:
        f.write(data)
