"""The soak script in its short form: 64 clients for 10 seconds, every answer as expected.

Ten seconds are too few for a memory verdict (connection pools and caches are still
filling), so growth is only reported here; the two-minute run (``benchmarks/soak.py`` with
its defaults, figures in the README) is the one that holds it under 10 %.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ten_second_soak_has_no_unexpected_answer_or_truncated_body() -> None:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "soak.py"),
        "--clients",
        "64",
        "--duration",
        "10",
        "--warm-up",
        "5",
        "--max-growth",
        "1.0",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    report = result.stdout
    assert result.returncode == 0, report + result.stderr
    assert "soak: unexpected answers or truncated bodies: 0" in report
    answers = next(line for line in report.splitlines() if line.startswith("soak: answers by kind:"))
    counts = [int(part.rsplit(" ", 1)[1]) for part in answers.split(":", 1)[1].split(",")]
    assert len(counts) == 5 and all(count > 0 for count in counts), answers
