"""Shared fixtures: the repository's samples and keys, and the `hallmark` CLI
built by cargo (the binding's answers are compared with the CLI's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
KEYS = REPO / "keys"
BAD = REPO / "tests" / "bad"


def cli_path() -> Path:
    path = Path(os.environ.get("HALLMARK_BIN", REPO / "target" / "debug" / "hallmark"))
    if not path.exists():
        raise RuntimeError(f"{path} not found: run `cargo build` first (or set HALLMARK_BIN)")
    return path


def run_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cli_path()), *args], capture_output=True, text=True, check=check, cwd=REPO
    )


def cli_json(*args: str) -> dict:
    p = run_cli(*args)
    assert p.stdout, p.stderr
    return json.loads(p.stdout)


def without_timings(report: dict) -> dict:
    """A report without what changes from run to run."""
    r = dict(report)
    r.pop("timings_ms", None)
    r.pop("ms", None)
    return r


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".jpg", ".png"))


@pytest.fixture(scope="session")
def samples() -> list[Path]:
    files = sample_files()
    assert len(files) >= 6, files
    return files


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def copy_samples(dest: Path, copies: int) -> list[Path]:
    """`copies` copies of every sample under dest (in subfolders, as a
    folder of uploads would be)."""
    out = []
    for i in range(copies):
        sub = dest / f"batch{i:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        for f in sample_files():
            target = sub / f.name
            shutil.copyfile(f, target)
            out.append(target)
    return out
