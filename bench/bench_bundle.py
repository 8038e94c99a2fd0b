"""Bundle benchmark: build time, size (one folder and .tar.gz) and start-up time, printed as medians.

    .venv/bin/python bench/bench_bundle.py                 # slim bundle, 1 build, 5 start-ups
    .venv/bin/python bench/bench_bundle.py --full          # also the untrimmed bundle (size before)
    .venv/bin/python bench/bench_bundle.py --onefile       # also the optional one-file executable
    .venv/bin/python bench/bench_bundle.py --builds 3 --starts 10 --dist /tmp/vp-bench

Start-up is timed from process start to the first window shown: ``vramplan gui
--screenshot PNG`` (offscreen) exits once the window has been shown and
grabbed.  ``vramplan --version`` is timed too (unpacking nothing, importing the
engine only).  Every build starts from an empty work folder (a clean build, as
in CI).  Sizes are in MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 10**6


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(dist: Path, work: Path, *options: str) -> float:
    shutil.rmtree(work, ignore_errors=True)
    args = ["bash", "packaging/build.sh", "--dist", str(dist), "--work", str(work), *options]
    start = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, "PYTHON": sys.executable},
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: build failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return elapsed


def tarball_bytes(dist: Path) -> int:
    archive = dist / "vramplan-bench.tar.gz"
    subprocess.run(["tar", "-C", str(dist), "-czf", str(archive), "vramplan"], check=True)
    size = archive.stat().st_size
    archive.unlink()
    return size


def time_command(command: list[str], runs: int, produced: Path | None = None) -> list[float]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VRAMPLAN_NO_NETWORK": "1"}
    times = []
    for _ in range(runs):
        if produced is not None:
            produced.unlink(missing_ok=True)
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - start
        if result.returncode != 0 or (produced is not None and not produced.is_file()):
            raise SystemExit(f"bench: {' '.join(command)} failed:\n{result.stdout}\n{result.stderr[-2000:]}")
        times.append(elapsed)
    return times


def report(label: str, values: list[float], unit: str, digits: int = 2) -> None:
    spread = f" (min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})" if len(values) > 1 else ""
    print(f"{label}: median {statistics.median(values):.{digits}f} {unit}{spread}")


def bench_variant(name: str, dist: Path, builds: int, *options: str) -> None:
    work = dist.parent / f"work-{dist.name}"
    times = [build(dist, work, *options) for _ in range(builds)]
    report(f"{name}: build time (clean)", times, "s", 1)
    report(f"{name}: one-folder bundle", [folder_bytes(dist / "vramplan") / MB], "MB", 1)
    report(f"{name}: .tar.gz of the bundle", [tarball_bytes(dist) / MB], "MB", 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=1, help="clean builds per variant (default 1)")
    parser.add_argument("--starts", type=int, default=5, help="start-up runs (default 5)")
    parser.add_argument("--full", action="store_true", help="also build the untrimmed bundle (size before)")
    parser.add_argument("--onefile", action="store_true", help="also build and time the one-file executable")
    parser.add_argument("--dist", type=Path, default=ROOT / "build" / "bench-bundle")
    args = parser.parse_args(argv)

    if args.full:
        bench_variant("before trimming", args.dist / "full", args.builds, "--full")
    slim = args.dist / "slim"
    bench_variant("after trimming", slim, args.builds, *(["--onefile"] if args.onefile else []))
    exe = str(slim / "vramplan" / "vramplan")
    screenshot = args.dist / "startup.png"
    time_command([exe, "--version"], 1)  # warm the page cache once, as a user's second start would
    report("start-up: vramplan --version", time_command([exe, "--version"], args.starts), "s")
    report("start-up: first window shown (vramplan gui --screenshot)",
           time_command([exe, "gui", "--screenshot", str(screenshot)], args.starts, screenshot), "s")
    if args.onefile:
        onefile = slim / "vramplan-onefile"
        report("one-file executable", [onefile.stat().st_size / MB], "MB", 1)
        report("start-up: one-file, first window shown",
               time_command([str(onefile), "gui", "--screenshot", str(screenshot)], args.starts, screenshot), "s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
