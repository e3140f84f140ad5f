"""The sample site crawled twice (the second crawl answered by 304s) is a web archive that
`warcio check` passes and pywb replays: every capture, status and bytes of the original."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT, SAMPLE_SITE, SampleSite, _start_server, run_cli

pytestmark = pytest.mark.acceptance

WARCIO = Path(sys.executable).with_name("warcio")
PYWB_PYTHON = ROOT / ".venv-pywb" / "bin" / "python"


@pytest.fixture(scope="module")
def crawled_twice(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[Path]:
    """A data dir with the sample site crawled twice from one server (same URLs)."""
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    data = tmp_path_factory.mktemp("replay") / "data"
    site = SampleSite(*_start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"]))
    try:
        for run in range(2):
            if run:
                time.sleep(1.1)  # CDX timestamps have whole seconds: keep the two crawls apart
            result = run_cli("crawl", site.url, "--delay", "0", "--data-dir", str(data),
                               env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false"})
            assert result.returncode == 0, result.stderr
    finally:
        site.stop()
    assert "answered 304" in result.stdout
    yield data


def warc_files(data: Path) -> list[Path]:
    files = sorted((data / "warc").glob("*.warc.gz"))
    assert len(files) >= 2
    return files


def test_warcio_check_passes_on_every_file(crawled_twice: Path) -> None:
    revisits = 0
    for path in warc_files(crawled_twice):
        check = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True,
                               text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        with path.open("rb") as fh:
            recs = list(ArchiveIterator(fh))
        assert recs[0].rec_type == "warcinfo"
        assert {r.rec_headers.protocol for r in recs} == {"WARC/1.1"}
        for r in recs:
            if r.rec_type == "revisit":
                revisits += 1
                assert r.http_headers.get_statuscode() != "304"
    assert revisits > 100  # the second crawl's 304s


def payloads(data: Path) -> dict[str, bytes]:
    """Map each response record's payload digest to its payload as stored."""
    out: dict[str, bytes] = {}
    for path in warc_files(data):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    out[record.rec_headers.get_header("WARC-Payload-Digest")] = record.raw_stream.read()
    return out


def test_pywb_replays_every_capture_with_the_original_status_and_bytes(crawled_twice: Path,
                                                                        tmp_path: Path) -> None:
    if not PYWB_PYTHON.exists():
        pytest.skip(f"pywb is not installed in {PYWB_PYTHON.parent.parent}: run `make pywb`")
    coll = tmp_path / "collections" / "archive"
    (coll / "indexes").mkdir(parents=True)
    (coll / "archive").symlink_to(crawled_twice / "warc")
    index = coll / "indexes" / "index.cdxj"
    result = run_cli("cdx", "--data-dir", str(crawled_twice), "-o", str(index))
    assert result.returncode == 0, result.stderr
    lines = [line.split(" ", 2) for line in index.read_text().splitlines()]
    captures = [(ts, json.loads(fields)) for _, ts, fields in lines]
    stored = payloads(crawled_twice)
    wanted = [[ts, f["url"]] for ts, f in captures]
    replay = subprocess.run([str(PYWB_PYTHON), str(ROOT / "tests" / "pywb_replay.py"), "archive",
                             str(tmp_path / "answers.json")],
                            input=json.dumps(wanted), capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert replay.returncode == 0, replay.stderr[-3000:]
    answers = json.loads((tmp_path / "answers.json").read_text())
    revisits = 0
    for (ts, fields), answer in zip(captures, answers, strict=True):
        where = f"{ts} {fields['url']} ({fields['mime']})"
        revisits += fields["mime"] == "warc/revisit"
        assert answer["status"] == int(fields["status"]), where
        body = stored[fields["digest"]]
        assert answer["sha256"] == hashlib.sha256(body).hexdigest(), where
    ok = sum(1 for a in answers if a["status"] == 200)
    assert revisits > 100 and ok > 2 * 100
