"""Press contacts: names, offices, emails (Cloudflare-obfuscated ones too) and phones."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from archive.cleaning.page import in_side_region
from archive.cleaning.textnorm import fold, squash
from archive.release import Contact

# bounded repetitions: no quadratic backtracking on a megabyte-long "word"
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
PHONE = re.compile(r"(?:\+|00)\d[\d\s().\-/]{6,}\d|\b\d{2,4}[\s.-]\d{2,4}[\s.-]\d{2,4}[\s.-]?\d{0,4}\b")
PHONE_LABEL = re.compile(r"^(tel|tél|tel\.|tél\.|phone|mobile|mob|cell|fax|whatsapp|هاتف|الهاتف|جوال|"
                         r"teléfono|telefono|móvil|movil|celular|portable)\b\.?\s*:?\s*", re.I)
EMAIL_LABEL = re.compile(r"^(e-?mail|courriel|correo(?: electrónico)?|البريد(?: الإلكتروني)?)\s*:?\s*",
                         re.I)
# "please contact", "veuillez contacter", "póngase en contacto con", "يرجى التواصل مع", at the
# end of a heading line too
CONTACT_VERB = re.compile(r"^.*?(?:(?<![\w@.+-])"
                          r"(?:contact(?:er|ar|e|o)?|joindre|comunicarse|diríjase|dirigirse)(?=[\s:]|$)"
                          r"(?:\s+(?:with|con|avec|a|à)(?=\s|:|$))?|(?:الاتصال|التواصل)\s*(?:مع|ب(?:ـ)?))"
                          r"\s*:?\s*", re.I)
# "Jane Doe at jdoe@example.org or +41 ...": a joining word before an address or a number
JOINER = re.compile(r"\s+(?:at|à|en|a|on|au|al|or|ou|o|y|and|et)\s+(?=[\w.+-]+@|\+?\d)", re.I)
CONJUNCTION = re.compile(r"^(?:or|and|ou|et|o|y|و)\s+", re.I)
# "jdoe@example.org or John Roe": the conjunction after an address starts the next contact
AFTER_EMAIL = re.compile(r"(@[\w-]+(?:\.[\w-]+)+)\s+(?:or|and|ou|et|o|y|و)\s+", re.I)
# a line that is only a conjunction between two contacts ("or", "ou", "o")
BARE_CONJUNCTION = re.compile(r"(?:or|and|ou|et|o|y|و)", re.I)


def decode_cfemail(encoded: str) -> str | None:
    """Decode a Cloudflare-obfuscated address (hex; the first byte is the XOR key).

    >>> decode_cfemail("543e3b3c3a143d3b397a3d3a20")
    'john@iom.int'
    """
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    text = bytes(b ^ key for b in data[1:]).decode("utf-8", errors="replace")
    return text if EMAIL.fullmatch(text) else None


def reveal_cfemails(soup: BeautifulSoup) -> None:
    """Replace Cloudflare email-protection markup with the plain addresses."""
    for element in soup.select("[data-cfemail]"):
        address = decode_cfemail(str(element.get("data-cfemail", "")))
        if address:
            element.replace_with(address)
    for link in soup.select("a[href*='/cdn-cgi/l/email-protection#']"):
        address = decode_cfemail(str(link.get("href", "")).rsplit("#", 1)[-1])
        if address:
            link["href"] = f"mailto:{address}"
            if "email" in link.get_text().lower() and "@" not in link.get_text():
                link.string = address


def region_emails(region: Tag) -> list[str]:
    """Return the addresses in a region (links and text), outside asides, in page order."""
    found: dict[str, None] = {}  # ordered, with constant-time membership
    for link in region.select("a[href^='mailto:']"):
        if not in_side_region(link):
            address = str(link.get("href", ""))[7:].split("?")[0].strip()
            if EMAIL.fullmatch(address):
                found.setdefault(address.lower(), None)
    for text in region.find_all(string=EMAIL):
        parent = text.parent
        if isinstance(parent, Tag) and not in_side_region(parent):
            for address in EMAIL.findall(str(text)):
                found.setdefault(address.lower(), None)
    return list(found)


# words that belong to the sentence or the labels around a contact, never to a name or an office
PHRASE_WORD = re.compile(r"(?<!\w)(?:please|veuillez|póngase|diríjase|يرجى|e-?mail|courriel|correo|"
                         r"tel|tél|phone|teléfono|هاتف)(?!\w)", re.I)

BLOCKS = ("p", "li", "div", "dt", "dd", "tr", "ul", "ol", "dl", "section", "address", "table")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
CONTACTS_CLASS = re.compile("contact", re.I)


def block_lines(block: Tag) -> list[str]:
    """Return the lines of a contacts block: one per paragraph, list item or <br>, headings out.

    Links and spans stay inside their line ("Email: <a>x@y.org</a>" is one line), so that a
    label, a name and an address written together are read together.
    """
    copy = BeautifulSoup(str(block), "html.parser")
    for heading in copy.find_all(HEADINGS):
        heading.decompose()
    for br in copy.find_all("br"):
        br.replace_with("\n")
    for element in copy.find_all(BLOCKS):
        element.insert_before("\n")
        element.insert_after("\n")
    return [line for line in (squash(text) for text in copy.get_text().split("\n")) if line]


def find_contacts_block(region: Tag) -> Tag | None:
    """Return the outermost element named after contacts that holds an address, outside asides."""
    for element in region.find_all(class_=CONTACTS_CLASS):
        if in_side_region(element):
            continue
        if element.find("a", href=re.compile("^mailto:", re.I)) or EMAIL.search(element.get_text()):
            return element
    return None


def parse_contacts(lines: list[str], openers: list[str]) -> list[Contact]:
    """Read contacts from the lines of a contacts block (or contact paragraphs)."""
    contacts: list[Contact] = []
    current = Contact()
    folded_openers = [fold(o) for o in openers]
    for raw in lines:
        line = squash(raw)
        if not line:
            continue
        opener = next((o for o in folded_openers if fold(line).startswith(o)), None)
        if opener is not None:
            # "For more information, please contact A, ..." or "Media contacts: A, ..."
            verb = CONTACT_VERB.match(line)
            line = line[verb.end():] if verb else line[len(opener):].lstrip(" :,.-–")
        for part in _parts(line):
            current = _add(contacts, current, part)
    if _filled(current):
        contacts.append(current)
    return contacts


def _parts(line: str) -> list[str]:
    line = AFTER_EMAIL.sub(r"\1, ", JOINER.sub(", ", line))
    # an office written with a comma ("NMA Libya, Tripoli") is joined again in _add
    pieces = re.split(r"\s*[,;|،؛]\s*|\s+[–—-]\s+", line)
    parts = [CONJUNCTION.sub("", p.strip(" .:")) for p in pieces]
    return [p for p in parts if p and not BARE_CONJUNCTION.fullmatch(p)]


def _add(contacts: list[Contact], current: Contact, part: str) -> Contact:
    email = EMAIL.search(part)
    if email:
        if current.email:
            contacts.append(current)
            current = Contact()
        current.email = email.group(0).lower()
        return current
    labelled = PHONE_LABEL.match(part)
    phone = PHONE.search(part)
    if labelled or (phone and len(phone.group(0)) >= 8 and len(part) - len(phone.group(0)) < 12):
        number = phone.group(0).strip() if phone else PHONE_LABEL.sub("", part)
        if current.phone:
            current.phone += ", " + number
        else:
            current.phone = number
        return current
    if EMAIL_LABEL.match(part) or len(part) > 80:
        return current
    if current.name and (current.email or current.phone):
        contacts.append(current)
        current = Contact()
    if current.name is None and _looks_like_name(part):
        current.name = part
    elif current.office is None:
        current.office = part
    elif not (current.email or current.phone):
        # "NMA Libya, Tripoli": an office written with a comma, before the contact's details
        current.office += ("، " if re.search("[\u0600-\u06ff]", part) else ", ") + part
    return current


def _looks_like_name(text: str) -> bool:
    tokens = text.split()
    if not 1 < len(tokens) <= 5:
        return False
    if re.search("[\u0600-\u06ff]", text):
        return True
    return all(t[0].isupper() or t.lower() in ("de", "da", "del", "van", "von", "el", "al", "bin", "ben")
               for t in tokens)


def _filled(contact: Contact) -> bool:
    return any((contact.name, contact.email, contact.phone))


DOUBTS = ("no-name", "not-a-name", "odd-office", "no-address")


def contact_doubts(contact: Contact) -> list[str]:
    """Say what looks wrong in a contact (DOUBTS), for staff to check; [] when it looks right.

    >>> contact_doubts(Contact(name="Chiara Lombardi", office="or", email="c@example.org"))
    ['odd-office']
    >>> contact_doubts(Contact(email="press@example.org"))
    ['no-name']
    """
    doubts = []
    name, office = contact.name or "", contact.office or ""
    if not name:
        doubts.append("no-name")
    elif not _looks_like_name(name) or _is_phrase(name) or re.search(r"[\d@:,،]", name):
        doubts.append("not-a-name")
    if office and (_is_phrase(office) or BARE_CONJUNCTION.fullmatch(office) or "@" in office):
        doubts.append("odd-office")
    if name and not (contact.email or contact.phone):
        doubts.append("no-address")
    return doubts


def _is_phrase(text: str) -> bool:
    """Tell whether text holds words of the sentence around a contact (a verb, a label)."""
    return bool(CONTACT_VERB.match(text) or CONJUNCTION.match(text) or PHRASE_WORD.search(text))
