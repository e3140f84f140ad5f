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

CONTACT_ROWS = """
WITH latest AS (SELECT document_id, MAX(version) AS version FROM cleaned
                WHERE is_release = 1 GROUP BY document_id)
SELECT c.site, c.release_id, json_extract(c.release, '$.url'), json_extract(c.release, '$.contacts')
FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
WHERE c.is_release = 1 AND coalesce(json_array_length(c.release, '$.contacts'), 0) > 0
ORDER BY c.site, json_extract(c.release, '$.url')
"""


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
    for site, rid, url, contacts in db.execute(CONTACT_ROWS):
        for data in json.loads(contacts or "[]"):
            contact = Contact(**{k: data.get(k) for k in ("name", "office", "email", "phone")})
            doubts = contact_doubts(contact)
            if doubts:
                count += 1
                if len(listed) < limit:
                    listed.append(DoubtfulContact(site, url or "", rid or "", contact.name,
                                                  contact.office, contact.email, tuple(doubts)))
    return count, listed
