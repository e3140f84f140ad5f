"""Staff accounts and their logins: DATA_DIR/staff.sqlite, or tables of the shared database.

Passwords are stored as scrypt hashes with their salt and parameters, so the cost can be raised
later without breaking old hashes. A login is a row in `sessions`: the signed cookie carries only
its random id, so logging out, changing a password or removing a user ends the login on the
server, not just in one browser. With [archive] database on PostgreSQL the accounts and logins
are tables of that database, so every web node behind a load balancer knows every login.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from archive import migrate
from archive.database import Database, IntegrityError
from archive.layout import DataDir
from archive.settings import Settings

MIN_PASSWORD = 12
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_SESSION_DAYS = 30           # a login ends after this long even when in use


class AccountError(Exception):
    """A staff account that cannot be added, changed or removed as asked."""


@dataclass(frozen=True)
class Account:
    """One staff member (never the password hash)."""

    name: str
    created: str
    last_login: str | None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * n * r + 1024 * 1024, dklen=32)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Hash a password with scrypt and a random 16-byte salt: 'scrypt$n$r$p$salt$hash'."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Tell whether a password matches a stored hash (in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def check_password(password: str) -> None:
    """Refuse a password that is too short."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


class Accounts:
    """The staff accounts and logins of one data directory."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():     # password hashes: readable by the owner only
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = Database(url, what="staff accounts")
        try:
            migrate.ensure(self._db, "staff")
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def of(cls, settings: Settings) -> Accounts:
        """Open the accounts of the settings' data directory (or shared database)."""
        return cls(DataDir.of(settings).store_url("staff"))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, name: str, password: str) -> Account:
        """Add a staff member; the name must be new and the password long enough."""
        if not NAME_PATTERN.fullmatch(name):
            raise AccountError(f"user name {name!r} is not allowed: use letters, digits and . _ @ -, "
                               "at most 64 characters")
        check_password(password)
        created = _now().isoformat(timespec="seconds")
        try:
            self._db.execute("INSERT INTO users (name, password, created) "
                             "VALUES (:name, :password, :created)",
                             {"name": name, "password": hash_password(password), "created": created})
        except IntegrityError:
            raise AccountError(f"user {name!r} already exists") from None
        return Account(name, created, None)

    def all_accounts(self) -> list[Account]:
        """Return every staff member, by name."""
        rows = self._db.execute("SELECT name, created, last_login FROM users ORDER BY name")
        return [Account(row.name, row.created, row.last_login) for row in rows]

    def remove(self, name: str) -> None:
        """Remove a staff member and end their logins."""
        with self._db.transaction():
            self._db.execute("DELETE FROM sessions WHERE name = :name", {"name": name})
            removed = self._db.execute("DELETE FROM users WHERE name = :name",
                                       {"name": name}).rowcount
        if removed == 0:
            raise AccountError(f"no user {name!r}")

    def set_password(self, name: str, password: str) -> None:
        """Change a password and end the user's logins."""
        check_password(password)
        with self._db.transaction():
            changed = self._db.execute("UPDATE users SET password = :password WHERE name = :name",
                                       {"password": hash_password(password), "name": name}).rowcount
            self._db.execute("DELETE FROM sessions WHERE name = :name", {"name": name})
        if changed == 0:
            raise AccountError(f"no user {name!r}")

    def authenticate(self, name: str, password: str) -> bool:
        """Check a name and password; on success record the login time."""
        row = self._db.execute("SELECT password FROM users WHERE name = :name",
                               {"name": name}).fetchone()
        if row is None:
            # hash anyway, so that an unknown name takes as long as a wrong password
            _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)
            return False
        ok = verify_password(password, row[0])
        if ok:
            self._db.execute("UPDATE users SET last_login = :now WHERE name = :name",
                             {"now": _now().isoformat(timespec="seconds"), "name": name})
        return ok

    def start_session(self, name: str) -> str:
        """Open a login for a user and return its random id."""
        session_id = secrets.token_urlsafe(32)
        oldest = (_now() - datetime.timedelta(days=MAX_SESSION_DAYS)).isoformat(timespec="seconds")
        self._db.execute("DELETE FROM sessions WHERE created < :oldest", {"oldest": oldest})
        self._db.execute("INSERT INTO sessions (id, name, created) VALUES (:id, :name, :created)",
                         {"id": session_id, "name": name,
                          "created": _now().isoformat(timespec="seconds")})
        return session_id

    def session_user(self, session_id: str) -> str | None:
        """Return the user of a login still open, or None."""
        oldest = (_now() - datetime.timedelta(days=MAX_SESSION_DAYS)).isoformat(timespec="seconds")
        row = self._db.execute("SELECT name FROM sessions WHERE id = :id AND created >= :oldest",
                               {"id": session_id, "oldest": oldest}).fetchone()
        return None if row is None else str(row[0])

    def end_session(self, session_id: str) -> None:
        """Close a login."""
        self._db.execute("DELETE FROM sessions WHERE id = :id", {"id": session_id})

    def signing_key(self, name: str = "session") -> bytes:
        """Return the key every web node signs staff cookies with, made on first use (32 bytes).

        For a shared database only: with SQLite the key is DATA_DIR/secret_key."""
        self._db.execute("INSERT INTO signing_keys (name, value, created) VALUES (:name, :value, "
                         ":created) ON CONFLICT (name) DO NOTHING",
                         {"name": name, "value": secrets.token_hex(32),
                          "created": _now().isoformat(timespec="seconds")})
        value = self._db.scalar("SELECT value FROM signing_keys WHERE name = :name", {"name": name})
        return bytes.fromhex(str(value))
