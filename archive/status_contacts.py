"""Press contacts that cleaning may have got wrong, for the status page: staff check them.

A contact is doubtful when its name does not read as a name ("، يرجى التواصل مع", "Maysa
Khalil, Email"), its office is a piece of the sentence around it ("or", "veuillez contacter"),
it has an address but no name, or a name but no way to reach it (archive.cleaning.contacts).
Read-only over the latest version of each release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from archive.cleaning.contacts import contact_doubts
from archive.database import Database
from archive.release import Contact
from archive.status_sql import contact_rows


@dataclass(frozen=True)
class DoubtfulContact:
    """A contact of a release that does not read right, and why (archive.cleaning.contacts.DOUBTS)."""

    site: str
    url: str
    release_id: str
    name: str | None
    office: str | None
    email: str | None
    doubts: tuple[str, ...]


def doubtful_contacts(db: Database, limit: int) -> tuple[int, list[DoubtfulContact]]:
    """Count the doubtful contacts of the latest releases and list the first `limit`."""
    count, listed = 0, list[DoubtfulContact]()
    for site, rid, url, contacts in db.execute(contact_rows(db)):
        for data in json.loads(contacts or "[]"):
            contact = Contact(**{k: data.get(k) for k in ("name", "office", "email", "phone")})
            doubts = contact_doubts(contact)
            if doubts:
                count += 1
                if len(listed) < limit:
                    listed.append(DoubtfulContact(site, url or "", rid or "", contact.name,
                                                  contact.office, contact.email, tuple(doubts)))
    return count, listed
