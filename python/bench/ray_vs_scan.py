"""Benchmark: the Ray Data job on a local cluster of W workers against
W x the throughput of one `hallmark scan --jobs 1` process, on the same files,
and whether every file gets the same verdict.

    python python/bench/ray_vs_scan.py [FOLDER] [--workers 2] [--copies 40]
        [--rounds 1] [--batch-size 32] [--no-classifier]

Without FOLDER, a corpus of `--copies` copies of samples/ is made in a
temporary folder (the same files for both runs). Prints files/s of each,
the ratio (goal: >= 0.90), CPU ms per file of `scan --jobs 1` (for the cost
plan in docs/distributed.md) and the number of files whose verdicts differ.
The job's time is measured end to end (driver start to exit: connecting,
listing, starting the actors, checking, writing); the cluster itself is
started beforehand, as an existing cluster would be.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python" / "tests"))
from raycluster import LocalCluster  # noqa: E402  (the tests' loopback cluster)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-classifier", action="store_true")
    ap.add_argument("--hallmark", default=str(REPO / "target" / "debug" / "hallmark"))
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hallmark-bench-"))
    try:
        if a.folder:
            src = Path(a.folder).resolve()
        else:
            src = tmp / "corpus"
            samples = sorted(p for p in (REPO / "samples").iterdir() if p.suffix in (".jpg", ".png"))
            for i in range(a.copies):
                (src / f"c{i:03d}").mkdir(parents=True)
                for f in samples:
                    shutil.copyfile(f, src / f"c{i:03d}" / f.name)
        engines = ["--trust", str(REPO / "keys")] + (["--no-classifier"] if a.no_classifier else [])

        scan_rates, ray_rates, ratios, cpu_ms = [], [], [], []
        with LocalCluster(a.workers, tmp / "ray") as cluster:
            for r in range(a.rounds):
                scan_out = tmp / f"scan{r}.jsonl"
                cpu0, t0 = children_cpu(), time.monotonic()
                subprocess.run([a.hallmark, "scan", str(src), "--jobs", "1", "-q", "-o", str(scan_out),
                                *engines], check=False)
                scan_s, scan_cpu = time.monotonic() - t0, children_cpu() - cpu0
                lines = [json.loads(l) for l in scan_out.read_text().splitlines()]
                n = len(lines)

                ray_out = tmp / f"ray{r}"
                t0 = time.monotonic()
                subprocess.run([sys.executable, "-m", "hallmark.ray_scan", str(src), "-o", str(ray_out),
                                "--address", cluster.address, "--workers", str(a.workers),
                                "--batch-size", str(a.batch_size), "-q", *engines],
                               env=cluster.env, check=False)
                ray_s = time.monotonic() - t0
                rows = [row for p in sorted(ray_out.glob("part-*.parquet"))
                        for row in pq.read_table(p, columns=["file", "verdict"]).to_pylist()]

                want = {l["file"]: l.get("verdict") for l in lines}
                got = {row["file"]: row["verdict"] for row in rows}
                differ = sum(1 for f in want if got.get(f, "missing") != want[f])
                s_rate, r_rate = n / scan_s, len(rows) / ray_s
                ratio = r_rate / (a.workers * s_rate)
                scan_rates.append(s_rate)
                ray_rates.append(r_rate)
                ratios.append(ratio)
                cpu_ms.append(1000 * scan_cpu / n)
                print(f"round {r + 1}: {n} files; scan --jobs 1 {scan_s:.1f} s ({s_rate:.2f} files/s, "
                      f"{cpu_ms[-1]:.0f} ms CPU/file); ray x{a.workers} {ray_s:.1f} s "
                      f"({r_rate:.2f} files/s); ratio {ratio:.3f}; verdicts differing {differ}"
                      f"{'' if len(rows) == n else f'; ROWS {len(rows)} != {n}'}", flush=True)
        med = statistics.median
        print(f"\nworkers {a.workers}, {a.rounds} round(s), medians: scan --jobs 1 {med(scan_rates):.2f} files/s, "
              f"{med(cpu_ms):.0f} ms CPU/file; ray {med(ray_rates):.2f} files/s; "
              f"ratio ray / (workers x scan) {med(ratios):.3f} (goal >= 0.90)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
