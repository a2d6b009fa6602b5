"""A throwaway Ray cluster on loopback for the tests and the benchmark:
`ray start --head --block` in its own process group, so that stopping it
ends exactly its processes (never `ray stop`, which ends every Ray process
on the machine). Token authentication stays on, with a random token passed
to the cluster and to drivers through the environment (nothing is written
to ~/.ray)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, sig=signal.SIGTERM, wait: float = 20.0) -> None:
    """End a process started in its own process group, and its children."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    proc.wait(10)


class LocalCluster:
    """`with LocalCluster(workers, tmp) as c:` then drivers use `c.address`
    with `c.env` in their environment."""

    def __init__(self, cpus: int, tmp: Path, extra_env: dict | None = None):
        self.cpus = cpus
        self.tmp = tmp
        self.address = f"127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            **(extra_env or {}),
            # Bind the cluster to 127.0.0.1 (Ray otherwise swaps loopback for
            # the machine's network address).
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "LocalCluster":
        self.tmp.mkdir(parents=True, exist_ok=True)
        log = self.tmp / "ray-start.log"
        port = self.address.rsplit(":", 1)[1]
        ray = str(Path(sys.executable).parent / "ray")
        self.proc = subprocess.Popen(
            [ray, "start", "--head", "--block", f"--num-cpus={self.cpus}", f"--port={port}",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.tmp}",
             "--object-store-memory=300000000"],
            env=self.env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 300
        try:
            while "Ray runtime started" not in log.read_text():
                if self.proc.poll() is not None:
                    raise RuntimeError("ray start failed:\n" + log.read_text())
                if time.monotonic() > deadline:
                    raise RuntimeError("the Ray cluster did not start in 300 s:\n" + log.read_text())
                time.sleep(0.5)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            # A throwaway cluster: a short grace period, then SIGKILL.
            stop_group(self.proc, wait=3.0)
            self.proc = None
