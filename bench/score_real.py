"""Score the cleaner's generic path on real third-party news pages, per field and per language.

    .venv/bin/python bench/score_real.py [--truth bench/real_pages/truth.jsonl] [--limit N] [--json]

Each page of bench/real_pages is cleaned as `pressroom extract FILE --url URL` cleans it (a
Capture of the bytes, with the page's URL: for Wayback Machine captures, the original URL) and
compared with the truth its source project gives (bench/real_pages/README.md). Every share
counts only the pages whose truth has the field:

- title: exact after whitespace normalisation; "trafilatura title" is extract_metadata's title
- date: publication day exact, for Pressroom and for htmldate.find_date with
  original_date=True, extensive_search=True ("htmldate ext") and with its defaults ("htmldate def")
- no date: pages whose source says they carry no publication date, where no date was given
- language: ISO 639-1 exact
- rejected: share of all pages cleaned as "not a release" (an error counts as rejected too)

htmldate and trafilatura get the page's HTML only, as the calls above; no URL.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.cleaning.clean import Capture, clean_page  # noqa: E402
from archive.cleaning.vocab import Vocabulary, load_vocabulary  # noqa: E402

DEFAULT_TRUTH = ROOT / "bench" / "real_pages" / "truth.jsonl"
NO_LANGUAGE = "??"  # group of the pages whose source gives no language
# metric -> (label in the table, truth field it needs)
METRICS: dict[str, tuple[str, str]] = {
    "title": ("title", "title"),
    "traf_title": ("trafilatura title", "title"),
    "date": ("date", "date"),
    "hd_ext": ("htmldate ext", "date"),
    "hd_def": ("htmldate def", "date"),
    "no_date": ("no date", "no_date"),
    "hd_ext_no_date": ("no date: htmldate ext", "no_date"),
    "language": ("language", "language"),
    "rejected": ("rejected", "file"),
}


@dataclass
class Prediction:
    """What Pressroom, htmldate and trafilatura make of one page."""

    title: str | None = None
    date: str | None = None
    language: str | None = None
    rejected: str | None = None          # the "not a release" reason
    error: str | None = None
    hd_ext: str | None = None
    hd_def: str | None = None
    traf_title: str | None = None


def load_truth(path: Path) -> list[dict[str, Any]]:
    """Read truth.jsonl: one page per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def page_url(row: dict[str, Any], page: Path) -> str:
    """Return the URL the page was published at: the original one, else the source's, else file:."""
    return str(row.get("original_url") or row.get("url") or page.resolve().as_uri())


def read_page(path: Path) -> bytes:
    """Return a page's bytes, gunzipped when they are gzip."""
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def norm(text: str | None) -> str:
    """Collapse runs of whitespace and trim.

    >>> norm("  A\\n  title ")
    'A title'
    """
    return " ".join((text or "").split())


def day(value: str | None) -> str | None:
    """Return the YYYY-MM-DD day of an ISO date or date-time, or None."""
    return value[:10] if value else None


def predict(row: dict[str, Any], base: Path, vocab: Vocabulary) -> Prediction:
    """Clean one page with Pressroom and run the reference tools on the same bytes."""
    path = base / row["file"]
    data = read_page(path)
    pred = Prediction()
    try:
        capture = Capture(url=page_url(row, path), site="extract", body=data, content_type=None)
        release, problem = clean_page(capture, vocab)
        pred.title, pred.date = release.title, day(release.published)
        pred.language, pred.rejected = release.language, problem
    except Exception as exc:  # a crash is a result to report, not a reason to stop
        pred.error = f"{type(exc).__name__}: {exc}"
    pred.hd_ext, pred.hd_def, pred.traf_title = _references(data)
    return pred


def _references(data: bytes) -> tuple[str | None, str | None, str | None]:
    from htmldate import find_date
    from trafilatura import extract_metadata

    def guarded(call: Any) -> Any:
        try:
            return call()
        except Exception:  # the reference tools' failures count as misses
            return None

    hd_ext = guarded(lambda: find_date(data, original_date=True, extensive_search=True))
    hd_def = guarded(lambda: find_date(data))
    meta = guarded(lambda: extract_metadata(data))
    return day(hd_ext), day(hd_def), (meta.title if meta is not None else None)


