"""Page rendering for the Northbridge demo newsroom.

`Site.handle(path, query, origin)` turns a request into a `Response`; the
HTTP layer (serve.py) adds ETag/Last-Modified handling on top.  Templates use
`{{KEY}}` (HTML-escaped value) and `{{&KEY}}` (pre-built, already escaped
HTML fragment) placeholders.
"""

import calendar
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote

import i18n
from i18n import ABOUT_PATH, HOME_PATH, NEWS_PATH, UI

BASE = Path(__file__).resolve().parent
BUILD_DATE = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
PAGE_SIZE = 5
LEGACY_IDS = {"7": "r09"}          # /press/release.php?id=7
NEWSLETTER_PICK = "r05"            # linked from the English home with utm_* parameters
EVENTS = {"2026-11": [("18", "Regional consultation on labour mobility in West Africa", "Dakar")],
          "2026-12": [("18", "International Migrants Day: public talk and photo exhibition", "Geneva")]}

HTML = "text/html; charset=utf-8"
# the theme's page requisites: what an archive must keep for a page to show as published
THEME = {
    "/themes/northbridge/site.css": ("text/css; charset=utf-8", (
        ".site-header{background:#0b3a5b url(header-band.svg) repeat-x bottom;color:#fff;padding:.5rem 1rem}\n"
        ".site-header a{color:#fff}\n.site-logo img.logo{vertical-align:middle}\n"
        ".page-title{color:#0b3a5b;border-bottom:3px solid #e8a33d;padding-bottom:.25rem}\n")),
    "/themes/northbridge/logo.svg": ("image/svg+xml", (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">'
        '<circle cx="20" cy="20" r="18" fill="#e8a33d"/><path d="M8 26 L20 10 L32 26 Z" fill="#fff"/></svg>')),
    "/themes/northbridge/header-band.svg": ("image/svg+xml", (
        '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"><rect width="8" height="4" '
        'fill="#e8a33d"/></svg>')),
}
_PLACEHOLDER = re.compile(r"\{\{(&?)([A-Z0-9_]+)\}\}")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?؟])(?=\s|$)", re.S)
esc = html.escape


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    last_modified: datetime = None
    headers: dict = field(default_factory=dict)


def fill(template, values):
    """Replace {{KEY}} (escaped) and {{&KEY}} (raw HTML) in one pass."""
    def sub(m):
        value = values[m.group(2)]
        return str(value) if m.group(1) else esc(str(value), quote=True)
    return _PLACEHOLDER.sub(sub, template)


def first_sentence(text):
    m = _FIRST_SENTENCE.match(text)
    return m.group(1) if m else text


def release_path(r):
    return f"/news/{r['slug']}" if r["lang"] == "en" else f"/{r['lang']}/news/{r['slug']}"


def release_date(r):
    return r["updated"] or r["published"]


def release_modified(r):
    y, m, d = (int(x) for x in release_date(r).split("-"))
    return datetime(y, m, d, 10, 0, tzinfo=timezone.utc)


def lang_attrs(lang, page_lang):
    if lang == page_lang:
        return ""
    return f' lang="{lang}" dir="{i18n.DIRECTION[lang]}"'


