"""The monitoring benchmark is a benchmark that can fail: it checks what the monitor recorded
for every shop of its local farm and the rate against the target, and exits non-zero with one
line on stderr when either is wrong (issue 7: 10,000 seals/hour on one worker)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SMALL = ["--seals", "100", "--latency-ms", "5", "--timeout", "1", "--single-thread-seals", "100"]


def bench(*extra):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # its own throw-away SQLite
    return subprocess.run([sys.executable, str(ROOT / "bench" / "enamad_monitor.py"), *SMALL, *extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def test_a_correct_run_at_the_target_rate_exits_zero():
    run = bench()
    assert run.returncode == 0, run.stderr
    assert re.findall(r"wrong answers +(\d+)", run.stdout) == ["0", "0", "0"]
    assert run.stderr == ""


def test_a_rate_below_the_target_fails_with_one_line():
    run = bench("--target", "100000000")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("enamad_monitor: FAILED: Pass 1: ")
    assert "below the target of 100,000,000" in lines[0] and "recorded wrongly" not in lines[0]
