"""Nothing archived is lost: unreadable captures keep their releases, a full disk leaves no half
record in a closed WARC file, control characters and markup-like text do not empty a release."""

from __future__ import annotations

import copy
import errno
import gzip
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.capture.importer import import_paths
from archive.cleaning.clean import Capture, clean_page
from archive.cleaning.releases import clean_versions
from archive.cleaning.vocab import Vocabulary, load_vocabulary
from archive.cli_releases import reclean
from archive.layout import DataDir, open_archive
from archive.release import Release
from archive.settings import Settings
from tests.catalogue_rows import catalogue_of, rows
from tests.conftest import SAMPLE_SITE, SampleSite, run_cli

PAGES = Path(__file__).parent / "fixtures" / "pages"
RELEASE_PAGES = sorted(p for p in PAGES.glob("*.html") if p.stem not in ("listing", "menu"))


# ------------------------------------------------------------ 1. reclean after WARC damage


@pytest.fixture
def one_page_per_file(make_settings: Callable[..., Settings]) -> Settings:
    """An archive of the fixture release pages, each page in a WARC file of its own."""
    settings = make_settings(archive__warc_max_bytes=1)
    with open_archive(settings) as (catalogue, store):
        import_paths([PAGES], catalogue, store, "test", None, [])
        clean_versions(catalogue, store, settings)
    return settings


def releases_by_url(data_dir: Path) -> dict[str, dict[str, Any]]:
    catalogue = catalogue_of(data_dir)
    try:
        return {r.url: r.to_json() for r in catalogue.releases()}
    finally:
        catalogue.close()


def warc_of(settings: Settings, page: Path) -> Path:
    [(name,)] = rows(settings, "SELECT v.warc_file FROM versions v JOIN documents d ON"
                               " d.id = v.document_id WHERE d.url = :url", {"url": page.as_uri()})
    return DataDir(settings.data_dir).warc / name


def test_reclean_keeps_the_releases_of_captures_it_cannot_read(one_page_per_file: Settings) -> None:
    settings = one_page_per_file
    before = releases_by_url(settings.data_dir)
    assert len(before) == len(RELEASE_PAGES) == 6
    cut, gone, flipped = (warc_of(settings, page) for page in RELEASE_PAGES[:3])
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])        # cut short inside the response record
    gone.unlink()                                  # a lost file
    damaged = bytearray(flipped.read_bytes())
    damaged[len(damaged) // 3] ^= 0xFF             # a damaged gzip member
    flipped.write_bytes(bytes(damaged))
    for _ in range(2):                             # the second run must not finish the job
        result = CliRunner().invoke(reclean, ["--data-dir", str(settings.data_dir)])
        assert result.exit_code == 1, result.output
        assert releases_by_url(settings.data_dir) == before
        for warc in (cut, gone, flipped):
            assert re.search(rf"version 1: {re.escape(warc.name)} at byte \d+:", result.output)
        assert "cut short" in result.output and "missing" in result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("Error: 3 captures in 3 WARC files could not be read"), last


def test_a_capture_cut_short_is_never_read_as_a_shorter_page(one_page_per_file: Settings) -> None:
    settings = one_page_per_file
    warc = warc_of(settings, RELEASE_PAGES[0])
    warc.write_bytes(warc.read_bytes()[:-200])
    with open_archive(settings) as (catalogue, store):
        [version] = catalogue.versions(catalogue.document_id(RELEASE_PAGES[0].as_uri()) or 0)
        with pytest.raises(Exception, match="cut short"):
            store.read_payload(version.ref)
        stats = clean_versions(catalogue, store, settings, everything=True)
    assert [(u.url, u.version, u.file) for u in stats.unreadable] == [
        (RELEASE_PAGES[0].as_uri(), 1, warc.name)]
    assert stats.releases == 5 and sum(stats.not_releases.values()) == 2  # listing and menu
    assert len(releases_by_url(settings.data_dir)) == 6


@pytest.mark.acceptance
def test_reclean_of_the_sample_site_after_losing_warc_files(
        sample_site: Callable[..., SampleSite], tmp_path: Path) -> None:
    site, data = sample_site(), tmp_path / "data"
    crawled = run_cli("crawl", site.url, "--delay", "0", "--data-dir", str(data),
                        env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false",
                             "PRESSROOM_ARCHIVE_WARC_MAX_BYTES": "300000"})
    assert crawled.returncode == 0, crawled.stderr
    before = releases_by_url(data)
    assert len(before) == 60
    first, second = sorted((data / "warc").glob("*.warc.gz"))[:2]
    first.unlink()
    second.write_bytes(second.read_bytes()[:150_000])
    for _ in range(2):
        result = run_cli("reclean", "--data-dir", str(data))
        assert result.returncode == 1
        assert "could not be read" in result.stderr.strip().splitlines()[-1]
        assert releases_by_url(data) == before
    assert run_cli("index", "--data-dir", str(data)).returncode == 0
    catalogue = catalogue_of(data)
    assert catalogue.count("cleaned") == catalogue.count("versions")
    catalogue.close()


