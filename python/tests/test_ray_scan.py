"""The distributed scan on a local Ray cluster of two worker processes:
the same verdicts and reports as `hallmark scan`, one Checker per worker,
Parquet and JSON lines, resume after the driver is killed, and S3 in and out
through a local S3-compatible server (moto)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import BAD, KEYS, REPO, copy_samples, run_cli, without_timings
from raycluster import LocalCluster, free_port, stop_group

WORKERS = 2
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster of WORKERS CPUs (one actor per CPU), on loopback."""
    with LocalCluster(WORKERS, tmp_path_factory.mktemp("ray"), AWS_ENV) as c:
        yield c


# The tests after the first check without the classifier (as `scan
# --no-classifier` does): output, resume and S3 do not depend on it, and it
# is most of the CPU per file and per actor start.
FAST = "--no-classifier"


def job(cluster: LocalCluster, *args: str, wait: bool = True, **popen):
    """Run `python -m hallmark.ray_scan` as its own driver process."""
    cmd = [sys.executable, "-m", "hallmark.ray_scan", "--address", cluster.address,
           "--workers", str(WORKERS), "--trust", str(KEYS), *args]
    env = cluster.env
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=REPO, **popen)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, timeout=600)


def skipped(summary: str) -> int:
    """The `skipped (resume)` count of a job's summary table."""
    m = re.search(r"^skipped \(resume\)\s+(\d+)$", summary, re.M)
    assert m, summary
    return int(m.group(1))


def parquet_rows(out: Path) -> list[dict]:
    parts = sorted(out.glob("part-*.parquet"))
    return [r for p in parts for r in pq.read_table(p).to_pylist()]


def scan_reports(*paths: str, out: Path, flags: tuple[str, ...] = ()) -> dict[str, dict]:
    p = run_cli("scan", *paths, *flags, "--trust", str(KEYS), "--jobs", "1", "-q", "-o", str(out))
    assert p.returncode in (0, 1), p.stderr
    return {json.loads(l)["file"]: json.loads(l) for l in out.read_text().splitlines()}


@pytest.fixture(scope="module")
def uploads(tmp_path_factory) -> Path:
    """Four copies of every sample in subfolders, plus a damaged file and a
    file that is not an image."""
    root = tmp_path_factory.mktemp("uploads")
    copy_samples(root, 4)
    (root / "bad").mkdir()
    (root / "bad" / "truncated.jpg").write_bytes((BAD / "truncated.jpg").read_bytes())
    (root / "bad" / "notes.png").write_text("not an image")
    return root


def test_folder_scan_matches_hallmark_scan(cluster, uploads, tmp_path):
    out = tmp_path / "out"
    p = job(cluster, str(uploads), "-o", str(out), "--batch-size", "3")
    assert p.returncode == 1, p.stdout + p.stderr  # two files cannot be checked
    rows = parquet_rows(out)
    want = scan_reports(str(uploads), out=tmp_path / "scan.jsonl")
    assert sorted(r["file"] for r in rows) == sorted(want)  # each file once
    for r in rows:
        line = json.loads(r["report"])
        assert without_timings(line) == without_timings(want[r["file"]]), r["file"]
        assert r["verdict"] == want[r["file"]].get("verdict")
        assert r["error_kind"] == want[r["file"]].get("error_kind")
    assert {r["error_kind"] for r in rows if r["error"]} == {"decode", "unsupported"}
    # Two worker processes did the work, each with one Checker for all its files.
    workers = {r["worker"] for r in rows}
    pids = {w.split(":")[1] for w in workers}
    assert len(workers) == WORKERS and len(pids) == WORKERS, workers
    assert "ai_generated" in p.stderr and "26 files" in p.stderr


def test_jsonl_output_is_scans_lines_and_fresh_output_is_protected(cluster, uploads, tmp_path):
    out = tmp_path / "out"
    src = str(uploads / "batch00")
    p = job(cluster, src, "-o", str(out), "--format", "jsonl", "-q", FAST)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = [l for part in sorted(out.glob("part-*.jsonl")) for l in part.read_text().splitlines()]
    want = scan_reports(src, out=tmp_path / "scan.jsonl", flags=(FAST,))
    got = {json.loads(l)["file"]: json.loads(l) for l in lines}
    assert len(lines) == len(want) == 6
    assert {f: without_timings(r) for f, r in got.items()} == {
        f: without_timings(r) for f, r in want.items()
    }

    again = job(cluster, src, "-o", str(out), "--format", "jsonl", "-q", FAST)
    assert again.returncode == 2
    assert "already holds results (use --resume" in again.stderr
    other = job(cluster, src, "-o", str(out), "--resume", "-q", FAST)
    assert other.returncode == 2 and "another format" in other.stderr
    forced = job(cluster, src, "-o", str(out), "--format", "jsonl", "--force", "-q", FAST)
    assert forced.returncode == 0, forced.stderr
    assert sum(len(p.read_text().splitlines()) for p in out.glob("part-*.jsonl")) == 6


