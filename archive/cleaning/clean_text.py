"""Clean a plain-text page dump: site boilerplate learned from the site's other dumps, then the
same metadata steps as an HTML page."""

from __future__ import annotations

from archive.cleaning.clean import Capture, build_release
from archive.cleaning.contacts import EMAIL, parse_contacts
from archive.cleaning.dates import parse_visible
from archive.cleaning.extract import tidy_paragraphs, word_count
from archive.cleaning.language import text_language
from archive.cleaning.textdump import (
    Boilerplate,
    looks_like_date,
    release_from_dump,
    split_lines,
    strip_boilerplate,
)
from archive.cleaning.vocab import Vocabulary
from archive.release import Contact, Release

MIN_WORDS = 50


def dump_text(body: bytes | str) -> str:
    """Decode a text dump (UTF-8, else Latin-1)."""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def clean_text_dump(capture: Capture, model: Boilerplate, vocab: Vocabulary
                    ) -> tuple[Release, str | None]:
    """Clean a text dump into a release; return it with why it is not one (or None)."""
    lines = split_lines(dump_text(capture.body))
    try:
        dump = release_from_dump(lines, model)
    except ValueError as exc:
        empty = build_release(capture, vocab, title="", paragraphs=[], language="und",
                              published=None, country_tags=[], theme_tags=[], contacts=[])
        return empty, str(exc)
    text = "\n".join(dump.paragraphs)
    language = text_language(text)[0] or "und"
    paragraphs, contact_lines = tidy_paragraphs(dump.paragraphs, vocab.phrase_list("contacts.openers"))
    kept = strip_boilerplate(lines, model)
    published = next((found for line in kept if looks_like_date(line)
                      for found in [parse_visible(line, language)] if found), None)
    contacts = parse_contacts(contact_lines, vocab.phrase_list("contacts.openers"))
    known = {c.email for c in contacts}
    contacts += [Contact(email=e.lower()) for p in paragraphs for e in EMAIL.findall(p)
                 if e.lower() not in known]
    release = build_release(capture, vocab, title=dump.title, paragraphs=paragraphs,
                            language=language, published=published, country_tags=[],
                            theme_tags=[], contacts=contacts,
                            date_source="text" if published else None)
    # as for HTML pages, no date found is "date unknown", not a reason to drop the release
    problem = None
    if word_count(paragraphs) < MIN_WORDS:
        problem = f"too little text ({word_count(paragraphs)} words)"
    return release, problem
