"""hallmark: C2PA provenance, invisible watermarks and AI-image detection.

A thin Python face on the hallmark Rust library: every function answers with
the same object the matching CLI command prints with ``--json``.

>>> import hallmark
>>> report = hallmark.check("photo.jpg", trust="keys/")
>>> report["verdict"], report["summary"]

For many files, build one :class:`Checker` (it loads the trust store, the C2PA
verifier and the classifier once) and call it from as many threads as you
like: it releases the GIL while it works.

>>> checker = hallmark.Checker(trust="keys/")
>>> with concurrent.futures.ThreadPoolExecutor(8) as pool:
...     reports = list(pool.map(checker.check, paths))

Errors are :class:`HallmarkError` subclasses whose message is the one line the
CLI prints after ``hallmark: error:`` and whose ``kind`` is a stable word
(``io``, ``decode``, ``limits``, ``unsupported``, ``invalid_input``, ...).

The distributed scan on Ray Data is :mod:`hallmark.ray_scan`.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Optional, Union

from ._native import (
    Checker,
    CredentialError,
    DecodeError,
    EngineError,
    FileIoError,
    HallmarkError,
    InvalidInputError,
    LimitsError,
    UnsupportedError,
    __version__,
    sign,
    watermark_detect,
)

__all__ = [
    "Checker",
    "CredentialError",
    "DecodeError",
    "EngineError",
    "FileIoError",
    "HallmarkError",
    "InvalidInputError",
    "LimitsError",
    "UnsupportedError",
    "__version__",
    "check",
    "detect",
    "sign",
    "verify",
    "watermark_detect",
]

PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


def _key(path: Optional[Union[str, "os.PathLike[str]"]]) -> Optional[str]:
    return None if path is None else os.path.abspath(os.fspath(path))


@functools.lru_cache(maxsize=8)
def _checker(
    trust: Optional[str], registry: Optional[str], classifier: bool, model: Optional[str]
) -> Checker:
    return Checker(trust=trust, registry=registry, classifier=classifier, model=model)


def _cached(trust, registry=None, classifier: bool = True, model=None) -> Checker:
    """The Checker for these options, built on first use and kept (at most 8
    option sets). A trust folder's contents are read when it is first used."""
    if registry is not None and "://" not in str(registry):
        registry = _key(registry)  # a SQLite file: one key per file
    return _checker(_key(trust), registry, bool(classifier), _key(model))


def check(
    path_or_bytes: PathOrBytes,
    *,
    trust: Optional[Union[str, "os.PathLike[str]"]] = None,
    registry: Optional[Union[str, "os.PathLike[str]"]] = None,
    classifier: bool = True,
    model: Optional[Union[str, "os.PathLike[str]"]] = None,
    name: Optional[str] = None,
) -> dict[str, Any]:
    """The fused report and verdict for one image: the object
    ``hallmark check --json`` prints.

    ``path_or_bytes`` is a path (a ``.c2pa`` sidecar beside it is read too) or
    the image's bytes (``name`` then names it in the report). ``trust`` is a
    folder of trusted root certificates (default: the per-user folder
    ``~/.config/hallmark/trust`` when it exists); ``registry`` (a SQLite file
    or ``postgres://...``) recovers stripped credentials from a watermark or
    fingerprint, as ``check --registry`` does; ``classifier=False`` skips
    the pixel classifier; ``model`` picks a model card. The :class:`Checker`
    for each set of options is built once and reused.
    """
    return _cached(trust, registry, classifier, model).check(path_or_bytes, name=name)


def verify(
    path_or_bytes: PathOrBytes,
    *,
    trust: Optional[Union[str, "os.PathLike[str]"]] = None,
    name: Optional[str] = None,
) -> dict[str, Any]:
    """The C2PA manifest, its chain and its signer: the object
    ``hallmark verify --json`` prints (``manifest.present``, ``valid``,
    ``trusted``, ``signer``, ``digital_source_type``, ...)."""
    return _cached(trust, classifier=False).verify(path_or_bytes, name=name)


def detect(
    path_or_bytes: PathOrBytes,
    *,
    model: Optional[Union[str, "os.PathLike[str]"]] = None,
    name: Optional[str] = None,
) -> dict[str, Any]:
    """The pixel classifier's calibrated score: the object
    ``hallmark detect --json`` prints (``score``, ``label``, ``model``, ...).
    Raises :class:`EngineError` (kind ``unavailable``) when the model or ONNX
    Runtime cannot be loaded."""
    return _cached(None, None, True, model).detect(path_or_bytes, name=name)
