"""Replay captures through pywb's own WSGI app; run with the pywb venv's Python (make pywb).

Usage: pywb_replay.py COLLECTION OUT.json. Reads JSON [[timestamp, url], ...] on stdin; in the
current folder expects pywb's layout (collections/<coll>/indexes/*.cdxj, .../archive/). Writes
to OUT.json (pywb prints to stdout) one entry per capture: the status pywb answers in identity
mode (`<timestamp>id_`) and the SHA-256 of the body.
"""

from __future__ import annotations

import hashlib
import json
import sys

from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client


def main() -> None:
    """Replay each capture named on stdin in collection argv[1]; write pywb's answers to argv[2]."""
    coll = sys.argv[1]
    client = Client(FrontEndApp())
    out = []
    for timestamp, url in json.load(sys.stdin):
        resp = client.get(f"/{coll}/{timestamp}id_/{url}")
        body = resp.get_data()
        out.append({"status": resp.status_code, "sha256": hashlib.sha256(body).hexdigest(),
                    "length": len(body)})
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
