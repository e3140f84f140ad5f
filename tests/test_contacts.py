"""Press contacts: names, offices and addresses right in every language (issue 12).

Unit tests on the shapes the sample and demo newsrooms write contacts in, then both newsrooms
crawled: every release with contacts has its named people, with their offices and addresses,
and nothing doubtful left for /status to list.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from archive.cleaning.contacts import block_lines, contact_doubts, parse_contacts
from archive.cleaning.vocab import Vocabulary, load_vocabulary
from archive.release import Contact
from archive.status_contacts import doubtful_contacts
from tests.catalogue_rows import catalogue_of
from tests.conftest import ROOT, SAMPLE_SITE, SampleSite, _start_server, crawl_sample_site, run_cli
from tests.webapp_fixtures import build_archive
from webapp import create_app


@pytest.fixture(scope="module")
def openers() -> list[str]:
    vocab: Vocabulary = load_vocabulary()
    return vocab.phrase_list("contacts.openers")


def test_or_between_two_contact_paragraphs_is_not_an_office(openers: list[str]) -> None:
    lines = ["Pour plus d’information, veuillez contacter", "Marta Kessler", "OIM Genève",
             "Email: mkessler@example.org", "Tél.: +41 22 717 9205", "ou", "Chiara Lombardi",
             "OIM Rome", "Email: clombardi@example.org"]
    assert parse_contacts(lines, openers) == [
        Contact("Marta Kessler", "OIM Genève", "mkessler@example.org", "+41 22 717 9205"),
        Contact("Chiara Lombardi", "OIM Rome", "clombardi@example.org")]


@pytest.mark.parametrize(("line", "name", "office"), [
    ("Para más información, póngase en contacto con Faduma Warsame, OIM Somalia, Tel.: +252 61 577 3120, "
     "Correo electrónico: fwarsame@example.org", "Faduma Warsame", "OIM Somalia"),
    ("For more information, please contact Othman Belbeisi, IOM Libya, Email: fwarsame@example.org",
     "Othman Belbeisi", "IOM Libya"),
])
def test_contact_verbs_do_not_stick_to_names(line: str, name: str, office: str, openers: list[str]) -> None:
    contact = parse_contacts([line], openers)[0]
    assert (contact.name, contact.office) == (name, office)


def test_arabic_heading_with_tawasul_and_the_name_below(openers: list[str]) -> None:
    lines = ["لمزيد من المعلومات، يرجى التواصل مع:", "رنا حداد", "المنظمة الدولية للهجرة في سوريا",
             "البريد الإلكتروني: rhaddad@example.org", "هاتف: +963 11 331 8045"]
    assert parse_contacts(lines, openers) == [
        Contact("رنا حداد", "المنظمة الدولية للهجرة في سوريا", "rhaddad@example.org", "+963 11 331 8045")]


def test_name_after_an_address_and_or_starts_the_next_contact(openers: list[str]) -> None:
    line = ("For more information, please contact Othman Belbeisi, IOM Libya, Email: obelbeisi@example.org "
            "or Maysa Khalil, Email: mkhalil@example.org")
    assert parse_contacts([line], openers)[1] == Contact("Maysa Khalil", email="mkhalil@example.org")


def test_block_lines_keep_a_label_and_its_link_together_and_leave_headings_out(openers: list[str]) -> None:
    html = ('<div class="block-contacts"><h2>Contacts</h2><p>Para más información, diríjase a:</p><ul>'
            '<li class="contact"><span class="contact__name">Andrés Gómez</span>, '
            '<span class="contact__office">Oficina de la ANM en Colombia, Bogotá</span><br>'
            'Correo electrónico: <a href="mailto:agomez@x.example">agomez@x.example</a><br>'
            'Tel.: <a href="tel:+576015550152">+57 601 555 0152</a></li></ul></div>')
    block = BeautifulSoup(html, "html.parser").div
    assert block is not None
    lines = block_lines(block)
    assert lines[0] == "Para más información, diríjase a:"
    assert "Correo electrónico: agomez@x.example" in lines
    assert parse_contacts(lines, openers) == [Contact(
        "Andrés Gómez", "Oficina de la ANM en Colombia, Bogotá", "agomez@x.example", "+57 601 555 0152")]


@pytest.mark.parametrize(("contact", "doubts"), [
    (Contact("Chiara Lombardi", "or", "c@x.example"), ["odd-office"]),
    (Contact("Marta Kessler", "veuillez contacter", "m@x.example"), ["odd-office"]),
    (Contact("، يرجى التواصل مع", "رنا حداد", "r@x.example"), ["not-a-name"]),
    (Contact("Maysa Khalil, Email", None, "m@x.example"), ["not-a-name"]),
    (Contact(email="press@x.example"), ["no-name"]),
    (Contact("Jane Doe", "Harbour Office"), ["no-address"]),
    (Contact("Jane Doe", "Harbour Office", "j@x.example"), []),
    (Contact("رنا حداد", "المنظمة الدولية للهجرة في سوريا", phone="+963 11 331 8045"), []),
])
def test_doubtful_contacts_say_why(contact: Contact, doubts: list[str]) -> None:
    assert contact_doubts(contact) == doubts


# -------------------------------------------------------------------- the two newsrooms crawled

def _releases(data: Path, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "releases.jsonl"
    result = run_cli("export", "--format", "jsonl", "--output", str(out), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _doubts(data: Path) -> list[Any]:
    catalogue = catalogue_of(data, read_only=True)
    try:
        return doubtful_contacts(catalogue.db, 100)[1]
    finally:
        catalogue.close()


@pytest.mark.acceptance
def test_every_sample_release_names_its_contacts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    crawl_sample_site(data)
    lines = (SAMPLE_SITE / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    truth = {row["path"]: row for row in map(json.loads, lines)}
    names: dict[str, set[str]] = {}
    checked = 0
    for release in _releases(data, tmp_path):
        expected = truth[urlsplit(release["url"]).path].get("contact_emails") or []
        contacts = [Contact(**c) for c in release["contacts"]]
        assert [c.email for c in contacts] == expected, release["url"]
        for contact in contacts:
            assert contact_doubts(contact) == [], (release["url"], contact)
            if release["language"] != "ar":      # Latin-script names: the same in every language
                names.setdefault(contact.email or "", set()).add(contact.name or "")
        checked += bool(expected)
    assert checked >= 50
    assert {email: found for email, found in names.items() if len(found) > 1} == {}
    assert _doubts(data) == []


@pytest.mark.acceptance
def test_every_demo_release_has_its_contacts_as_written(tmp_path: Path) -> None:
    demo = SampleSite(*_start_server([sys.executable, str(ROOT / "demo" / "serve.py"), "--port", "0"]))
    base = f"http://127.0.0.1:{demo.port}"
    data = tmp_path / "data"
    try:
        result = run_cli("crawl", base + "/", base + "/fr", base + "/es", base + "/ar", "--delay", "0",
                         "--data-dir", str(data), env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false"})
    finally:
        demo.stop()
    assert result.returncode == 0, result.stderr
    written = {}
    for file in sorted((ROOT / "demo" / "content").glob("r*.json")):
        release = json.loads(file.read_text(encoding="utf-8"))
        written[release["slug"]] = [Contact(**c) for c in release["contacts"]]
    found = {urlsplit(r["url"]).path.rsplit("/", 1)[-1]: [Contact(**c) for c in r["contacts"]]
             for r in _releases(data, tmp_path)}
    assert {slug: found.get(slug) for slug in written} == written
    assert _doubts(data) == []



def test_status_lists_a_doubtful_contact_for_staff(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_archive(data)
    client = create_app({"DATA_DIR": str(data), "TESTING": True}).test_client()
    for ui, why in (("en", "no name"), ("ar", "دون اسم")):
        page = BeautifulSoup(client.get(f"/status?lang={ui}").data, "html.parser")
        rows = page.select("table.doubtful-contacts tbody tr")
        # the fixture's XSS release signs with one word and an address: no name to quote
        assert [r["data-doubts"] for r in rows] == ["no-name"]
        assert why in rows[0].get_text() and "press@example.org" in rows[0].get_text()
        assert rows[0].select_one("a")["href"].startswith("/release/r-")