# ------------------------------------------------------------ 2. a full disk while writing


class FullDisk:
    """A WARC file on a disk that fills up: once `state["room"]` bytes are used, a write
    puts what still fits and raises ENOSPC."""

    def __init__(self, fh: Any, state: dict[str, int | None]) -> None:
        self.fh = fh
        self.state = state

    def write(self, data: bytes) -> int:
        room = self.state["room"]
        if room is None or len(data) <= room:
            if room is not None:
                self.state["room"] = room - len(data)
            return int(self.fh.write(data))
        self.fh.write(bytes(data[:room]))
        self.state["room"] = 0
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> dict[str, int | None]:
    """WARC files opened from now on fill the disk once `["room"]` bytes are written (None: never)."""
    state: dict[str, int | None] = {"room": None}
    real_open = Path.open

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(self, mode, *args, **kwargs)
        return FullDisk(fh, state) if "x" in mode and self.name.endswith(".open") else fh

    monkeypatch.setattr(Path, "open", open_)
    return state


def response(url: str, body: bytes) -> Any:
    from datetime import UTC, datetime

    from archive.capture.fetch import Response

    return Response(url=url, status=200, reason="OK", headers=[("Content-Type", "text/html")],
                    body=body, raw_body=body, fetched_at=datetime.now(UTC),
                    request_headers=[("User-Agent", "test")])


def whole_gzip(path: Path) -> bytes:
    """Decompress every member of a file; fail on a damaged or cut-short one."""
    return gzip.decompress(path.read_bytes())


NOISE = random.Random(15).randbytes(20_000)  # does not compress: a record of ~20 kB


@pytest.mark.parametrize("room", [0, 150, 5_000, "inside the request record"])
def test_a_full_disk_leaves_no_half_record_in_a_closed_file(
        tmp_path: Path, full_disk: dict[str, int | None], room: int | str) -> None:
    from archive.errors import ArchiveError
    from archive.warcstore import WarcStore

    if room == "inside the request record":  # the response record fits, its request does not
        probe = WarcStore(tmp_path / "probe", "t", 10**9)
        room = probe.write_exchange(response("http://127.0.0.1/b", NOISE)).length + 50
        probe.close()
    store = WarcStore(tmp_path / "warc", "t", 10**9)
    first = store.write_exchange(response("http://127.0.0.1/a", b"<p>a</p>" * 100))
    full_disk["room"] = int(room)
    with pytest.raises(ArchiveError, match="No space left on device"):
        store.write_exchange(response("http://127.0.0.1/b", NOISE))
    store.close()
    files = sorted((tmp_path / "warc").iterdir())
    assert [f.name for f in files] == [first.file]   # closed, and nothing else left behind
    text = whole_gzip(files[0])
    assert text.count(b"WARC-Type: response") == 1 and text.count(b"WARC-Type: request") == 1
    assert store.read_payload(first)[1] == b"<p>a</p>" * 100


