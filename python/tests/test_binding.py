"""The Python binding answers exactly as the CLI does: same JSON objects,
same one-line errors; a Checker is shared by threads with the GIL released."""

from __future__ import annotations

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import hallmark
from conftest import BAD, KEYS, REPO, SAMPLES, cli_json, run_cli, without_timings


@pytest.fixture(scope="module")
def checker() -> hallmark.Checker:
    return hallmark.Checker(trust=KEYS)


def test_check_is_the_cli_report_for_every_sample(checker, samples):
    for f in samples:
        want = without_timings(cli_json("check", "--json", "--trust", str(KEYS), str(f)))
        assert without_timings(checker.check(f)) == want, f


def test_check_bytes_matches_the_path_and_is_named(checker):
    f = SAMPLES / "ai-signed.jpg"
    by_path = checker.check(f)
    for data in (f.read_bytes(), bytearray(f.read_bytes()), memoryview(f.read_bytes())):
        by_bytes = checker.check(data, name="upload.jpg")
        assert by_bytes["file"] == "upload.jpg"
        assert by_bytes["verdict"] == by_path["verdict"] == "ai_generated"
        assert by_bytes["evidence"] == by_path["evidence"]
    assert checker.check(f.read_bytes())["file"] == "<bytes>"


def test_module_check_takes_trust_and_classifier_options(tmp_path):
    f = SAMPLES / "camera-signed.jpg"
    trusted = hallmark.check(f, trust=KEYS)
    assert trusted["verdict"] == "camera_capture"
    assert trusted["manifest"]["trusted"] is True
    untrusted = hallmark.check(f, trust=tmp_path, classifier=False)
    assert untrusted["verdict"] == "likely_camera"
    assert untrusted["manifest"]["trusted"] is False
    assert untrusted["classifier"]["status"] == "unavailable"
    assert "disabled" in untrusted["classifier"]["reason"]


def test_scan_line_is_scans_line(checker, tmp_path):
    out = tmp_path / "scan.jsonl"
    p = run_cli("scan", str(SAMPLES), "--trust", str(KEYS), "--jobs", "1", "-q", "-o", str(out))
    assert p.returncode == 0, p.stderr
    lines = {json.loads(l)["file"]: json.loads(l) for l in out.read_text().splitlines()}
    assert len(lines) == 6
    for name, want in lines.items():
        got = json.loads(checker.scan_line(name))
        assert without_timings(got) == without_timings(want)


def test_scan_line_reports_a_bad_file_instead_of_raising(checker):
    line = json.loads(checker.scan_line(BAD / "truncated.jpg"))
    assert line["file"].endswith("truncated.jpg")
    assert line["error_kind"] == "decode"
    assert "verdict" not in line


def test_verify_detect_watermark_are_the_cli_objects(checker):
    f = str(SAMPLES / "ai-signed.jpg")
    assert checker.verify(f) == cli_json("verify", "--json", "--trust", str(KEYS), f)
    assert hallmark.verify(f, trust=KEYS)["manifest"]["trusted"] is True

    wm = SAMPLES / "ai-watermarked.jpg"
    want = cli_json("watermark", "detect", "--json", str(wm))
    assert hallmark.watermark_detect(wm) == want
    assert checker.watermark_detect(wm.read_bytes()) == want
    assert want["detected"] and want["payload"] == "48414c4c4d41524b"

    d = str(SAMPLES / "unlabelled.png")
    want = cli_json("detect", "--json", d)
    got = hallmark.detect(d)
    assert without_timings(got) == without_timings(want)
    assert 0.0 <= got["score"] <= 1.0


@pytest.mark.parametrize("bad", sorted(p.name for p in BAD.iterdir() if p.name != "README.md"))
def test_errors_carry_the_clis_one_line_message(checker, bad, monkeypatch):
    monkeypatch.chdir(REPO)  # the CLI runs there too: same relative names
    rel = f"tests/bad/{bad}"
    p = run_cli("check", "--trust", str(KEYS), rel)
    if p.returncode == 0:
        # Not an error for check (e.g. a format reported as unsupported pixels).
        assert checker.check(REPO / rel)["verdict"]
        return
    assert p.returncode == 2
    want = p.stderr.strip().removeprefix("hallmark: error: ")
    with pytest.raises(hallmark.HallmarkError) as e:
        checker.check(rel)
    assert str(e.value) == want
    line = json.loads(checker.scan_line(rel))
    assert e.value.kind == line["error_kind"]


def test_error_classes_and_kinds(checker, tmp_path):
    with pytest.raises(hallmark.FileIoError) as e:
        checker.check(tmp_path / "missing.png")
    assert e.value.kind == "io"
    assert str(e.value) == run_cli("check", str(tmp_path / "missing.png")).stderr.strip().removeprefix(
        "hallmark: error: "
    )
    with pytest.raises(hallmark.UnsupportedError) as e:
        checker.check(b"not an image", name="x.png")
    assert str(e.value) == "x.png: unsupported format: not a recognised image format"
    assert isinstance(e.value, hallmark.HallmarkError) and e.value.kind == "unsupported"
    with pytest.raises(hallmark.DecodeError):
        checker.check(BAD / "truncated.png")
    with pytest.raises(TypeError, match="path .* or the image's bytes"):
        checker.check(42)
    with pytest.raises(hallmark.HallmarkError, match="cannot set up the checks: .*missing-trust"):
        hallmark.Checker(trust=tmp_path / "missing-trust")
    with pytest.raises(hallmark.EngineError) as e:
        hallmark.Checker(classifier=False).detect(SAMPLES / "unlabelled.png")
    assert e.value.kind == "unavailable"