def test_resume_after_the_driver_is_killed(cluster, uploads, tmp_path):
    out = tmp_path / "out"
    src = [str(uploads / f"batch{i:02d}") for i in range(4)]
    total = 24
    driver = job(cluster, *src, "-o", str(out), "--batch-size", "1", "-q", FAST, wait=False)
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("part-*.parquet")):
            assert driver.poll() is None, driver.stdout.read().decode()
            assert time.monotonic() < deadline, "no results within 300 s"
            time.sleep(0.05)
    finally:
        stop_group(driver, signal.SIGKILL)
    time.sleep(5)  # the cluster ends the dead driver's actors
    before = parquet_rows(out)
    assert 0 < len(before) < total, "the job finished before it could be killed"

    p = job(cluster, *src, "-o", str(out), "--resume", "--batch-size", "4", FAST)
    assert p.returncode == 0, p.stdout + p.stderr
    after = parquet_rows(out)
    files = [r["file"] for r in after]
    assert len(files) == len(set(files)) == total  # nothing twice, nothing lost
    assert skipped(p.stderr) == len(before)
    assert not list(out.glob(".tmp-*"))

    want = scan_reports(*src, out=tmp_path / "scan.jsonl", flags=(FAST,))
    assert {r["file"]: r["verdict"] for r in after} == {f: w["verdict"] for f, w in want.items()}

    done = job(cluster, *src, "-o", str(out), "--resume", FAST)
    assert done.returncode == 0 and skipped(done.stderr) == total
    assert len(parquet_rows(out)) == total


@pytest.fixture(scope="module")
def s3(uploads):
    """A local S3-compatible server (moto) with the uploads in bucket `uploads`."""
    from moto.server import ThreadedMotoServer
    import boto3

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("s3", endpoint_url=endpoint, **{
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
            "region_name": "us-east-1"})
        client.create_bucket(Bucket="uploads")
        client.create_bucket(Bucket="results")
        for f in sorted(uploads.rglob("*")):
            if f.is_file():
                client.upload_file(str(f), "uploads", f"uploads/{f.relative_to(uploads)}")
        client.put_object(Bucket="uploads", Key="uploads/README.txt", Body=b"not taken: no image extension")
        yield endpoint, client
    finally:
        server.stop()


def test_s3_in_and_out_with_resume(cluster, uploads, s3, tmp_path):
    endpoint, client = s3
    args = ["s3://uploads/uploads/batch00", "s3://uploads/uploads/bad", "-o", "s3://results/run1",
            "--s3-endpoint", endpoint, "--batch-size", "2", FAST]
    p = job(cluster, *args)
    assert p.returncode == 1, p.stdout + p.stderr
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="results", Prefix="run1/")["Contents"]]
    assert keys and all(k.startswith("run1/part-") and k.endswith(".parquet") for k in keys)
    rows = []
    for k in keys:
        local = tmp_path / k.replace("/", "_")
        client.download_file("results", k, str(local))
        rows += pq.read_table(local).to_pylist()
    want = scan_reports(str(uploads / "batch00"), str(uploads / "bad"), out=tmp_path / "scan.jsonl",
                        flags=(FAST,))
    by_name = {f.removeprefix(str(uploads) + "/"): w for f, w in want.items()}
    got = {r["file"].removeprefix("s3://uploads/uploads/"): r for r in rows}
    assert sorted(got) == sorted(by_name)
    for name, r in got.items():
        line = json.loads(r["report"])
        w = by_name[name]
        assert line.get("verdict") == w.get("verdict") and r["verdict"] == w.get("verdict"), name
        assert line.get("evidence") == w.get("evidence"), name
        assert line.get("error_kind") == w.get("error_kind"), name
        if "media" in w:
            assert line["media"] == w["media"], name

    again = job(cluster, *args, "--resume")
    assert again.returncode == 0, again.stderr
    assert skipped(again.stderr) == len(rows)
