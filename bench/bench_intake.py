"""Benchmark: intake's safety scan on every hostile file of the test suite, against its target.

    .venv/bin/python bench/bench_intake.py [--json PATH]

Writes the hostile files of `tests/hostile.py` to a scratch folder and times
`intake.inspect` on each: the best of `--rounds` rounds (default 3). Target:
every file judged in under 2.0 s on one core. The tests bound the same scan
by the work it does (bytes unpacked, memory), which does not depend on how
busy the machine is; this script keeps the time, which does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import hostile  # noqa: E402

from reconcile.config import Limits  # noqa: E402
from reconcile.read import intake  # noqa: E402

TARGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        files = hostile.write_all(Path(scratch))
        times = {}
        for name, path in files.items():
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                intake.inspect(intake.submission(path), Limits())
                best = min(best, time.perf_counter() - started)
            times[name] = best
    width = max(map(len, times))
    for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"{name:{width}}  {seconds:6.3f} s{'  over the target' if seconds >= TARGET_S else ''}")
    slowest = max(times.values())
    print(f"slowest {slowest:.3f} s; target {TARGET_S:.1f} s: {'met' if slowest < TARGET_S else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"target_s": TARGET_S, "seconds": times}, indent=2) + "\n", encoding="utf-8")
    return 0 if slowest < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