def test_checker_from_many_threads_matches_one_thread(checker, samples):
    files = samples * 4
    one = [without_timings(checker.check(f)) for f in samples] * 4
    with ThreadPoolExecutor(4) as pool:
        many = [without_timings(r) for r in pool.map(checker.check, files)]
    assert many == one


def test_the_gil_is_released_while_checking(checker):
    # With a huge switch interval a thread holding the GIL keeps it until it
    # blocks or lets go: the main thread can only observe the check still
    # running if the check released the GIL.
    started = threading.Event()
    result: dict = {}

    def work():
        started.set()
        result["r"] = checker.check(SAMPLES / "camera-signed.jpg")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=work)
        t.start()
        started.wait()
        overlapped = t.is_alive() and "r" not in result
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert overlapped
    assert result["r"]["verdict"] == "camera_capture"


def test_sign_then_check_round_trip(tmp_path):
    p = run_cli("keygen", "--name", "py", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    key = tmp_path / "py.key"
    out = tmp_path / "signed.png"
    signed = hallmark.sign(
        SAMPLES / "unlabelled.png", out, key=key, ai_generated=True, author="Ada", watermark=True
    )
    assert signed["output"] == str(out)
    assert signed["manifest_id"].startswith("urn:c2pa:")
    assert signed["watermark"]["psnr"] > 38
    report = hallmark.Checker(trust=tmp_path).check(out)
    assert report["verdict"] == "ai_generated"
    assert report["manifest"]["trusted"] is True
    assert report["watermark"]["payload"] == signed["watermark"]["payload"]

    with pytest.raises(hallmark.FileIoError) as e:
        hallmark.sign(SAMPLES / "unlabelled.png", out, key=key)
    assert e.value.kind == "already_exists"
    want = run_cli("sign", str(SAMPLES / "unlabelled.png"), "-o", str(out), "--key", str(key)).stderr
    assert str(e.value) == want.strip().removeprefix("hallmark: error: ")
    with pytest.raises(hallmark.InvalidInputError):
        hallmark.sign(SAMPLES / "unlabelled.png", tmp_path / "x.png", key=key, ai_generated=True,
                      source_type="digitalCapture")
    with pytest.raises(hallmark.HallmarkError) as e:
        hallmark.sign(SAMPLES / "unlabelled.png", tmp_path / "y.png", key=tmp_path / "nokey.key")
    want = run_cli("sign", str(SAMPLES / "unlabelled.png"), "-o", str(tmp_path / "y.png"), "--key",
                   str(tmp_path / "nokey.key")).stderr
    assert str(e.value) == want.strip().removeprefix("hallmark: error: ")


def test_walk_is_scans_listing(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.JPG").write_bytes(b"x")
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "link.png").symlink_to(tmp_path / "a.png")
    files, failed = hallmark._native.walk([tmp_path])
    assert files == [str(tmp_path / "a.png"), str(tmp_path / "b" / "x.JPG")]
    assert failed == []
    assert hallmark._native.has_image_extension("x.webp")
    assert not hallmark._native.has_image_extension("x.c2pa")


def test_typing_stubs_ship_with_the_package():
    pkg = Path(hallmark.__file__).parent
    assert (pkg / "_native.pyi").exists() and (pkg / "py.typed").exists()
    assert hallmark.check.__doc__ and hallmark.Checker.check.__doc__


def registries(tmp_path: Path) -> list[str]:
    """The embedded SQLite registry, and the PostgreSQL one scripts/test.sh
    (or scripts/test_python.sh) starts."""
    url = os.environ.get("HALLMARK_TEST_POSTGRES")
    assert url, "HALLMARK_TEST_POSTGRES is not set: run through scripts/test_python.sh"
    return [str(tmp_path / "registry.db"), url]


def test_registry_recovers_a_stripped_copy_as_check_does(tmp_path):
    assert run_cli("keygen", "--name", "reg", "--out", str(tmp_path)).returncode == 0
    for i, reg in enumerate(registries(tmp_path)):
        # A sidecar manifest leaves the image without one: copying the image
        # alone is a stripped copy that only its watermark leads back from.
        signed = hallmark.sign(
            SAMPLES / "unlabelled.png", tmp_path / f"signed{i}.png", key=tmp_path / "reg.key",
            ai_generated=True, watermark=True, sidecar=True, registry=reg,
        )
        assert signed["registry"]["stored"] == "added", signed
        assert "://" not in signed["registry"]["location"] or "@" in signed["registry"]["location"]
        copy = tmp_path / f"copy{i}" / "stripped.png"
        copy.parent.mkdir()
        copy.write_bytes((tmp_path / f"signed{i}.png").read_bytes())

        got = hallmark.check(copy, trust=tmp_path, registry=reg)
        want = cli_json("check", "--json", "--trust", str(tmp_path), "--registry", reg, str(copy))
        assert without_timings(got) == without_timings(want)
        assert got["recovered"]["via"] == "watermark"
        assert got["recovered"]["manifest_id"] == signed["manifest_id"]
        assert "recovered" not in hallmark.check(copy, trust=tmp_path)
    with pytest.raises(hallmark.HallmarkError) as e:
        hallmark.Checker(registry=tmp_path / "none.db")
    assert str(e.value).startswith("cannot set up the checks: ") and e.value.kind == "registry"
