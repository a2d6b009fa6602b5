"""Scan a folder or an S3-compatible bucket on a Ray cluster (Ray Data).

    python -m hallmark.ray_scan SOURCE... -o OUT [--resume | --force]
        [--format parquet|jsonl] [--workers N] [--batch-size B]
        [--address ray://... | auto] [--trust DIR] [--registry R] [--no-classifier] [--model M]
        [--s3-endpoint URL] [--s3-region R] [--paths-from FILE]

SOURCE is a local file or folder (walked exactly as ``hallmark scan`` walks
it: recursively, in name order, image extensions only, no symbolic links) or
``s3://bucket/prefix``. The driver lists the files; Ray Data streams them in
batches to an actor pool of ``--workers`` processes, each of which builds
**one** :class:`hallmark.Checker` (trust store, C2PA verifier, classifier)
and checks every file of every batch it gets; results stream to OUT as they
come, one part file per batch.

OUT is a folder (local, or ``s3://bucket/prefix``) of part files:

* ``parquet`` (default): columns ``file``, ``verdict``, ``error``,
  ``error_kind``, ``sha256``, ``worker`` and ``report`` (the full line
  ``hallmark scan`` writes for the file, as JSON text);
* ``jsonl``: exactly ``hallmark scan``'s lines, one per file.

Each part file appears whole or not at all (a local file is written under a
temporary name and renamed; an S3 object appears when its upload completes),
so after a crash ``--resume`` reads the ``file`` names already in OUT, skips
those files and adds new part files for the rest. A file that cannot be read
or decoded gets an error row, never a failed job.

Paths given as local files must be readable by every worker (one machine, or
a shared filesystem); use S3 for a multi-machine cluster. S3 credentials come
from the usual AWS variables or the instance's role on each worker.

See docs/distributed.md for why Ray, the measured throughput and the plan for
10^9 files.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

import pyarrow as pa

import hallmark
from hallmark import _native

FORMATS = {"parquet": ".parquet", "jsonl": ".jsonl"}
PART_PREFIX = "part-"
TMP_PREFIX = ".tmp-"

# Output columns besides `report` (the scan line itself).
COLUMNS = ("file", "verdict", "error", "error_kind", "sha256", "worker")
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS] + [("report", pa.string())])


class ScanError(Exception):
    """A problem with the job itself (bad arguments, OUT unusable): the one
    line printed before exit code 2."""


# ---- storage -----------------------------------------------------------------


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3-compatible service (credentials: the usual AWS
    variables or the instance's role, on every worker)."""

    endpoint: Optional[str] = None
    region: Optional[str] = None

    def filesystem(self):
        from pyarrow import fs

        kwargs: dict[str, Any] = {}
        if self.endpoint:
            u = urlparse(self.endpoint if "://" in self.endpoint else "https://" + self.endpoint)
            kwargs["endpoint_override"] = u.netloc
            kwargs["scheme"] = u.scheme or "https"
        if self.region:
            kwargs["region"] = self.region
        return fs.S3FileSystem(**kwargs)


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def _s3_path(uri: str) -> str:
    """``s3://bucket/key`` -> ``bucket/key`` (pyarrow's form)."""
    return uri[len("s3://") :].rstrip("/")


class Storage:
    """A local folder or an S3 prefix, through one pyarrow filesystem."""

    def __init__(self, uri: str, s3: S3Options):
        from pyarrow import fs

        self.uri = uri.rstrip("/") if is_s3(uri) else os.path.abspath(uri)
        self.s3 = is_s3(uri)
        self.fs = s3.filesystem() if self.s3 else fs.LocalFileSystem()
        self.root = _s3_path(uri) if self.s3 else self.uri

    def parts(self, ext: str) -> list[str]:
        """The finished part files under the root (temporary ones excluded)."""
        from pyarrow import fs

        try:
            infos = self.fs.get_file_info(fs.FileSelector(self.root, allow_not_found=True))
        except OSError as e:
            raise ScanError(f"{self.uri}: cannot list: {e}") from e
        names = []
        for i in infos:
            base = i.path.rsplit("/", 1)[-1]
            if i.type == fs.FileType.File and base.startswith(PART_PREFIX) and base.endswith(ext):
                names.append(i.path)
        return sorted(names)

    def leftovers(self) -> list[str]:
        """Temporary files a crashed run left behind."""
        from pyarrow import fs

        infos = self.fs.get_file_info(fs.FileSelector(self.root, allow_not_found=True))
        return [i.path for i in infos if i.path.rsplit("/", 1)[-1].startswith(TMP_PREFIX)]

    def exists(self) -> bool:
        from pyarrow import fs

        return self.fs.get_file_info(self.root).type != fs.FileType.NotFound


