"""Benchmarks are not tests, but CI checks that they still run: ``python -m bench --quick``
must print a ratio line for every benchmark and exit 0 (figures are not asserted: the machines
are noisy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import BENCHMARKS
from tests.conftest import ADMIN_URL

pytestmark = pytest.mark.slow


def test_quick_benchmarks_run_and_print_their_ratios(tmp_path: Path, postgres_url: str) -> None:
    out = tmp_path / "bench.json"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CREDITBANK_TEST_POSTGRES_URL": ADMIN_URL},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ratio_lines = [line for line in proc.stdout.splitlines() if line.startswith("ratio ")]
    for benchmark in BENCHMARKS:
        assert any(line.split()[1].startswith(benchmark.name) for line in ratio_lines), (
            f"no ratio line for {benchmark.name}:\n{proc.stdout[-3000:]}"
        )
    for line in ratio_lines:
        _, _name, value, goal, op, target = line.split()
        assert goal == "goal"
        assert op in (">=", "<=")
        assert float(value) >= 0
        assert float(target) > 0
    assert json.loads(out.read_text())
