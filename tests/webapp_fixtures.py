"""A small archive for the web app's tests: real WARC records, cleaned releases, an index.

Three ordinary releases (an English one with its French translation, a Spanish one) and an
XSS corpus: pages whose title, body, contacts and URL carry script, event-handler and
javascript: payloads, and whose archived original runs scripts of its own.
"""

from __future__ import annotations

import html
from pathlib import Path

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from archive.settings import Settings
from indexer.build import rebuild
from tests.catalogue_rows import archive_settings, catalogue_url

PAYLOADS = ["<script>alert('xss-title')</script>", "<img src=x onerror=alert('xss-img')>",
            "javascript:alert('xss-js')", "\"><svg onload=alert('xss-svg')>"]

PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article">{links}</head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article><h1>{title}</h1><time datetime="{date}">{date}</time>
{paragraphs}
<p>For more information, please contact {contact}, Email: press@example.org, Tel: +41 22 717 9111</p>
</article>{extra}<footer>Example Agency newsletter</footer></body></html>"""


def _page(lang: str, title: str, date: str, paragraphs: list[str], contact: str = "Ana Ruiz",
          links: str = "", extra: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return PAGE.format(lang=lang, title=title, date=date, paragraphs=body, contact=contact,
                       links=links, extra=extra)


def pages(base: str) -> dict[str, tuple[str, str]]:
    """URL path -> (file name, HTML) of every page of the fixture archive."""
    en_url, fr_url = f"{base}/news/libya-rescue", f"{base}/fr/news/libye-sauvetage"
    alternates = (f'<link rel="alternate" hreflang="en" href="{en_url}">'
                  f'<link rel="alternate" hreflang="fr" href="{fr_url}">')
    # as text (escaped in the page, so the release's title and body hold them literally)
    # and as markup (which cleaning must drop)
    xss = " ".join(html.escape(p) for p in PAYLOADS) + " " + " ".join(PAYLOADS)
    # in the body, text that looks like an <img> tag is dropped as markup debris by cleaning
    body_xss = " ".join(html.escape(p) for p in PAYLOADS if "<img" not in p)
    return {
        "/news/libya-rescue": ("en.html", _page(
            "en", "Coast guards rescue 120 migrants off Libya", "2024-03-12", [
                "Tripoli – Coast guards rescued 120 migrants off the coast of Libya on Monday, "
                "and teams gave them water, blankets and medical checks at the disembarkation point.",
                "The rescue is the third this month. Survivors said their boat left Zuwara two days "
                "earlier; several people are still missing, and families are asking for news.",
                "Partners are scaling up protection services for survivors, including psychosocial "
                "support and help to contact relatives, and call for safe and regular pathways."],
            links=alternates)),
        "/fr/news/libye-sauvetage": ("fr.html", _page(
            "fr", "Les garde-côtes secourent 120 migrants au large de la Libye", "2024-03-12", [
                "Tripoli – Les garde-côtes ont secouru lundi 120 migrants au large de la Libye, "
                "et les équipes leur ont fourni de l'eau, des couvertures et des examens médicaux.",
                "C'est le troisième sauvetage ce mois-ci. Les survivants ont indiqué que leur bateau "
                "avait quitté Zuwara deux jours plus tôt ; plusieurs personnes sont toujours portées "
                "disparues.",
                "Les partenaires renforcent les services de protection pour les survivants, dont un "
                "soutien psychosocial, et appellent à des voies de migration sûres et régulières."],
            links=alternates)),
        "/es/news/guatemala-albergues": ("es.html", _page(
            "es", "Albergues en Guatemala reciben a familias retornadas", "2022-11-03", [
                "Ciudad de Guatemala – Tres albergues recibieron esta semana a 340 familias "
                "retornadas, que recibieron alimentos, atención médica y orientación legal.",
                "Las autoridades locales y las organizaciones comunitarias coordinan la acogida y "
                "el acompañamiento de las familias durante sus primeras semanas de regreso.",
                "El programa continuará hasta finales del próximo año con el apoyo de donantes "
                "internacionales y de los municipios de acogida en todo el país."])),
        "/news/xss-corpus": ("xss.html", _page(
            "en", f"Flood relief {xss}", "2023-07-01", [
                "Dhaka – Flood relief reached 5,000 families this week in the northern districts, "
                f"where rivers rose after days of heavy rain and {body_xss} damaged roads and homes.",
                "Teams distributed shelter kits and water purification tablets in the worst-hit "
                f"districts, <a href=\"javascript:alert('xss-link')\">more</a> and {body_xss} set up "
                "mobile clinics for families who lost their homes and their livestock.",
                "The response continues with partners and local authorities, who asked for more "
                "boats, fuel and medical supplies for the weeks ahead, as water levels are expected "
                "to stay high in the northern districts until the end of the monsoon season."],
            contact=f"Eve {html.escape(PAYLOADS[1])}",
            extra="<script>parent.document.title='xss-from-original';alert('xss-original')</script>"
                  "<img src=x onerror=\"alert('xss-original-img')\">")),
    }


def build_archive(data_dir: Path, base: str = "https://news.example.org",
                  database: str | None = None) -> Settings:
    """Import the fixture pages as captures, clean them and index them: on the pass's database,
    or on `database` ("" for SQLite files)."""
    settings = archive_settings(data_dir, **({} if database is None else {"archive.database": database}))
    folder = data_dir.parent / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    with open_archive(settings) as (catalogue, store):
        for path, (name, html) in pages(base).items():
            file = folder / name
            file.write_text(html, encoding="utf-8")
            import_paths([file], catalogue, store, "example", base + path, [])
        clean_versions(catalogue, store, settings)
    rebuild(data_dir, procs=1, catalogue_url=catalogue_url(settings))
    return settings