def read_done(storage: Storage, fmt: str) -> set[str]:
    """The ``file`` names already in OUT's part files."""
    import pyarrow.parquet as pq

    done: set[str] = set()
    for part in storage.parts(FORMATS[fmt]):
        try:
            if fmt == "parquet":
                table = pq.read_table(part, columns=["file"], filesystem=storage.fs)
                done.update(f for f in table.column("file").to_pylist() if f is not None)
            else:
                with storage.fs.open_input_stream(part) as f:
                    for line in f.read().decode("utf-8").splitlines():
                        done.add(json.loads(line)["file"])
        except (OSError, ValueError, KeyError, pa.ArrowException) as e:
            raise ScanError(
                f"{part}: cannot read this part file of the output ({e}); "
                "move it away and run with --resume again to redo its files"
            ) from e
    return done


# ---- listing -------------------------------------------------------------------


@dataclass
class Listing:
    """What to check: file names (local paths or s3:// URIs) and the scan
    lines of paths that could not be listed."""

    files: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def list_sources(sources: Iterable[str], s3: S3Options, paths_from: Optional[str]) -> Listing:
    """Expand the sources: local paths as ``hallmark scan`` does, S3 prefixes
    recursively (image extensions only, key order), and ``paths_from`` (a
    local text file or an S3 object: one path or URI per line) as given."""
    out = Listing()
    local: list[str] = []

    def flush_local():
        if local:
            files, failed = _native.walk(local)
            out.files.extend(files)
            out.failed.extend(failed)
            local.clear()

    for src in sources:
        if is_s3(src):
            flush_local()
            out.files.extend(_list_s3(src, s3))
        else:
            local.append(src)
    flush_local()
    if paths_from:
        out.files.extend(_read_paths(paths_from, s3))
    return out


def _list_s3(uri: str, s3: S3Options) -> list[str]:
    from pyarrow import fs

    filesystem = s3.filesystem()
    path = _s3_path(uri)
    try:
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.File:
            return [uri]
        infos = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    except OSError as e:
        raise ScanError(f"{uri}: cannot list: {e}") from e
    keys = sorted(
        i.path for i in infos if i.type == fs.FileType.File and _native.has_image_extension(i.path)
    )
    return ["s3://" + k for k in keys]


def _read_paths(source: str, s3: S3Options) -> list[str]:
    try:
        if is_s3(source):
            with s3.filesystem().open_input_stream(_s3_path(source)) as f:
                text = f.read().decode("utf-8")
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ScanError(f"{source}: cannot read the path list: {e}") from e
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


# ---- the workers ---------------------------------------------------------------