def test_a_full_disk_on_a_new_file_leaves_no_file(tmp_path: Path,
                                                  full_disk: dict[str, int | None]) -> None:
    from archive.errors import ArchiveError
    from archive.warcstore import WarcStore

    store = WarcStore(tmp_path / "warc", "t", 10**9)
    full_disk["room"] = 100
    with pytest.raises(ArchiveError):
        store.write_exchange(response("http://127.0.0.1/b", NOISE))
    store.close()
    assert list((tmp_path / "warc").iterdir()) == []


def test_a_full_disk_fails_the_crawl_run_and_keeps_the_archive_verifiable(
        httpserver: Any, make_settings: Callable[..., Settings],
        full_disk: dict[str, int | None]) -> None:
    from archive.capture.runs import crawl_sites
    from tests.test_crawl import TinySite

    tiny = TinySite(httpserver)
    settings = make_settings(crawl__delay=0.0, crawl__backoff=0.01)
    full_disk["room"] = 2_500
    with pytest.raises(Exception, match="No space left on device") as failure:
        crawl_sites(settings, [tiny.site()])
    assert "marked failed" in str(failure.value)
    full_disk["room"] = None
    catalogue = catalogue_of(settings)
    [run] = catalogue.runs(1)
    assert run["state"] == "failed"
    assert catalogue.count("versions") >= 1
    catalogue.close()
    for warc in DataDir(settings.data_dir).warc.iterdir():
        assert warc.name.endswith(".warc.gz")
        whole_gzip(warc)
    checked = run_cli("verify", "--data-dir", str(settings.data_dir))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip().splitlines()[-1].endswith("all consistent")


# ------------------------------------------------------------ 2b. verify reads every member


def verified_archive(make_settings: Callable[..., Settings]) -> tuple[Settings, Path]:
    settings = make_settings()
    with open_archive(settings) as (catalogue, store):
        import_paths(RELEASE_PAGES[:2], catalogue, store, "test", None, [])
    [warc] = DataDir(settings.data_dir).warc.glob("*.warc.gz")
    return settings, warc


@pytest.mark.parametrize("damage", ["half member at the end", "trailing garbage",
                                    "damaged member"])
