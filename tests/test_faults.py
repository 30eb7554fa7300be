"""The fault table's script in its short form: a 256 KiB object, short timeouts, every row measured.

Only what does not depend on timing is checked: every fault met every door, and a body whose
S3 connection was cut once arrived whole and byte-identical through each of them. The figures
are those of ``benchmarks/faults.py`` with its defaults, in docs/faults.md. Through the Lambda
door (a runtime process per row), so ``make test-fast`` leaves it out (see conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = 256 * 1024
FAULTS = 9
DOORS = 4


def test_every_fault_meets_every_door_and_a_body_cut_once_arrives_whole(tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.json"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "faults.py"),
        "--size-mib",
        str(SIZE / 1024 / 1024),
        "--read-timeout",
        "0.5",
        "--short-timeout",
        "3",
        "--long-timeout",
        "4",
        "--json",
        str(rows_file),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    rows = json.loads(rows_file.read_text())
    pairs = {(row["fault"], row["door"]) for row in rows}
    assert len(rows) == len(pairs) == FAULTS * DOORS, sorted(pairs)
    assert len({fault for fault, _ in pairs}) == FAULTS
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + FAULTS * DOORS, result.stdout  # the heading, then a line per row
    cut_once = [row for row in rows if row["fault"] == "S3 connection cut mid-body, once"]
    assert len(cut_once) == DOORS
    for row in cut_once:
        outcome = (row["status"], row["complete"], row["identical"], row["received"], row["gets"])
        assert outcome == (200, True, True, SIZE, 2), row
