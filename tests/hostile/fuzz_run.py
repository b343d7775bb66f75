"""`make fuzz`: the hostile-input suite with many more examples per property (not part of `make test`).

Runs tests/hostile on SQLite (and PostgreSQL when KEFU_TEST_DATABASE_URL is set) with KEFU_FUZZ_EXAMPLES examples
per property test (default 1,000; `--examples N`) and prints how many inputs each property tried and how the run
ended. Bounded: Hypothesis stops each property after its examples, and `--timeout` stops the whole run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PASSING = re.compile(r"(\d+) passing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="examples per property test (default 1000)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for the whole run (default 1800)")
    args = parser.parse_args(argv)
    env = {**os.environ, "KEFU_FUZZ_EXAMPLES": str(args.examples)}
    started = time.monotonic()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hostile",
             "--hypothesis-show-statistics", "-W", "ignore::hypothesis.errors.HypothesisWarning"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"fuzz run stopped after {args.timeout} s")
        return 1
    tried = [int(count) for count in _PASSING.findall(run.stdout)]
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    print(f"fuzz run: {len(tried)} property runs, {sum(tried):,} generated inputs passed "
          f"({args.examples} examples asked per property), {time.monotonic() - started:.0f} s; pytest: {summary}")
    if run.returncode != 0:
        print(run.stdout[-20_000:])
        print(run.stderr[-5_000:])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
