"""The benchmark suite in its short form (``--quick``: 1 MiB objects, 4 clients, one round).

Only that every scenario ran against every target and produced numbers is checked: the
figures of a 1 MiB run on a shared machine say nothing. The measured run is ``make bench``,
whose report is docs/benchmarks.md. Runs the Lambda runtime, the Node.js design and the
emulator, so ``make test-fast`` leaves it out (see conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "single stream": {"serve", "serve 1 MiB chunks", "nginx proxy_pass"},
    "concurrent": {"serve", "nginx proxy_pass"},
    "runtime alone": {"lambda runtime (Python)", "Node.js design", "serve"},
    "cold start": {"lambda runtime (Python)", "Node.js design"},
    "first small invocation": {"lambda runtime (Python)", "Node.js design"},
    "init breakdown": {"lambda runtime (Python)"},
    "relay ceiling": {"Function URL emulator"},
    "backends": {"serve on moto", "moto direct", "serve on s3rver", "s3rver direct"},
}
"""Scenario -> the targets it measures."""
MAIN_FIGURE = {
    "cold start": "cold_start_ms",
    "first small invocation": "first_invocation_ms",
    "init breakdown": "init_ready_ms",
}
"""Scenario -> its figure in ``extra``, where it is not the throughput."""
HEADLINE_ROWS = 12
"""The rows of issue 12's table, and the Python runtime's INIT by phase."""


def test_quick_run_measures_every_scenario_and_writes_the_report(tmp_path: Path) -> None:
    samples_file = tmp_path / "samples.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "suite.py"), "--quick", "--out", str(tmp_path)]
    command += ["--json", str(samples_file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    samples = json.loads(samples_file.read_text())
    seen = {(s["scenario"], s["target"]) for s in samples}
    assert seen == {(scenario, target) for scenario, targets in TARGETS.items() for target in targets}
    for sample in samples:
        figure = MAIN_FIGURE.get(sample["scenario"])
        value = sample["extra"][figure] if figure else sample["throughput_mb_s"]
        assert value > 0 and sample["errors"] == 0, sample
    report = (tmp_path / "benchmarks.md").read_text()
    headline = report.split("| measure |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert len(headline) == HEADLINE_ROWS, report
    assert all(" nan" not in row for row in headline), headline
    for plot in ("headline", "size", "concurrency", "cpu", "rss"):
        assert (tmp_path / "benchmarks" / f"{plot}.png").stat().st_size > 1000
