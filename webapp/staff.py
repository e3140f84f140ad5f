"""Staff pages under /staff: log in, queue crawls and upkeep jobs, see what the scheduler did.

No request here runs a crawl or touches the index: the buttons only add jobs to the queue in
pressroom/jobqueue.py, which the scheduler works through. Every staff route but the login needs a
login; every form carries a per-session CSRF token, checked on every unsafe method.
"""

from __future__ import annotations

import datetime
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from werkzeug.exceptions import BadRequest

from archive.layout import DataDir
from archive.settings import Settings
from pressroom.jobqueue import JobQueue
from webapp import security
from webapp.accounts import Accounts
from webapp.i18n import translate

bp = Blueprint("staff", __name__, url_prefix="/staff")
PREFIX = "/staff"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STAFF_JOBS = ("crawl", "reclean", "rebuild")
RECENT_JOBS = 30


def load_secret_key(data_dir: Path) -> bytes:
    """Read DATA_DIR/secret_key, creating it (32 random bytes, mode 0600) on first use."""
    path = DataDir(Path(data_dir)).secret_key
    if not path.exists():
        # write a private temporary file, then link it into place: two first requests at once
        # both end up with the one key that won
        temporary = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(32))
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_bytes()
    if len(key) < 32:
        raise RuntimeError(f"{path} is shorter than 32 bytes: delete it to make a new one "
                           "(staff will have to log in again)")
    return key


def _signing_key(app: Flask) -> bytes:
    """The cookie key: DATA_DIR/secret_key, or the shared database's, which every node uses."""
    settings: Settings = app.extensions["pressroom_settings"]
    if not DataDir.of(settings).shared_database:
        return load_secret_key(app.config["DATA_DIR"])
    with Accounts.of(settings) as accounts:
        return accounts.signing_key()


class StaffSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for /staff only (public pages get no cookie), keyed per data dir
    (or per shared database)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return None
        if not app.secret_key:
            app.secret_key = _signing_key(app)
        return super().open_session(app, request)


@bp.record_once
def configure(state: BlueprintSetupState) -> None:
    """Set the session cookie, its key and lifetime, and the login rate limit on the app."""
    app = cast(Flask, state.app)
    settings: Settings = app.extensions["pressroom_settings"]
    staff = settings.staff
    app.session_interface = StaffSessions()
    # behind a path prefix (web.base_url), the browser sees /prefix/staff
    root = urlsplit(settings.web.base_url).path.rstrip("/") if settings.web.base_url else ""
    app.config.update(
        SESSION_COOKIE_NAME="pressroom_staff", SESSION_COOKIE_PATH=root + PREFIX,
        SESSION_COOKIE_SECURE=staff.secure_cookies, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=staff.session_hours))
    security.add_limit(app, "login", staff.login_rate, staff.login_burst)


def _accounts() -> Accounts:
    return Accounts.of(current_app.extensions["pressroom_settings"])


def _logged_in_user() -> str | None:
    """The staff member of this session's login, if it is still open on the server."""
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        return None
    with _accounts() as accounts:
        return accounts.session_user(session_id)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not (sent and isinstance(expected, str)
            and hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))):
        error = BadRequest()
        error.pressroom_message = translate("csrf_failed", g.ui)  # type: ignore[attr-defined]
        raise error


@bp.before_request
def guard() -> Any:
    """Send anonymous visitors to the login; refuse unsafe requests without the CSRF token."""
    if request.endpoint != "staff.login":
        g.staff_user = _logged_in_user()
        if g.staff_user is None:
            return redirect(url_for("staff.login"))
    if request.method in UNSAFE_METHODS:
        if request.endpoint == "staff.login":
            security.limit(current_app, "login")
        _check_csrf()
    return None


@bp.after_app_request
def never_stored(response: Response) -> Response:
    """Keep everything under /staff (the login and its errors too) out of every cache."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def staff_helpers() -> dict[str, Any]:
    """Give staff templates `csrf_token()`."""
    return {"csrf_token": csrf_token}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; a good name and password open a new session."""
    if request.method == "GET":
        if _logged_in_user():
            return redirect(url_for("staff.dashboard"))
        return render_template("staff_login.html", error=None, name="")
    name = request.form.get("name", "").strip()
    with _accounts() as accounts:
        if not accounts.authenticate(name, request.form.get("password", "")):
            return render_template("staff_login.html", error=translate("login_failed", g.ui),
                                   name=name), 401
        session_id = accounts.start_session(name)
    session.clear()                 # nothing from before the login survives it
    session["sid"] = session_id
    session.permanent = True
    return redirect(url_for("staff.dashboard"), 303)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the login on the server and in the browser."""
    with _accounts() as accounts:
        accounts.end_session(session["sid"])
    session.clear()
    flash(translate("logged_out", g.ui))
    return redirect(url_for("staff.login"), 303)


@bp.route("/")
def dashboard() -> Any:
    """The controls (a crawl per site, reclean, rebuild) and the recent jobs."""
    settings: Settings = current_app.extensions["pressroom_settings"]
    queue = JobQueue.of(settings)
    try:
        jobs = queue.recent(RECENT_JOBS)
    finally:
        queue.close()
    sites = sorted(settings.sites.values(), key=lambda site: site.key)
    return render_template("staff_dashboard.html", user=g.staff_user, sites=sites, jobs=jobs,
                           upkeep=[kind for kind in STAFF_JOBS if kind != "crawl"])


@bp.route("/jobs", methods=["POST"])
def queue_job() -> Any:
    """Queue a crawl of one site, a reclean or a rebuild, and go back to the dashboard at once."""
    settings: Settings = current_app.extensions["pressroom_settings"]
    kind = request.form.get("kind", "")
    site = request.form.get("site") or None
    if kind not in STAFF_JOBS or (kind == "crawl" and site not in settings.sites):
        raise BadRequest()
    if kind != "crawl":
        site = None
    queue = JobQueue.of(settings)
    try:
        job = queue.enqueue(kind, site, requested_by=g.staff_user)
    finally:
        queue.close()
    label = translate(f"kind_{kind}", g.ui) + (f" {site}" if site else "")
    flash(translate("job_queued", g.ui, id=job.id, kind=label))
    return redirect(url_for("staff.dashboard"), 303)
