"""Type stubs of the extension module ``hallmark._native`` (Rust, PyO3)."""

import os
from typing import Any, Optional, Sequence, Union

_Path = Union[str, os.PathLike[str]]
_PathOrBytes = Union[str, os.PathLike[str], bytes, bytearray, memoryview]

__version__: str

class HallmarkError(Exception):
    """Base class of every hallmark error; the message is the CLI's one line."""

    kind: str
    """io, decode, limits, unsupported, invalid_input, already_exists, key,
    certificate, c2pa, watermark, model, runtime, registry, unavailable or
    other."""

class FileIoError(HallmarkError): ...
class DecodeError(HallmarkError): ...
class LimitsError(HallmarkError): ...
class UnsupportedError(HallmarkError): ...
class InvalidInputError(HallmarkError): ...
class CredentialError(HallmarkError): ...
class EngineError(HallmarkError): ...

class Checker:
    """Trust store, C2PA verifier and classifier, loaded once; safe to call
    from many threads (the GIL is released while it works)."""

    def __init__(
        self,
        *,
        trust: Optional[_Path] = None,
        registry: Optional[_Path] = None,
        classifier: bool = True,
        model: Optional[_Path] = None,
        ort_lib: Optional[_Path] = None,
        encoder: Optional[_Path] = None,
    ) -> None: ...
    def check(self, path_or_bytes: _PathOrBytes, *, name: Optional[str] = None) -> dict[str, Any]:
        """The fused report: ``hallmark check --json``."""
    def scan_line(self, path_or_bytes: _PathOrBytes, *, name: Optional[str] = None) -> str:
        """The JSON line ``hallmark scan`` writes for the input (no newline):
        the report, or ``{"file", "error", "error_kind"}``; never raises for
        a bad file."""
    def verify(self, path_or_bytes: _PathOrBytes, *, name: Optional[str] = None) -> dict[str, Any]:
        """The manifest report: ``hallmark verify --json``."""
    def detect(self, path_or_bytes: _PathOrBytes, *, name: Optional[str] = None) -> dict[str, Any]:
        """The classifier's score: ``hallmark detect --json``."""
    def watermark_detect(
        self, path_or_bytes: _PathOrBytes, *, name: Optional[str] = None
    ) -> dict[str, Any]:
        """hallmark's watermark: ``hallmark watermark detect --json``."""
    @property
    def trust_store(self) -> str:
        """The trust store in use, in words."""
    @property
    def max_file_bytes(self) -> int:
        """The largest file the decoder limits accept, in bytes."""
    @property
    def classifier_model(self) -> Optional[str]:
        """The classifier's model id, or None when it is not loaded."""
    @property
    def classifier_unavailable(self) -> Optional[str]:
        """Why the classifier is not loaded, or None when it is."""

def watermark_detect(path_or_bytes: _PathOrBytes, *, name: Optional[str] = None) -> dict[str, Any]:
    """hallmark's watermark: ``hallmark watermark detect --json``."""

def sign(
    input: _Path,
    output: _Path,
    *,
    key: _Path,
    cert: Optional[_Path] = None,
    ai_generated: bool = False,
    source_type: Optional[str] = None,
    author: Optional[str] = None,
    title: Optional[str] = None,
    parents: Sequence[_Path] = (),
    sidecar: bool = False,
    watermark: bool = False,
    gb45438: Optional[str] = None,
    thumbnail: bool = False,
    force: bool = False,
    registry: Optional[_Path] = None,
) -> dict[str, Any]:
    """Sign ``input`` into ``output`` with a C2PA manifest: ``hallmark sign``."""

def walk(paths: Sequence[_Path]) -> tuple[list[str], list[str]]:
    """Expand files and folders as ``hallmark scan`` does; returns the files
    and the scan error line of each path that could not be listed."""

def has_image_extension(path: _Path) -> bool:
    """Whether ``hallmark scan`` takes a file found in a folder (its extension)."""