def _error_line(file: str, error: str, kind: str) -> str:
    """A scan error line (same fields and order as the library's)."""
    return json.dumps(
        {"file": file, "error": error, "error_kind": kind},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def rows(lines: list[str], worker: str) -> pa.Table:
    """Scan lines -> output rows (the summary columns pulled from each line)."""
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for line in lines:
        obj = json.loads(line)
        cols["file"].append(obj.get("file"))
        cols["verdict"].append(obj.get("verdict"))
        cols["error"].append(obj.get("error"))
        cols["error_kind"].append(obj.get("error_kind"))
        cols["sha256"].append((obj.get("media") or {}).get("sha256"))
        cols["worker"].append(worker)
    return pa.table({**cols, "report": lines}, schema=SCHEMA)


class CheckWorker:
    """One Ray actor: one Checker for its whole life, then batch after batch."""

    def __init__(self, checker: dict[str, Any], s3: S3Options):
        self.checker = hallmark.Checker(**checker)
        self.s3 = s3
        self._fs = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _s3(self):
        if self._fs is None:
            self._fs = self.s3.filesystem()
        return self._fs

    def line(self, file: str) -> str:
        if not is_s3(file):
            return self.checker.scan_line(file)
        path = _s3_path(file)
        try:
            size = self._s3().get_file_info(path).size
            if size is not None and size > self.checker.max_file_bytes:
                return _error_line(
                    file,
                    f"image exceeds limits: {file} is {size} bytes, "
                    f"limit is {self.checker.max_file_bytes}",
                    "limits",
                )
            with self._s3().open_input_stream(path) as f:
                data = f.read()
        except OSError as e:
            return _error_line(file, f"{file}: {e}".replace("\n", " "), "io")
        return self.checker.scan_line(data, name=file)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return rows([self.line(f) for f in batch.column("path").to_pylist()], self.worker)


# ---- the output ----------------------------------------------------------------


def _write_part(filesystem, root: str, local: bool, table: pa.Table, fmt: str) -> str:
    """Write one part file whole: under a temporary name, then renamed
    (local); S3 objects appear only once their upload completes."""
    import pyarrow.parquet as pq

    name = f"{PART_PREFIX}{uuid.uuid4().hex}{FORMATS[fmt]}"
    final = f"{root}/{name}"
    target = f"{root}/{TMP_PREFIX}{name}" if local else final
    with filesystem.open_output_stream(target) as f:
        if fmt == "parquet":
            pq.write_table(table, f, compression="zstd")
        else:
            lines = table.column("report").to_pylist()
            f.write(("\n".join(lines) + "\n").encode("utf-8"))
    if local:
        os.replace(target, final)
    return final


def _make_sink(storage: Storage, fmt: str):
    from ray.data import Datasink
    from ray.data.block import BlockAccessor

    class PartSink(Datasink):
        """Each write task writes its rows as one part file and returns its
        counts; the driver adds them up."""

        def __init__(self):
            self.fs = storage.fs
            self.root = storage.root
            self.local = not storage.s3
            self.totals: Counter = Counter()

        def on_write_start(self, schema=None) -> None:
            if self.local:
                os.makedirs(self.root, exist_ok=True)

        def write(self, blocks, ctx) -> dict:
            tables = [BlockAccessor.for_block(b).to_arrow() for b in blocks]
            tables = [t for t in tables if t.num_rows]
            if not tables:
                return {}
            table = pa.concat_tables(tables).select(list(SCHEMA.names)).cast(SCHEMA)
            _write_part(self.fs, self.root, self.local, table, fmt)
            counts = Counter(v or "error" for v in table.column("verdict").to_pylist())
            return dict(counts)

        def on_write_complete(self, write_result) -> None:
            for counts in write_result.write_returns:
                self.totals.update(counts or {})

        @property
        def supports_distributed_writes(self) -> bool:
            return True

    return PartSink()


# ---- the job -------------------------------------------------------------------


@dataclass
class Options:
    sources: list[str]
    output: str
    fmt: str = "parquet"
    mode: str = "fresh"  # fresh | resume | force
    workers: int = 2
    batch_size: int = 32
    address: Optional[str] = None
    trust: Optional[str] = None
    registry: Optional[str] = None
    classifier: bool = True
    model: Optional[str] = None
    s3: S3Options = field(default_factory=S3Options)
    paths_from: Optional[str] = None
    quiet: bool = False


@dataclass
class Summary:
    listed: int = 0
    skipped: int = 0
    checked: int = 0
    verdicts: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def table(self) -> str:
        lines = ["verdict            files"]
        for v, n in sorted(self.verdicts.items()):
            if v != "error":
                lines.append(f"{v:<18} {n:>6}")
        lines.append(f"{'error':<18} {self.verdicts.get('error', 0):>6}")
        if self.skipped:
            lines.append(f"{'skipped (resume)':<18} {self.skipped:>6}")
        rate = self.checked / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines.append(f"{self.checked} files in {self.elapsed_s:.1f} s: {rate:.1f} files/s")
        return "\n".join(lines) + "\n"


def prepare_output(opts: Options) -> tuple[Storage, set[str]]:
    """Open OUT as the mode says; returns it and the files already done."""
    storage = Storage(opts.output, opts.s3)
    ext = FORMATS[opts.fmt]
    other = [e for f, e in FORMATS.items() if f != opts.fmt]
    present = storage.exists() and (storage.parts(ext) or any(storage.parts(e) for e in other))
    if opts.mode == "fresh" and present:
        raise ScanError(
            f"{storage.uri} already holds results (use --resume to continue it, "
            "or --force to replace them)"
        )
    if opts.mode == "force" and storage.exists():
        for part in storage.parts(ext) + storage.leftovers():
            storage.fs.delete_file(part)
    if opts.mode == "resume":
        if any(storage.parts(e) for e in other):
            raise ScanError(f"{storage.uri} holds results in another format than --format {opts.fmt}")
        for tmp in storage.leftovers():
            storage.fs.delete_file(tmp)
        return storage, read_done(storage, opts.fmt)
    return storage, set()


def run(opts: Options) -> Summary:
    """Run the job (connecting to, or starting, a Ray cluster)."""
    if not opts.address:
        # The cluster this job starts serves this machine only: keep it on
        # 127.0.0.1 (Ray otherwise listens on the machine's network address).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray
    import ray.data

    if opts.workers < 1:
        raise ScanError("--workers must be at least 1")
    if opts.batch_size < 1:
        raise ScanError("--batch-size must be at least 1")
    if not opts.sources and not opts.paths_from:
        raise ScanError("nothing to scan: give a SOURCE or --paths-from")
    start = time.monotonic()
    storage, done = prepare_output(opts)
    listing = list_sources(opts.sources, opts.s3, opts.paths_from)
    summary = Summary(listed=len(listing.files) + len(listing.failed))
    todo = [f for f in listing.files if f not in done]
    failed = [line for line in listing.failed if json.loads(line)["file"] not in done]
    summary.skipped = summary.listed - len(todo) - len(failed)

    if failed:
        # Paths that could not be listed: their error rows, written by the driver.
        table = rows(failed, f"{socket.gethostname()}:{os.getpid()}:driver")
        if not storage.s3:
            os.makedirs(storage.root, exist_ok=True)
        _write_part(storage.fs, storage.root, not storage.s3, table, opts.fmt)
        summary.verdicts["error"] += len(failed)
        summary.checked += len(failed)

    if todo:
        if not ray.is_initialized():
            if opts.address:
                ray.init(address=opts.address, log_to_driver=not opts.quiet)
            else:
                ray.init(num_cpus=opts.workers, include_dashboard=False, log_to_driver=not opts.quiet)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = not opts.quiet
        checker = {
            "trust": opts.trust,
            "registry": opts.registry,
            "classifier": opts.classifier,
            "model": opts.model,
        }
        # Blocks of batch_size paths, so every actor gets work at once and
        # results are written (and resumable) batch by batch.
        paths = pa.table({"path": todo})
        ds = ray.data.from_arrow(
            [paths.slice(i, opts.batch_size) for i in range(0, len(todo), opts.batch_size)]
        )
        ds = ds.map_batches(
            CheckWorker,
            fn_constructor_kwargs={"checker": checker, "s3": opts.s3},
            batch_size=opts.batch_size,
            batch_format="pyarrow",
            concurrency=opts.workers,
            num_cpus=1,
        )
        sink = _make_sink(storage, opts.fmt)
        # Writing is light I/O: it must not wait for a CPU the actors hold.
        ds.write_datasink(sink, ray_remote_args={"num_cpus": 0})
        summary.verdicts.update(sink.totals)
        summary.checked += sum(sink.totals.values())
    summary.elapsed_s = time.monotonic() - start
    return summary


# ---- command line --------------------------------------------------------------


def parse_args(argv: Optional[list[str]] = None) -> Options:
    p = argparse.ArgumentParser(
        prog="python -m hallmark.ray_scan",
        description="Check every image of folders or S3 prefixes on a Ray cluster; "
        "results as Parquet or JSON lines, resumable.",
        epilog="Exit codes: 0 every file checked, 1 some files have error rows, "
        "2 the job failed.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="file, folder or s3://bucket/prefix")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder or s3:// prefix")
    p.add_argument("--format", dest="fmt", choices=sorted(FORMATS), default="parquet")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="skip files already in OUT, add the rest")
    mode.add_argument("--force", action="store_true", help="replace the results in OUT")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="actor processes (default: cores)")
    p.add_argument("--batch-size", type=int, default=32, help="files per batch and per part file")
    p.add_argument("--address", help="Ray cluster to join (e.g. auto); default: start a local one")
    p.add_argument("--paths-from", metavar="FILE", help="also check the paths or URIs listed in FILE")
    p.add_argument("--trust", metavar="DIR", help="trusted root certificates")
    p.add_argument("--registry", metavar="R",
                   help="manifest registry to recover stripped credentials from "
                   "(postgres://... on a cluster; a SQLite file only on one machine)")
    p.add_argument("--model", metavar="M", help="classifier model card")
    p.add_argument("--no-classifier", action="store_true", help="do not run the classifier")
    p.add_argument("--s3-endpoint", metavar="URL", default=os.environ.get("AWS_ENDPOINT_URL"),
                   help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    p.add_argument("--s3-region", metavar="R", default=os.environ.get("AWS_REGION"))
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no summary")
    a = p.parse_args(argv)
    return Options(
        sources=a.sources,
        output=a.output,
        fmt=a.fmt,
        mode="resume" if a.resume else "force" if a.force else "fresh",
        workers=a.workers,
        batch_size=a.batch_size,
        address=a.address,
        trust=a.trust,
        registry=a.registry,
        classifier=not a.no_classifier,
        model=a.model,
        s3=S3Options(endpoint=a.s3_endpoint, region=a.s3_region),
        paths_from=a.paths_from,
        quiet=a.quiet,
    )


def main(argv: Optional[list[str]] = None) -> int:
    opts = parse_args(argv)
    try:
        summary = run(opts)
    except (ScanError, hallmark.HallmarkError) as e:
        print(f"hallmark: error: {e}", file=sys.stderr)
        return 2
    if not opts.quiet:
        sys.stderr.write(summary.table())
    return 1 if summary.verdicts.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