def make_pdf():
    """A minimal, valid one-page PDF (correct xref offsets)."""
    lines = [(18, 720, "Northbridge Migration Agency - Annual Summary"),
             (11, 690, "Demo document for the Pressroom test site. All figures are illustrative."),
             (11, 672, "Operations in more than 40 countries; 16 press releases in 4 languages.")]
    stream = "\n".join(f"BT /F1 {s} Tf 72 {y} Td ({t}) Tj ET" for s, y, t in lines).encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Title (Northbridge Migration Agency Annual Summary) /Producer (Pressroom demo) >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class Site:
    def __init__(self, base=BASE):
        self.templates = {p.stem: p.read_text(encoding="utf-8")
                          for p in sorted((base / "templates").glob("*.html"))}
        releases = [json.loads(p.read_text(encoding="utf-8"))
                    for p in sorted((base / "content").glob("r*.json"))]
        self.releases = sorted(releases, key=lambda r: (r["published"], r["id"]), reverse=True)
        self.by_id = {r["id"]: r for r in self.releases}
        self.by_path = {release_path(r): r for r in self.releases}
        self.pdf = make_pdf()

    # ----- building blocks -------------------------------------------------
    def in_lang(self, lang):
        return [r for r in self.releases if r["lang"] == lang]

    def translations(self, r):
        """{lang: path} for every member of r's family (including r)."""
        if not r["family"]:
            return {}
        return {o["lang"]: release_path(o) for o in self.releases if o["family"] == r["family"]}

    def related(self, r, count=3):
        def score(o):
            same = 4 if o["lang"] == r["lang"] else 0
            themes = 2 * len(set(o["themes"]) & set(r["themes"]))
            countries = len(set(o["countries"]) & set(r["countries"]))
            gap = abs(int(o["published"][:4]) - int(r["published"][:4]))
            return (-(same + themes + countries), gap, o["id"])
        others = [o for o in self.releases
                  if o["id"] != r["id"] and not (r["family"] and o["family"] == r["family"])]
        return sorted(others, key=score)[:count]

    def teaser(self, r, page_lang, heading="h3", href=None):
        lang = r["lang"]
        return (f'<article class="node node--type-press-release node--view-mode-teaser teaser"{lang_attrs(lang, page_lang)}>\n'
                f'  <{heading} class="teaser__title"><a href="{esc(href or release_path(r))}" hreflang="{lang}">{esc(r["title"])}</a></{heading}>\n'
                f'  <div class="teaser__date"><time datetime="{r["published"]}">{esc(i18n.human_date(r["published"], lang))}</time></div>\n'
                f'  <p class="teaser__summary">{esc(first_sentence(r["paragraphs"][0]))}</p>\n'
                f'</article>')

    def menu(self, lang):
        items = []
        for title, blurb, links in i18n.MENU[lang]:
            lis = "".join(f'<li class="menu-item"><a href="{esc(h.format(about=ABOUT_PATH[lang], news=NEWS_PATH[lang]))}">{esc(t)}</a></li>'
                          for t, h in links)
            items.append(f'<li class="menu-item menu-item--expanded"><span class="menu-item__title" role="button" aria-expanded="false">{esc(title)}</span>\n'
                         f'<div class="dropdown"><p class="dropdown__blurb">{esc(blurb)}</p><ul class="menu">{lis}</ul></div></li>')
        return '<ul class="menu menu--main">\n' + "\n".join(items) + "\n</ul>"

    @staticmethod
    def breadcrumb(lang, trail):
        parts = []
        for label, href in trail:
            if href:
                parts.append(f'<li class="breadcrumb__item"><a href="{esc(href)}">{esc(label)}</a></li>')
            else:
                parts.append(f'<li class="breadcrumb__item" aria-current="page">{esc(label)}</li>')
        return (f'<nav class="breadcrumb" role="navigation" aria-label="{esc(UI[lang]["breadcrumb_label"])}">'
                f'<ol>{"".join(parts)}</ol></nav>')

    def layout(self, lang, origin, canonical_path, title, main, *, description="", translations=None,
               trail=None, og_type="website", extra_meta="", noindex=False, body_class="page"):
        ui = UI[lang]
        about = dict((s[0], s[1]) for s in i18n.ABOUT[lang][2])
        translations = translations or {}
        alternates = "".join(f'<link rel="alternate" hreflang="{l}" href="{esc(origin + p)}">\n'
                             for l, p in translations.items())
        if "en" in translations:
            alternates += f'<link rel="alternate" hreflang="x-default" href="{esc(origin + translations["en"])}">\n'
        active = ' aria-current="true" class="is-active"'
        switcher = "\n".join(
            f'      <a href="{esc(translations.get(l, HOME_PATH[l]))}" hreflang="{l}" lang="{l}"'
            f'{active if l == lang else ""}>{esc(i18n.LANG_NAMES[l])}</a>'
            for l in i18n.LANGS)
        values = {k.upper(): v for k, v in ui.items() if not k.startswith("newsletter_pick")}
        values.update({
            "LANG": lang, "DIR": i18n.DIRECTION[lang], "PAGE_TITLE": title,
            "DESCRIPTION": description or ui["tagline"], "CANONICAL": origin + canonical_path,
            "ROBOTS": '<meta name="robots" content="noindex, follow">\n' if noindex else "",
            "ALTERNATES": alternates, "OG_TYPE": og_type, "OG_LOCALE": i18n.OG_LOCALE[lang],
            "EXTRA_META": extra_meta, "BODY_CLASS": body_class, "HOME_URL": HOME_PATH[lang],
            "ABOUT_URL": ABOUT_PATH[lang], "NEWS_URL": NEWS_PATH[lang], "EVENTS_URL": i18n.EVENTS_LINK,
            "WHERE_WE_WORK": about["where-we-work"], "CAREERS": about["careers"],
            "LANG_SWITCHER": switcher, "MENU": self.menu(lang),
            "BREADCRUMB": self.breadcrumb(lang, trail) if trail else "", "MAIN": main,
        })
        return fill(self.templates["layout"], values)

    def page(self, status, text, last_modified=BUILD_DATE, **headers):
        return Response(status, text.encode("utf-8"), HTML, last_modified if status == 200 else None, headers)

    # ----- routing ---------------------------------------------------------
    def handle(self, path, query, origin):
        params = parse_qs(query, keep_blank_values=True)
        if path != "/" and path.endswith("/"):
            target = path.rstrip("/") or "/"
            return self.redirect(origin, target + ("?" + query if query else ""))
        if path == "/robots.txt":
            text = (f"User-agent: *\nDisallow: /admin\nDisallow: /search\n\n"
                    f"Sitemap: {origin}/sitemap.xml\n")
            return Response(200, text.encode(), "text/plain; charset=utf-8", BUILD_DATE)
        if path == "/sitemap.xml":
            return Response(200, self.sitemap(origin).encode("utf-8"), "application/xml; charset=utf-8", BUILD_DATE)
        if path == "/files/annual-summary.pdf":
            return Response(200, self.pdf, "application/pdf", BUILD_DATE)
        if path in THEME:
            return Response(200, THEME[path][1].encode("utf-8"), THEME[path][0], BUILD_DATE)
        if path == "/press/release.php":
            r = self.by_id.get(LEGACY_IDS.get(params.get("id", [""])[0], ""))
            return self.redirect(origin, release_path(r)) if r else self.not_found(origin, path)
        if path == "/admin" or path.startswith("/admin/"):
            return self.simple(origin, path, 403, "forbidden_title", "forbidden_text")
        if path in self.by_path:
            return self.release(self.by_path[path], origin)
        for lang in i18n.LANGS:
            if path == HOME_PATH[lang]:
                return self.home(lang, origin)
            if path == NEWS_PATH[lang]:
                return self.listing(lang, origin, params.get("page", ["0"])[0])
            if path == ABOUT_PATH[lang]:
                return self.about(lang, origin)
        if path == "/contact":
            return self.contact(origin)
        if path == "/search":
            return self.search(origin, params.get("q", [""])[0])
        if path == "/events":
            return self.events(origin, params.get("month", ["2026-11"])[0])
        return self.not_found(origin, path)

    def redirect(self, origin, target):
        location = origin + target
        body = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Moved Permanently</title></head>'
                f'<body><p>This page has moved to <a href="{esc(location)}">{esc(location)}</a>.</p></body></html>\n')
        return Response(301, body.encode("utf-8"), HTML, None, {"Location": location})

    @staticmethod
    def path_lang(path):
        first = path.strip("/").split("/", 1)[0]
        return first if first in ("fr", "es", "ar") else "en"

    def not_found(self, origin, path):
        return self.simple(origin, path, 404, "not_found_title", "not_found_text")

    def simple(self, origin, path, status, title_key, text_key):
        lang = self.path_lang(path)
        ui = UI[lang]
        main = fill(self.templates["404"], {
            "TITLE": ui[title_key], "TEXT": ui[text_key], "SEARCH_BUTTON": ui["search_button"],
            "HOME_URL": HOME_PATH[lang], "HOME": ui["home"], "NEWS_URL": NEWS_PATH[lang], "NEWS": ui["news"]})
        return self.page(status, self.layout(lang, origin, path, ui[title_key], main, noindex=True, body_class="error"))

    # ----- pages -----------------------------------------------------------
    def release(self, r, origin):
        lang, ui = r["lang"], UI[r["lang"]]
        path = release_path(r)
        updated = ""
        if r["updated"]:
            updated = (f'      <span class="field--name-field-updated">{esc(ui["updated"])}: '
                       f'<time datetime="{r["updated"]}">{esc(i18n.human_date(r["updated"], lang))}</time></span>')
        url = quote(origin + path, safe="")
        share = (f'  <div class="share-buttons"><span class="share-buttons__label">{esc(ui["share"])}</span><ul>'
                 f'<li><a href="https://www.facebook.com/sharer/sharer.php?u={url}" rel="nofollow noopener" target="_blank">Facebook</a></li>'
                 f'<li><a href="https://x.com/intent/post?url={url}&amp;text={quote(r["title"], safe="")}" rel="nofollow noopener" target="_blank">X</a></li>'
                 f'<li><a href="https://www.linkedin.com/sharing/share-offsite/?url={url}" rel="nofollow noopener" target="_blank">LinkedIn</a></li>'
                 f'<li><a href="mailto:?subject={quote(r["title"], safe="")}&amp;body={url}">{esc(ui["share_email"])}</a></li></ul></div>')
        attachments = ""
        if r["attachments"]:
            items = "".join(f'<li><a href="{esc(a["href"])}" type="application/pdf">{esc(a["label"])}</a></li>'
                            for a in r["attachments"])
            attachments = (f'    <div class="field field--name-field-attachments"><h2>{esc(ui["attachments"])}</h2>'
                           f'<ul>{items}</ul></div>')
        tags = ""
        if r["tags_shown"]:
            def group(label, cls, names):
                links = "".join(f'<li><a href="/search?q={quote(n)}" hreflang="{lang}">{esc(n)}</a></li>' for n in names)
                return f'<div class="field field--name-field-{cls}"><span class="field__label">{esc(label)}</span><ul class="field__items">{links}</ul></div>'
            tags = ('    <div class="node__tags">'
                    + group(ui["tags_country"], "country", [i18n.COUNTRIES[c][lang] for c in r["countries"]])
                    + group(ui["tags_topic"], "topic", [i18n.THEMES[t][lang] for t in r["themes"]]) + "</div>")
        comma = "، " if lang == "ar" else ", "
        people = "".join(
            f'<li class="contact"><span class="contact__name">{esc(c["name"])}</span>{comma}'
            f'<span class="contact__office">{esc(c["office"])}</span><br>'
            f'{esc(ui["email"])}: <a href="mailto:{esc(c["email"])}">{esc(c["email"])}</a><br>'
            f'{esc(ui["phone"])}: <a href="tel:{esc(c["phone"].replace(" ", ""))}" dir="ltr">{esc(c["phone"])}</a></li>'
            for c in r["contacts"])
        contacts = (f'    <div class="block-contacts field--name-field-contacts"><h2>{esc(ui["contacts"])}</h2>'
                    f'<p>{esc(ui["contacts_intro"])}</p><ul>{people}</ul></div>')
        main = fill(self.templates["release"], {
            "NODE_ID": int(r["id"][1:]) + 1400, "LABEL_PRESS_RELEASE": ui["press_release"], "TITLE": r["title"],
            "DATELINE": r["dateline"], "LABEL_PUBLISHED": ui["published"], "PUBLISHED": r["published"],
            "PUBLISHED_HUMAN": i18n.human_date(r["published"], lang), "UPDATED": updated, "SHARE": share,
            "BODY": "\n".join(f"      <p>{esc(p)}</p>" for p in r["paragraphs"]),
            "ATTACHMENTS": attachments, "TAGS": tags, "CONTACTS": contacts, "LABEL_RELATED": ui["related"],
            "RELATED": "\n".join(self.teaser(o, lang) for o in self.related(r)),
        })
        translations = self.translations(r)
        meta = f'<meta property="article:published_time" content="{r["published"]}T10:00:00+00:00">\n'
        if r["updated"]:
            meta += f'<meta property="article:modified_time" content="{r["updated"]}T10:00:00+00:00">\n'
        meta += "".join(f'<meta property="og:locale:alternate" content="{i18n.OG_LOCALE[l]}">\n'
                        for l in translations if l != lang)
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": r["title"],
              "inLanguage": lang, "datePublished": r["published"], "dateModified": release_date(r),
              "url": origin + path, "publisher": {"@type": "Organization", "name": UI[lang]["site_name"]}}
        meta += ('<script type="application/ld+json">'
                 + json.dumps(ld, ensure_ascii=False).replace("</", "<\\/") + "</script>\n")
        trail = [(ui["home"], HOME_PATH[lang]), (ui["news"], NEWS_PATH[lang]), (r["title"], None)]
        text = self.layout(lang, origin, path, r["title"], main, description=first_sentence(r["paragraphs"][0]),
                           translations=translations, trail=trail, og_type="article", extra_meta=meta,
                           body_class="node node--type-press-release")
        return self.page(200, text, release_modified(r), **{"Content-Language": lang})

    def home(self, lang, origin):
        ui = UI[lang]
        feature = ""
        if lang == "en":
            pick = self.by_id[NEWSLETTER_PICK]
            href = release_path(pick) + "?utm_source=newsletter&utm_medium=email"
            feature = (f'<section class="block-newsletter-pick"><h2>{esc(ui["newsletter_pick"])}</h2>'
                       f'<p>{esc(ui["newsletter_pick_text"])}</p>\n{self.teaser(pick, lang, "h3", href)}\n</section>')
        main = fill(self.templates["home"], {
            "TITLE": ui["home_title"], "INTRO": ui["home_intro"], "ABOUT_URL": ABOUT_PATH[lang],
            "ABOUT_TEASER": ui["about_teaser"], "FEATURE": feature, "LATEST": ui["latest_news"],
            "TEASERS": "\n".join(self.teaser(r, lang) for r in self.in_lang(lang)[:PAGE_SIZE]),
            "NEWS_URL": NEWS_PATH[lang], "ALL_NEWS": ui["all_news"]})
        text = self.layout(lang, origin, HOME_PATH[lang], ui["home"], main, description=ui["home_intro"],
                           translations=dict(HOME_PATH), body_class="frontpage")
        return self.page(200, text, **{"Content-Language": lang})

    def listing(self, lang, origin, page_param):
        ui, base = UI[lang], NEWS_PATH[lang]
        items = self.in_lang(lang)
        pages = max(1, -(-len(items) // PAGE_SIZE))
        if not page_param.isdigit() or int(page_param) >= pages:
            return self.not_found(origin, base)
        n = int(page_param)
        def href(k):
            return base if k == 0 else f"{base}?page={k}"
        pager = []
        if n > 0:
            pager.append(f'<li class="pager__item pager__item--previous"><a href="{esc(href(n - 1))}" rel="prev">‹ {esc(ui["previous_page"])}</a></li>')
        if n + 1 < pages:
            pager.append(f'<li class="pager__item pager__item--next"><a href="{esc(href(n + 1))}" rel="next">{esc(ui["next_page"])} ›</a></li>')
        main = fill(self.templates["listing"], {
            "TITLE": ui["listing_title"], "INTRO": ui["listing_intro"], "PAGER_LABEL": ui["pager_label"],
            "PAGE_STATUS": ui["page_n"].format(n=n + 1, total=pages), "PAGER": "\n".join(pager),
            "TEASERS": "\n".join(self.teaser(r, lang, "h2") for r in items[n * PAGE_SIZE:(n + 1) * PAGE_SIZE])})
        title = ui["listing_title"] + (f" – {ui['page_n'].format(n=n + 1, total=pages)}" if n else "")
        trans = {l: NEWS_PATH[l] for l in i18n.LANGS} if n == 0 else {}
        text = self.layout(lang, origin, href(n), title, main, description=ui["listing_intro"], translations=trans,
                           trail=[(ui["home"], HOME_PATH[lang]), (ui["news"], None)], body_class="news")
        return self.page(200, text, **{"Content-Language": lang})

    def about(self, lang, origin):
        title, intro, sections = i18n.ABOUT[lang]
        html_sections = "\n".join(f'    <section id="{sid}"><h2>{esc(h)}</h2><p>{esc(t)}</p></section>'
                                  for sid, h, t in sections)
        main = fill(self.templates["about"], {"TITLE": title, "INTRO": intro, "SECTIONS": html_sections})
        text = self.layout(lang, origin, ABOUT_PATH[lang], title, main, description=intro,
                           translations=dict(ABOUT_PATH), trail=[(UI[lang]["home"], HOME_PATH[lang]), (title, None)],
                           body_class="about")
        return self.page(200, text, **{"Content-Language": lang})

    def contact(self, origin):
        seen, rows = set(), []
        for r in sorted(self.releases, key=lambda r: r["id"]):
            for c in r["contacts"]:
                if c["email"] not in seen and r["lang"] == "en":
                    seen.add(c["email"])
                    rows.append(f'<li>{esc(c["name"])}, {esc(c["office"])} – <a href="mailto:{esc(c["email"])}">{esc(c["email"])}</a>, {esc(c["phone"])}</li>')
        body = ('<p>Journalists can reach the Northbridge press office at <a href="mailto:media@northbridge-migration.example">'
                'media@northbridge-migration.example</a> or +41 22 555 0100, Monday to Friday, 08:00–18:00 Geneva time.</p>\n'
                '<h2>Media contacts in our country offices</h2>\n<ul>' + "".join(rows) + "</ul>\n"
                '<p>For partnership enquiries, please write to partnerships@northbridge-migration.example.</p>')
        main = fill(self.templates["page"], {"TITLE": UI["en"]["contact_title"], "BODY": body})
        text = self.layout("en", origin, "/contact", UI["en"]["contact_title"], main,
                           trail=[("Home", "/"), (UI["en"]["contact_title"], None)], body_class="contact")
        return self.page(200, text)

    def search(self, origin, q):
        q = q.strip()[:128]
        words = q.casefold().split()
        hits = [r for r in self.releases if words and all(
            w in (r["title"] + " " + " ".join(r["paragraphs"])).casefold() for w in words)]
        body = (f'<p>{esc(UI["en"]["search_results"].format(n=len(hits), q=q))}</p>\n' if words
                else f'<p>{esc(UI["en"]["search_empty"])}</p>\n') + "\n".join(self.teaser(r, "en", "h2") for r in hits)
        main = fill(self.templates["page"], {"TITLE": UI["en"]["search_title"], "BODY": body})
        text = self.layout("en", origin, "/search", UI["en"]["search_title"], main, noindex=True, body_class="search")
        return self.page(200, text)

    def events(self, origin, month):
        m = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
            return self.not_found(origin, "/events")
        year, mon = int(m.group(1)), int(m.group(2))
        prev_m = f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"
        next_m = f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"
        label = f"{i18n.MONTHS['en'][mon - 1]} {year}"
        events = EVENTS.get(month, [])
        rows = "".join(f'<li><time datetime="{month}-{d}">{int(d)} {esc(label)}</time> – {esc(t)}, {esc(place)}</li>'
                       for d, t, place in events) or f'<li>{esc(UI["en"]["events_none"])}</li>'
        weeks = "".join("<tr>" + "".join(f"<td>{d or ''}</td>" for d in week) + "</tr>"
                        for week in calendar.monthcalendar(year, mon)) if year < 10000 else ""
        body = (f'<h2>{esc(label)}</h2>\n<table class="calendar"><thead><tr>'
                + "".join(f"<th>{d}</th>" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
                + f"</tr></thead><tbody>{weeks}</tbody></table>\n<ul class=\"events\">{rows}</ul>\n"
                f'<nav class="pager"><a href="/events?month={prev_m}" rel="prev">‹ {esc(UI["en"]["previous_month"])}</a> '
                f'<a href="/events?month={next_m}" rel="next">{esc(UI["en"]["next_month"])} ›</a></nav>')
        title = f'{UI["en"]["events_title"]} – {label}'
        main = fill(self.templates["page"], {"TITLE": title, "BODY": body})
        text = self.layout("en", origin, f"/events?month={month}", title, main,
                           trail=[("Home", "/"), (UI["en"]["events_title"], None)], body_class="events")
        return self.page(200, text)

    def sitemap(self, origin):
        build = BUILD_DATE.date().isoformat()
        entries = [(p, build, {}) for l in i18n.LANGS for p in (HOME_PATH[l], NEWS_PATH[l], ABOUT_PATH[l])]
        for lang in i18n.LANGS:
            pages = -(-len(self.in_lang(lang)) // PAGE_SIZE)
            entries += [(f"{NEWS_PATH[lang]}?page={k}", build, {}) for k in range(1, pages)]
        entries.append(("/contact", build, {}))
        entries += [(release_path(r), release_date(r), self.translations(r)) for r in self.releases]
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">']
        for path, lastmod, alts in entries:
            links = "".join(f'<xhtml:link rel="alternate" hreflang="{l}" href="{esc(origin + p)}"/>' for l, p in alts.items())
            out.append(f"<url><loc>{esc(origin + path)}</loc><lastmod>{lastmod}</lastmod>{links}</url>")
        out.append("</urlset>\n")
        return "\n".join(out)
