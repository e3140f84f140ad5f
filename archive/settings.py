"""Load, layer and check Pressroom's settings.

Layers, each over the one before: config/pressroom.toml (the commented defaults), a user file
(--config or PRESSROOM_CONFIG), PRESSROOM_* environment variables, command-line overrides.

config/ ships inside the installed package as `archive.defaults` (pyproject.toml maps it), so
the defaults are found through importlib.resources in a checkout, an editable install and a wheel.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.errors import SettingsError

DEFAULTS_PACKAGE = "archive.defaults"
ENV_PREFIX = "PRESSROOM_"
ENV_RESERVED = {"PRESSROOM_CONFIG"}


@dataclass(frozen=True)
class CrawlSettings:
    operator: str
    contact_url: str
    robots_agent: str
    delay: float
    max_crawl_delay: float
    connect_timeout: float
    read_timeout: float
    fetch_deadline: float
    max_body_bytes: int
    max_redirects: int
    retries: int
    backoff: float
    max_retry_after: float
    max_pages_per_host: int
    max_depth: int
    max_url_length: int
    max_repeated_segments: int
    max_links_per_page: int
    max_query_variants: int
    tracking_params: list[str]
    strip_trailing_slash: bool
    sitemap_lastmod_skip: bool
    recheck_days: int
    keep_alive: bool
    nice: int

    @property
    def user_agent(self) -> str:
        """The User-Agent header: product, operator and contact URL."""
        return f"{self.robots_agent}/0.1 (+{self.contact_url}; {self.operator})"


@dataclass(frozen=True)
class WebSettings:
    search_rate: float
    search_burst: float
    export_rate: float
    export_burst: float
    page_rate: float
    page_burst: float
    raw_max_bytes: int
    base_url: str
    allowed_hosts: list[str]
    trusted_proxies: list[str]
    header_timeout: float
    socket_timeout: float
    max_connections: int
    robots_allow_search: bool


@dataclass(frozen=True)
class IndexSettings:
    procs: int
    memory_mb: int
    nice: int


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str
    jitter: float
    poll: float
    index_after_crawl: bool


@dataclass(frozen=True)
class StaffSettings:
    secure_cookies: bool
    session_hours: float
    login_rate: float
    login_burst: float


@dataclass(frozen=True)
class RequisiteSettings:
    enabled: bool
    max_count: int
    max_bytes: int
    types: list[str]


REQUISITE_TYPES = ("stylesheet", "image", "font", "document")


@dataclass(frozen=True)
class IdentitySettings:
    name: str
    logo: str
    accent: str


@dataclass(frozen=True)
class ArchiveSettings:
    warc_max_bytes: int
    warc_prefix: str
    database: str
    warc_dir: str


@dataclass(frozen=True)
class SiteConfig:
    key: str
    name: str
    start_urls: list[str]
    sitemaps: list[str]
    allow: list[str]
    deny: list[str]
    languages: list[str]
    page_rules: dict[str, Any] = field(default_factory=dict)
    schedule: str = ""
    requisite_hosts: list[str] = field(default_factory=list)

    @property
    def hosts(self) -> frozenset[str]:
        """Host[:port] of every start URL and sitemap: the only hosts crawled for this site."""
        return frozenset(netloc(u) for u in [*self.start_urls, *self.sitemaps])

    def allowed(self, url: str) -> bool:
        """Tell whether a discovered URL is in scope: on a site host, allowed, not denied."""
        if netloc(url) not in self.hosts:
            return False
        if any(re.search(p, url) for p in self.deny):
            return False
        return not self.allow or any(re.search(p, url) for p in self.allow)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    log_level: str
    crawl: CrawlSettings
    archive: ArchiveSettings
    web: WebSettings
    index: IndexSettings
    schedule: ScheduleSettings
    staff: StaffSettings
    requisites: RequisiteSettings
    identity: IdentitySettings
    sites: dict[str, SiteConfig]
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def replace_crawl(self, **changes: Any) -> Settings:
        """Return a copy with some crawl settings changed."""
        return dataclasses.replace(self, crawl=dataclasses.replace(self.crawl, **changes))


def netloc(url: str) -> str:
    """Return the lower-cased host[:port] of a URL, without a default port.

    >>> netloc("HTTPS://www.Example.org:443/news")
    'www.example.org'
    >>> netloc("http://127.0.0.1:8080/")
    '127.0.0.1:8080'
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return host
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return host
    return f"{host}:{port}"


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg", ".webp": "image/webp"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SECTIONS: dict[str, type] = {"crawl": CrawlSettings, "archive": ArchiveSettings, "web": WebSettings,
                             "index": IndexSettings, "schedule": ScheduleSettings, "staff": StaffSettings,
                             "requisites": RequisiteSettings, "identity": IdentitySettings}