def judge(row: dict[str, Any], pred: Prediction) -> dict[str, bool | None]:
    """Say for each metric whether the page is right (True), wrong (False) or not counted (None)."""
    title, date, language = norm(row.get("title")) or None, row.get("date"), row.get("language")
    no_date = bool(row.get("no_date"))
    ok = pred.error is None

    def same(value: str | None, truth: str | None, normalise: bool = False) -> bool | None:
        if truth is None:
            return None
        return (norm(value) if normalise else value) == truth

    return {
        "title": same(pred.title, title, True) if ok or title is None else False,
        "traf_title": same(pred.traf_title, title, True),
        "date": same(pred.date, date) if ok or date is None else False,
        "hd_ext": same(pred.hd_ext, date),
        "hd_def": same(pred.hd_def, date),
        "no_date": (ok and pred.date is None) if no_date else None,
        "hd_ext_no_date": (pred.hd_ext is None) if no_date else None,
        "language": same((pred.language or "").lower() or None, language) if ok or not language
        else False,
        "rejected": pred.rejected is not None or not ok,
    }


def summarise(judged: Iterable[tuple[str, dict[str, bool | None]]]) -> dict[str, dict[str, list[int]]]:
    """Count [hits, pages counted] per group and metric, plus the group "all"."""
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: {m: [0, 0] for m in METRICS})
    for group, verdicts in judged:
        for name in (group, "all"):
            for metric, verdict in verdicts.items():
                if verdict is not None:
                    counts[name][metric][0] += int(verdict)
                    counts[name][metric][1] += 1
    return dict(counts)


def score_pages(rows: list[dict[str, Any]], base: Path) -> dict[str, Any]:
    """Clean and judge every page; return the per-language and per-source counts and the details."""
    vocab = load_vocabulary()
    details = []
    for row in rows:
        pred = predict(row, base, vocab)
        details.append({"file": row["file"], "source": row["source"],
                        "language": row.get("language") or NO_LANGUAGE,
                        "truth": {k: row.get(k) for k in ("title", "date", "no_date", "language")},
                        "predicted": asdict(pred), "verdicts": judge(row, pred)})
    return {
        "pages": len(details),
        "by_language": summarise((d["language"], d["verdicts"]) for d in details),
        "by_source": summarise((d["source"], d["verdicts"]) for d in details),
        "details": details,
    }


def table(counts: dict[str, dict[str, list[int]]], heading: str) -> str:
    """Render counts as a text table: one row per group, "hits/n pct" per metric."""
    groups = sorted((g for g in counts if g != "all"),
                    key=lambda g: (g == NO_LANGUAGE, -counts[g]["rejected"][1], g))
    widths = [max(len(METRICS[m][0]), 10) for m in METRICS]
    lines = [f"{heading:<20}{'pages':>6}  " + "  ".join(f"{METRICS[m][0]:>{w}}" for m, w in
                                                      zip(METRICS, widths, strict=True))]
    for group in [*groups, "all"]:
        row = counts[group]
        cells = []
        for metric, width in zip(METRICS, widths, strict=True):
            hits, n = row[metric]
            cells.append(f"{f'{hits}/{n} {100 * hits // n:>3}%' if n else '-':>{width}}")
        lines.append(f"{group:<20}{row['rejected'][1]:>6}  " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Score the pages and print the tables (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH,
                        help="truth.jsonl; page files are read relative to its folder")
    parser.add_argument("--limit", type=int, help="score only the first N pages")
    parser.add_argument("--json", action="store_true", help="print the counts and per-page details as JSON")
    args = parser.parse_args(argv)
    rows = load_truth(args.truth)[: args.limit]
    result = score_pages(rows, args.truth.parent)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(table(result["by_language"], "language"))
    print()
    print(table(result["by_source"], "source"))
    errors = [d for d in result["details"] if d["predicted"]["error"]]
    for d in errors:
        print(f"error: {d['file']}: {d['predicted']['error']}")


if __name__ == "__main__":
    main()
