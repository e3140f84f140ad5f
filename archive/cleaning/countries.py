"""The countries a release is about: its tags, its lead label, dateline and office, its text.

A country named once in passing is not a country of the release: text mentions count by
where they stand (title, lead, rest) and must add up to a threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from archive.cleaning.vocab import Vocabulary

LEAD = re.compile(r"^\s*([^\W\d][^–—:\n]{0,60}?)\s+[-–—]\s+\S")
TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
KIND_WEIGHT = {"name": 1.0, "demonym": 0.75, "city": 0.75}
THRESHOLD = 3.0
MAX_COUNTRIES = 4


@dataclass(frozen=True)
class Lead:
    """What opens the first paragraph: "Libya - ...", "Tripoli – ...", "Geneva – ..."."""

    label: str | None
    country: str | None
    dateline: str | None


def read_lead(first_paragraph: str, vocab: Vocabulary) -> Lead:
    """Split the lead label off a first paragraph and say what it names.

    A country label gives the lead country; a city gives the dateline (and its country).
    """
    match = LEAD.match(first_paragraph)
    if not match:
        return Lead(None, None, None)
    label = match.group(1).strip(" ,")
    parts = [p.strip() for p in label.split(",")]
    country = vocab.country_code(parts[-1], ("name",))
    if country and len(parts) == 1:
        return Lead(label, country, None)
    city = vocab.place_code(parts[0])
    if city or country:
        return Lead(label, country or city, parts[0])
    return Lead(None, None, None)


def office_country(url: str, vocab: Vocabulary) -> str | None:
    """Return the country of a country-office site from its host or path (libya.example.org).

    Only segments before the release's own slug are read.
    """
    parts = urlsplit(url)
    labels = (parts.hostname or "").split(".")
    candidates = labels[:1] + [s for s in parts.path.split("/")[:-1] if s]
    for candidate in candidates:
        code = vocab.country_code(candidate.replace("-", " "), ("name",))
        if code:
            return code
    return None


def release_countries(vocab: Vocabulary, *, tags: list[str], lead: Lead, office: str | None,
                      title: str, paragraphs: list[str]) -> list[str]:
    """Return the ISO codes of the countries a release is about, most important first."""
    tagged = _unique(vocab.country_code(tag) for tag in tags)
    if tagged:
        return tagged[:MAX_COUNTRIES * 2]
    scores: dict[str, float] = {}
    texts = [p[len(lead.label):] if i == 0 and lead.label and p.startswith(lead.label) else p
             for i, p in enumerate(paragraphs)]  # the lead label is weighed on its own below
    for weight, text in [(TITLE_WEIGHT, title), *[(LEAD_WEIGHT if i == 0 else BODY_WEIGHT, p)
                                                  for i, p in enumerate(texts)]]:
        for code, kind, _ in vocab.mentions(text):
            scores[code] = scores.get(code, 0.0) + weight * KIND_WEIGHT[kind]
    strong = [c for c in (lead.country if lead.dateline is None else None, office) if c]
    if lead.dateline and lead.country and scores.get(lead.country, 0.0) >= BODY_WEIGHT:
        strong.append(lead.country)
    ranked = [code for code, score in sorted(scores.items(), key=lambda item: -item[1])
              if score >= THRESHOLD]
    chosen = _unique([*strong, *ranked])
    if not chosen and lead.country and lead.dateline is None:
        chosen = [lead.country]   # a country label leads; a city dateline alone says too little
    return chosen[:MAX_COUNTRIES]


def _unique(codes: object) -> list[str]:
    seen: list[str] = []
    for code in codes:  # type: ignore[attr-defined]
        if code and code not in seen:
            seen.append(code)
    return seen