SITE_FIELDS = {f.name: f for f in dataclasses.fields(SiteConfig) if f.name != "key"}
REGEX_LISTS = {"allow", "deny"}
OPTIONAL_SITE_FIELDS: dict[str, Any] = {"page_rules": {}, "schedule": "", "requisite_hosts": []}


def load_settings(
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from the defaults, a user file, the environment and overrides.

    Overrides are keyed by dotted path ("crawl.delay", "data_dir"); None values are ignored.
    """
    environ = os.environ if environ is None else environ
    defaults = defaults_file()
    raw = read_toml(defaults)
    sources = {key: str(defaults) for key in _leaf_paths(raw)}
    config_file = config_file or environ.get("PRESSROOM_CONFIG")
    if config_file:
        user_path = Path(config_file)
        user = read_toml(user_path)
        _check_known(user, raw, str(user_path))
        if "sites" in user:
            raw["sites"] = {}
        _merge(raw, user)
        sources.update({key: str(user_path) for key in _leaf_paths(user)})
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name not in ENV_RESERVED:
            path = _env_path(name, raw)
            _set(raw, path, _parse_env(value, _get(raw, path), name))
            sources[".".join(path)] = f"environment variable {name}"
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        path = dotted.split(".")
        if _get(raw, path) is _MISSING:
            raise SettingsError(f"unknown setting {dotted!r} given on the command line")
        _set(raw, path, value)
        sources[dotted] = "the command line"
    return _build(raw, sources)


_MISSING = object()


def defaults_dir() -> Path:
    """Return the folder of the shipped defaults: config/ in a checkout, archive/defaults/ installed."""
    try:
        folder = importlib.resources.files(DEFAULTS_PACKAGE)
    except ModuleNotFoundError:
        raise SettingsError(f"the shipped defaults (package {DEFAULTS_PACKAGE}) are not installed: "
                            "reinstall Pressroom (make install, or pip install -e .)") from None
    if not isinstance(folder, Path):  # a zipped install: its TOML files have no path to open
        raise SettingsError(f"the shipped defaults in {folder} are not plain files: install "
                            "Pressroom unzipped (pip does)")
    return folder


def defaults_file() -> Path:
    """Return the shipped pressroom.toml, the bottom layer of the settings."""
    return defaults_dir() / "pressroom.toml"


def read_toml(path: Path, kind: str = "settings") -> dict[str, Any]:
    """Read a TOML file; a missing or malformed one stops with one line naming it."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"{path}: {kind} file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None


def _leaf_paths(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key != "page_rules":
            paths.extend(_leaf_paths(value, path + "."))
        else:
            paths.append(path)
    return paths


def _check_known(user: Mapping[str, Any], defaults: Mapping[str, Any], origin: str) -> None:
    for key, value in user.items():
        if key == "sites":
            if not isinstance(value, dict):
                raise SettingsError(f"{origin}: 'sites' must be a table of sites")
            continue
        if key not in defaults:
            raise SettingsError(f"{origin}: unknown setting {key!r}")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise SettingsError(f"{origin}: {key!r} must be a table")
            for sub in value:
                if sub not in defaults[key]:
                    raise SettingsError(f"{origin}: unknown setting '{key}.{sub}'")


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "page_rules":
            _merge(base[key], value)
        else:
            base[key] = value


def _get(table: Mapping[str, Any], path: list[str]) -> Any:
    node: Any = table
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set(table: dict[str, Any], path: list[str], value: Any) -> None:
    node = table
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _env_path(name: str, raw: Mapping[str, Any]) -> list[str]:
    """Map PRESSROOM_CRAWL_DELAY to ["crawl", "delay"] by matching known setting names."""
    wanted = name[len(ENV_PREFIX):].lower()
    for key, value in raw.items():
        if key == "sites":
            continue
        if not isinstance(value, dict) and key == wanted:
            return [key]
        if isinstance(value, dict):
            for sub in value:
                if f"{key}_{sub}" == wanted:
                    return [key, sub]
    raise SettingsError(f"environment variable {name}: no such setting")


def _parse_env(value: str, current: Any, name: str) -> Any:
    if isinstance(current, str):
        return value
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        raise SettingsError(f"environment variable {name}: {value!r} is not a valid value") from None


def _build(raw: dict[str, Any], sources: dict[str, str]) -> Settings:
    def origin(path: str) -> str:
        if path in sources:
            return sources[path]
        inside = [v for k, v in sources.items() if k.startswith(path + ".")]
        return inside[-1] if inside else sources.get(path.rsplit(".", 1)[0], "settings")

    for key in raw:
        if key not in ("data_dir", "log_level", "sites", *SECTIONS):
            raise SettingsError(f"{origin(key)}: unknown setting {key!r}")
    sections = {
        name: cls(**{f.name: _check_value(f"{name}.{f.name}", raw[name].get(f.name, _MISSING),
                                          f.type, origin(f"{name}.{f.name}"))
                     for f in dataclasses.fields(cls)})
        for name, cls in SECTIONS.items()
    }
    level = str(_check_value("log_level", raw.get("log_level"), "str", origin("log_level"))).upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"{origin('log_level')}: log_level must be one of {', '.join(LOG_LEVELS)}")
    data_dir = Path(_check_value("data_dir", raw.get("data_dir"), "str", origin("data_dir")))
    _check_data_dir(data_dir, origin("data_dir"))
    sites = {key: _build_site(key, value, origin) for key, value in raw.get("sites", {}).items()}
    crawl: CrawlSettings = sections["crawl"]
    _check_positive(crawl, origin)
    if crawl.nice > 19:
        raise SettingsError(f"{origin('crawl.nice')}: crawl.nice must be between 0 and 19")
    index: IndexSettings = sections["index"]
    if not 1 <= index.procs <= 64:
        raise SettingsError(f"{origin('index.procs')}: index.procs must be between 1 and 64")
    if not 0 <= index.nice <= 19:
        raise SettingsError(f"{origin('index.nice')}: index.nice must be between 0 and 19")
    if index.memory_mb < 16:
        raise SettingsError(f"{origin('index.memory_mb')}: index.memory_mb must be at least 16")
    _check_web(sections["web"], origin)
    _check_archive(sections["archive"], origin)
    requisites: RequisiteSettings = sections["requisites"]
    _check_requisites(requisites, origin)
    identity: IdentitySettings = sections["identity"]
    if not re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", identity.accent):
        raise SettingsError(f"{origin('identity.accent')}: identity.accent must be a colour "
                            "such as #0b5cad")
    if identity.logo and Path(identity.logo).suffix.lower() not in LOGO_TYPES:
        raise SettingsError(f"{origin('identity.logo')}: identity.logo must be an image file "
                            f"({', '.join(LOGO_TYPES)})")
    return Settings(data_dir=data_dir, log_level=level, crawl=crawl,
                    archive=sections["archive"], web=sections["web"], index=sections["index"],
                    schedule=sections["schedule"],
                    staff=sections["staff"], requisites=requisites, identity=identity, sites=sites,
                    sources=sources)


DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _check_archive(archive: ArchiveSettings, origin: Any) -> None:
    scheme = archive.database.split(":", 1)[0] if "://" in archive.database else ""
    if archive.database and scheme not in DATABASE_SCHEMES:
        raise SettingsError(f"{origin('archive.database')}: archive.database must be empty (SQLite "
                            "files in the data directory), sqlite:///PATH or postgresql://USER@HOST"
                            f"/NAME, not {archive.database!r}")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", archive.warc_prefix):
        raise SettingsError(f"{origin('archive.warc_prefix')}: archive.warc_prefix may hold only "
                            "letters, digits, '.', '_' and '-'")


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list[str]": (list,), "dict[str, Any]": (dict,), "Path": (str,),
}


