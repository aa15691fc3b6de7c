"""Files (issue 14, finding 10): the SQLite file was world-readable and demo institution keys
were 0644. The data directory is now 0700 and everything in it 0600, from creation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from application.bootstrap import bootstrap
from application.demo import load_demo
from application.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_its_files_are_the_banks_alone(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a common default: files 0644 unless made otherwise
    try:
        data = tmp_path / "data"
        services = bootstrap(Settings(data_dir=data))
        try:
            load_demo(services.bank, data)
        finally:
            services.close()
    finally:
        os.umask(previous)
    assert mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"creditbank.sqlite3", "secret.key"} <= names, names
    readable = {
        str(p.relative_to(data)): oct(mode(p))
        for p in files
        if mode(p) & 0o077 and not p.name.endswith(".jwk.json")  # public keys are public
    }
    assert readable == {}
    assert any(p.suffix == ".pem" for p in files)  # the demo institutions' keys are there
