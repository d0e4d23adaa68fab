"""Property-based tests at scale: `python -m bench.fuzz [--cases 10000]` (issue 14).

Runs tests/test_fuzz.py with enough Hypothesis examples that the three properties together see about `--cases`
generated cases (messages, form definitions with answers, CSV files with their exports; an import counts as one
case and gets a quarter of the examples), and prints the time each took. A failure prints Hypothesis' smallest
failing example and exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    per_test = max(1, round(args.cases / 2.25))          # messages + forms + imports (a quarter as many)
    env = {**os.environ, "FUZZ_EXAMPLES": str(per_test)}
    print(f"{platform.node()} · nproc {os.cpu_count()} · load {os.getloadavg()[0]:.2f} · "
          f"{per_test} examples per property ({per_test // 4} imports): {2 * per_test + per_test // 4} cases")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:randomly", "--durations=0",
                           "tests/test_fuzz.py"], cwd=ROOT, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if re.search(r"\d+\.\d+s call|passed|failed|Falsifying|Error", line):
            print(line)
    print(f"total {time.perf_counter() - started:.0f} s")
    if done.returncode:
        print(done.stdout[-5000:], done.stderr[-2000:], sep="\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