def _check_value(path: str, value: Any, type_name: Any, origin: str) -> Any:
    if value is _MISSING or value is None:
        raise SettingsError(f"{origin}: setting {path!r} is missing")
    name = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", "")
    allowed = _TYPES[name]
    if isinstance(value, bool) and bool not in allowed:
        raise SettingsError(f"{origin}: {path} must be {name}, not {value!r}")
    if not isinstance(value, allowed):
        raise SettingsError(f"{origin}: {path} must be {name}, not {value!r}")
    checked: Any = value
    if name == "list[str]" and not all(isinstance(v, str) for v in checked):
        raise SettingsError(f"{origin}: {path} must be a list of strings")
    return float(checked) if name == "float" else checked


def _check_positive(crawl: CrawlSettings, origin: Any) -> None:
    for f in dataclasses.fields(crawl):
        value = getattr(crawl, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise SettingsError(f"{origin('crawl.' + f.name)}: crawl.{f.name} must not be negative")


def _check_web(web: WebSettings, origin: Any) -> None:
    for f in dataclasses.fields(web):
        value = getattr(web, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise SettingsError(f"{origin('web.' + f.name)}: web.{f.name} must be positive")
    if web.base_url:
        parts = urlsplit(web.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(f"{origin('web.base_url')}: web.base_url must be an http(s) URL "
                                f"with no query, such as https://press.example.org")
    for proxy in web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(f"{origin('web.trusted_proxies')}: web.trusted_proxies: {proxy!r} "
                                f"is not an IP address or network") from None


def _check_requisites(requisites: RequisiteSettings, origin: Any) -> None:
    if requisites.max_count < 0 or requisites.max_bytes < 0:
        raise SettingsError(f"{origin('requisites.max_count')}: requisites.max_count and "
                            "requisites.max_bytes must not be negative")
    unknown = sorted(set(requisites.types) - set(REQUISITE_TYPES))
    if unknown:
        raise SettingsError(f"{origin('requisites.types')}: requisites.types: unknown "
                            f"{', '.join(unknown)} (known: {', '.join(REQUISITE_TYPES)})")


def _check_data_dir(path: Path, origin: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{origin}: data_dir {str(path)!r} cannot be created: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(f"{origin}: data_dir {str(path)!r} is not writable")


def _build_site(key: str, raw: Any, origin: Any) -> SiteConfig:
    where = origin(f"sites.{key}")
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: sites.{key} must be a table")
    for name in raw:
        if name not in SITE_FIELDS:
            raise SettingsError(f"{where}: unknown setting 'sites.{key}.{name}'")
    values: dict[str, Any] = {}
    for name, fld in SITE_FIELDS.items():
        value = raw.get(name, OPTIONAL_SITE_FIELDS.get(name, _MISSING))
        values[name] = _check_value(f"sites.{key}.{name}", value, fld.type, where)
    for name in REGEX_LISTS:
        for pattern in values[name]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SettingsError(f"{where}: sites.{key}.{name}: bad regular expression "
                                    f"{pattern!r}: {exc}") from None
    for url in [*values["start_urls"], *values["sitemaps"]]:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SettingsError(f"{where}: sites.{key}: {url!r} is not an http(s) URL")
        _check_unambiguous(url, f"{where}: sites.{key}")
    for host in values["requisite_hosts"]:
        if netloc(f"http://{host}/") != host or not host:
            raise SettingsError(f"{where}: sites.{key}.requisite_hosts: {host!r} is not a lower-case "
                                "host[:port] such as cdn.example.org")
    if not values["start_urls"] and not values["sitemaps"]:
        raise SettingsError(f"{where}: sites.{key} needs start_urls or sitemaps")
    if values["page_rules"]:
        # a late import: archive.cleaning.vocab itself reads these settings' files
        from archive.cleaning.vocab import page_rules_from

        page_rules_from(key, values["page_rules"], f"{where}: sites.{key}.page_rules")
    return SiteConfig(key=key, **values)


def _check_unambiguous(url: str, where: str) -> None:
    """Refuse a URL whose host the HTTP client would read otherwise (user info, backslashes)."""
    # a late import: archive.capture.urls needs these settings' types
    from archive.capture.urls import BadURL, split_url

    try:
        split_url(url)
    except BadURL as exc:
        raise SettingsError(f"{where}: {url!r} is refused ({exc.reason}): give the plain "
                            f"http(s)://host/path form") from None


def adhoc_site(urls: list[str]) -> SiteConfig:
    """Describe an ad-hoc site from start URLs: their hosts, everything on them allowed."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{url!r} is not an http(s) URL")
        _check_unambiguous(url, "start URL")
    key = re.sub(r"[^a-z0-9.-]+", "-", netloc(urls[0]))
    return SiteConfig(key=key, name=netloc(urls[0]), start_urls=list(urls), sitemaps=[],
                      allow=[], deny=[], languages=[])