def test_verify_reads_every_gzip_member_to_its_end(
        make_settings: Callable[..., Settings], damage: str) -> None:
    settings, warc = verified_archive(make_settings)
    data = warc.read_bytes()
    end = len(data)
    if damage == "half member at the end":
        member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"x" * 5_000)
        warc.write_bytes(data + member[: len(member) // 2])
    elif damage == "trailing garbage":
        warc.write_bytes(data + b"\0" * 4096)
    else:
        end = 0                                    # the first record's member
        broken = bytearray(data)
        broken[60] ^= 0xFF
        warc.write_bytes(bytes(broken))
    result = run_cli("verify", "--data-dir", str(settings.data_dir))
    assert result.returncode == 1
    assert f"  {warc.name}@{end}: " in result.stderr, result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith("problems")


def test_verify_lets_an_open_file_end_in_a_torn_record(make_settings: Callable[..., Settings]
                                                       ) -> None:
    settings, warc = verified_archive(make_settings)
    member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"x" * 5_000)
    warc.rename(warc.with_name(warc.name + ".open"))
    with warc.with_name(warc.name + ".open").open("ab") as fh:
        fh.write(member[:100])
    result = run_cli("verify", "--data-dir", str(settings.data_dir))
    assert result.returncode == 0, result.stderr


def test_recover_trims_a_record_cut_short_before_closing_the_file(tmp_path: Path) -> None:
    from archive.warcstore import WarcStore

    store = WarcStore(tmp_path / "warc", "t", 10**9)
    first = store.write_exchange(response("http://127.0.0.1/a", b"<p>a</p>" * 100))
    store.close()
    closed = tmp_path / "warc" / first.file
    opened = closed.with_name(closed.name + ".open")
    closed.rename(opened)                          # as a killed crawl leaves it
    whole = opened.stat().st_size
    scratch = WarcStore(tmp_path / "scratch", "t", 10**9)
    second = scratch.write_exchange(response("http://127.0.0.1/b", NOISE))
    scratch.close()
    record = (tmp_path / "scratch" / second.file).read_bytes()[second.offset:][: second.length]
    with opened.open("ab") as fh:
        fh.write(record[: len(record) - 100])     # headers whole, the payload cut short
    assert WarcStore(tmp_path / "warc", "t", 10**9).recover() == [opened.name]
    assert closed.stat().st_size == whole
    assert whole_gzip(closed).count(b"WARC/1.1\r\n") == 3   # warcinfo, response, request


# ------------------------------------------------------------ 3. control characters


SAMPLE_RELEASE = (SAMPLE_SITE / "www" / "news" /
                  "iom-helps-libyan-government-set-migration-management-policy-working-group" /
                  "index.html")
CONTROLS = ["&#x1b;", "&#8;", "&#xFFFE;", "&#1;", "&#0;", "&#xD800;", "\x01", "\x1b", "\x7f"]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def sample_release() -> str:
    if not SAMPLE_RELEASE.exists():
        pytest.skip(f"needs the sample site at {SAMPLE_SITE}, which is absent")
    return SAMPLE_RELEASE.read_text(encoding="utf-8")


def cleaned(html: str, vocab: Vocabulary, rules: bool = True) -> tuple[Release, str | None]:
    url = "https://www.iom.int/news/iom-helps-libyan-government-set-migration-management-policy"
    return clean_page(Capture(url=url, site="iom", body=html.encode("utf-8")), vocab,
                      None if rules else [])


def generic(vocab: Vocabulary) -> Vocabulary:
    """The vocabulary without page rules: the generic extractor reads the page."""
    bare = copy.copy(vocab)
    bare.rules = []
    return bare


@pytest.mark.parametrize("rules", [True, False], ids=["page rules", "generic"])
@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_is_dropped_and_the_text_kept(vocab: Vocabulary, control: str,
                                                          rules: bool) -> None:
    html = sample_release()
    words = vocab if rules else generic(vocab)
    expected, problem = cleaned(html, words)
    assert problem is None and len(expected.body) > 1000
    html = html.replace("Helps Libyan", f"He{control}lps Libyan")   # title, og:title, h1
    html = html.replace("The event focused", f"The ev{control}ent focused", 1)
    release, problem = cleaned(html, words)
    assert problem is None
    assert release.title == expected.title
    assert release.body == expected.body
    assert release.contacts == expected.contacts


@pytest.mark.parametrize("control", ["&#x1b;", "\x01", "&#xFFFE;"])
def test_a_control_character_in_a_generic_page_keeps_its_body(vocab: Vocabulary,
                                                              control: str) -> None:
    html = (PAGES / "en-wordpress-post.html").read_text(encoding="utf-8")
    expected, _ = cleaned(html, vocab)
    html = html.replace("Forty fishing", f"Forty{control} fishing")
    release, problem = cleaned(html.replace("in Zuwara get", f"in Zuw{control}ara get"), vocab)
    assert problem is None
    assert release.body == expected.body and release.title == expected.title


# ------------------------------------------------------------ 4. text fields hold text only


PAYLOAD = "&lt;img src=x onerror=alert(1)&gt;"


def markup_in(value: Any) -> list[str]:
    """Every string in a release's JSON that looks like markup or an event handler."""
    text = json.dumps(value, ensure_ascii=False)
    return re.findall(r".{0,20}(?:<[a-zA-Z/!?]|&lt;|onerror|&#x?[0-9a-f]+;).{0,20}", text, re.I)


def test_markup_written_as_text_leaves_the_words_and_nothing_else(vocab: Vocabulary) -> None:
    html = (PAGES / "en-wordpress-post.html").read_text(encoding="utf-8")
    expected, _ = cleaned(html, vocab)
    title = "Fishing families in Zuwara get new boats and training"
    html = html.replace(title, f"{PAYLOAD}Flood")     # <title>, og:title and the <h1>
    html = html.replace("<p>Tripoli – ", f"<p>{PAYLOAD}Tripoli – ")       # dateline
    html = html.replace("contact Amira Ben Ali, ", f"contact {PAYLOAD}Amira Ben Ali, ")
    release, problem = cleaned(html, vocab)
    assert problem is None
    assert release.title == "Flood"
    assert markup_in(release.to_json()) == []
    assert release.body == expected.body                   # the first paragraph is kept
    assert release.dateline == expected.dateline == "Tripoli"
    assert release.contacts == expected.contacts


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_never_writes_markup_from_releases_cleaned_before(
        make_settings: Callable[..., Settings], tmp_path: Path, fmt: str) -> None:
    from archive.catalogue import VersionRow
    from archive.cli_releases import export

    settings = make_settings()
    with open_archive(settings) as (catalogue, store):
        import_paths([PAGES / "en-wordpress-post.html"], catalogue, store, "test", None, [])
        clean_versions(catalogue, store, settings)
        [release] = [r.to_json() for r in catalogue.releases()]
        [row] = [r for r in catalogue.versions_to_clean(everything=True)]
        assert isinstance(row, VersionRow)
        old = {**release, "title": "<img src=x onerror=alert(1)>Flood",     # as stored before
               "dateline": "<b>Tripoli</b>", "body": "<p>One.</p>\n\n<script>x()</script>Two.",
               "contacts": [{"name": "<svg onload=alert(1)>Amira", "office": None,
                             "email": "a@example.org", "phone": None}]}
        catalogue.db.execute("BEGIN")
        catalogue.save_cleaned(row, Release.from_json(old), None)
        catalogue.db.execute("COMMIT")
    out = tmp_path / f"releases.{fmt}"
    result = CliRunner().invoke(export, ["--format", fmt, "-o", str(out), "--data-dir",
                                         str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Flood" in text and "Amira" in text and "Tripoli" in text
    assert "One." in text and "x()" in text
    assert not re.search(r"<[a-zA-Z/]|onerror|onload", text), text


# ------------------------------------------------------------ reading a capture back is bounded


def test_a_compressed_capture_is_read_back_within_the_cap(tmp_path: Path) -> None:
    """A 1 MB gzip body that expands to 1 GB is decoded only up to the payload cap."""
    import tracemalloc
    import zlib
    from datetime import UTC, datetime

    from archive.capture.fetch import Response
    from archive.warcstore import WarcStore, iter_records

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(1024)) + packer.flush()
    store = WarcStore(tmp_path / "warc", "t", 10**9, max_payload_bytes=64 * 1024)
    ref = store.write_exchange(Response(
        url="http://127.0.0.1/bomb", status=200, reason="OK",
        headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")], request_headers=[],
        raw_body=bomb, body=b"", fetched_at=datetime.now(UTC)))
    store.close()
    tracemalloc.start()
    try:
        _, body = store.read_payload(ref)
        for _offset, _length, _record in iter_records(store.path_of(ref.file)):
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert body == bytes(64 * 1024)
    assert peak < 16 * 1024 * 1024


def test_extract_reports_a_gzip_file_that_expands_past_the_cap(tmp_path: Path) -> None:
    import zlib

    from archive.cli_releases import extract

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = tmp_path / "page.html.gz"
    bomb.write_bytes(b"".join(packer.compress(bytes(1 << 20)) for _ in range(64)) + packer.flush())
    good = tmp_path / "good.html.gz"
    good.write_bytes(gzip.compress(RELEASE_PAGES[0].read_bytes()))
    result = CliRunner().invoke(extract, [str(bomb), str(good)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert "expands past" in first["error"]
    assert second["title"] and "error" not in second
