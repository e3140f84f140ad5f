"""The settings chain: defaults, user file, environment, flags; and one clear line per mistake."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from archive import settings as settings_module
from archive.errors import SettingsError
from archive.settings import (
    SECTIONS,
    SiteConfig,
    adhoc_site,
    defaults_file,
    load_settings,
)
from tests.conftest import ROOT


def documented_keys(path: Path) -> set[str]:
    """Keys that have a comment on the line right above them."""
    keys, previous = set(), ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z_][\w-]*)\s*=", line)
        if match and previous.startswith("#"):
            keys.add(match.group(1))
        previous = line.strip()
    return keys


def test_every_setting_is_documented_in_the_defaults_file() -> None:
    fields = {f.name for cls in (*SECTIONS.values(), SiteConfig)
              for f in dataclasses.fields(cls)} - {"key"}
    missing = (fields | {"data_dir", "log_level"}) - documented_keys(defaults_file())
    assert not missing, f"settings without a comment in {defaults_file()}: {sorted(missing)}"


def test_the_defaults_are_read_from_the_package_that_maps_config() -> None:
    # in a checkout (editable install) the package archive.defaults is config/ itself
    assert defaults_file() == ROOT / "config" / "pressroom.toml"
    settings = load_settings(environ={})
    assert settings.sources["crawl.delay"] == str(ROOT / "config" / "pressroom.toml")


def test_missing_shipped_defaults_are_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "DEFAULTS_PACKAGE", "archive.no_such_defaults")
    with pytest.raises(SettingsError, match=r"archive\.no_such_defaults.*not installed.*reinstall"):
        load_settings(environ={})


def test_defaults_load_and_describe_the_iom_newsroom(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": str(tmp_path)}, environ={})
    iom = settings.sites["iom"]
    assert "https://www.iom.int/fr/news" in iom.start_urls
    assert iom.languages == ["en", "fr", "es", "ar"]
    assert iom.allowed("https://www.iom.int/es/news/some-release")
    assert not iom.allowed("https://www.iom.int/search?keys=x")
    assert not iom.allowed("https://evil.example/news/x")
    assert "libya.iom.int" in settings.sites["iom-libya"].hosts
    assert settings.crawl.delay == 1.0 and settings.crawl.max_body_bytes == 10 * 1024 * 1024
    assert settings.crawl.contact_url in settings.crawl.user_agent


def test_layers_apply_in_order(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('log_level = "DEBUG"\n[crawl]\ndelay = 3.0\nretries = 1\n')
    env = {"PRESSROOM_CRAWL_DELAY": "2.5", "PRESSROOM_DATA_DIR": str(tmp_path / "env-data")}
    settings = load_settings(user, {"crawl.retries": 7}, environ=env)
    assert settings.log_level == "DEBUG"              # user file over defaults
    assert settings.crawl.delay == 2.5                # environment over user file
    assert settings.crawl.retries == 7                # flags over everything
    assert settings.data_dir == tmp_path / "env-data"
    assert settings.crawl.read_timeout == 15.0        # untouched default
    assert settings.sources["crawl.delay"] == "environment variable PRESSROOM_CRAWL_DELAY"


def test_config_file_from_environment_and_sites_replaced(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[sites.demo]\nname = "Demo"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                    'sitemaps = []\nallow = []\ndeny = []\nlanguages = ["en"]\n')
    settings = load_settings(overrides={"data_dir": str(tmp_path)},
                             environ={"PRESSROOM_CONFIG": str(user)})
    assert list(settings.sites) == ["demo"]
    assert settings.sites["demo"].hosts == {"127.0.0.1:9"}


def test_list_setting_from_environment(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": str(tmp_path)},
                             environ={"PRESSROOM_CRAWL_TRACKING_PARAMS": '["ref", "utm_*"]'})
    assert settings.crawl.tracking_params == ["ref", "utm_*"]


@pytest.mark.parametrize(("content", "expected"), [
    ("[crawl]\ndelai = 2\n", r"user\.toml: unknown setting 'crawl\.delai'"),
    ("colour = 1\n", r"user\.toml: unknown setting 'colour'"),
    ('[crawl]\ndelay = "fast"\n', r"user\.toml: crawl\.delay must be float, not 'fast'"),
    ("[crawl]\nretries = 1.5\n", r"user\.toml: crawl\.retries must be int"),
    ("[crawl]\nkeep_alive = 1\n", r"user\.toml: crawl\.keep_alive must be bool"),
    ("[crawl]\ndelay = -1\n", r"user\.toml: crawl\.delay must not be negative"),
    ('log_level = "LOUD"\n', r"user\.toml: log_level must be one of"),
    ("[index]\nprocs = 0\n", r"user\.toml: index\.procs must be between 1 and 64"),
    ("[index]\nnice = 20\n", r"user\.toml: index\.nice must be between 0 and 19"),
    ("[crawl]\nnice = 25\n", r"user\.toml: crawl\.nice must be between 0 and 19"),
    ("[index]\nmemory_mb = 4\n", r"user\.toml: index\.memory_mb must be at least 16"),
    ("[crawl\n", r"user\.toml: not valid TOML"),
    ('[sites.x]\nname = "X"\nstart_urls = ["http://a.example/"]\nsitemaps = []\n'
     'allow = ["news/("]\ndeny = []\nlanguages = []\n',
     r"user\.toml: sites\.x\.allow: bad regular expression 'news/\('"),
    ('[sites.x]\nname = "X"\nstart_urls = ["ftp://a.example/"]\nsitemaps = []\n'
     'allow = []\ndeny = []\nlanguages = []\n', r"sites\.x: 'ftp://a\.example/' is not an http\(s\) URL"),
    ('[sites.x]\nname = "X"\nstart_urls = ["http://a.example/"]\ncolour = 1\n',
     r"unknown setting 'sites\.x\.colour'"),
    ('[sites.x]\nname = "X"\nstart_urls = ["http://me:pw@a.example/"]\nsitemaps = []\n'
     'allow = []\ndeny = []\nlanguages = []\n', r"sites\.x: .* is refused \(userinfo-in-url\)"),
    ('[sites.x]\nname = "X"\nstart_urls = []\nsitemaps = ["http://10.0.0.1\\\\@a.example/s.xml"]\n'
     'allow = []\ndeny = []\nlanguages = []\n', r"sites\.x: .* is refused \(backslash-in-host\)"),
])
def test_bad_user_settings_name_the_key_and_the_file(tmp_path: Path, content: str,
                                                     expected: str) -> None:
    user = tmp_path / "user.toml"
    user.write_text(content)
    with pytest.raises(SettingsError, match=expected) as info:
        load_settings(user, {"data_dir": str(tmp_path)}, environ={})
    assert "\n" not in str(info.value)


def test_bad_environment_variables_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PRESSROOM_CRAWL_DELAI: no such setting"):
        load_settings(overrides={"data_dir": str(tmp_path)}, environ={"PRESSROOM_CRAWL_DELAI": "1"})
    with pytest.raises(SettingsError, match=r"PRESSROOM_CRAWL_DELAY: 'x' is not a valid value"):
        load_settings(overrides={"data_dir": str(tmp_path)}, environ={"PRESSROOM_CRAWL_DELAY": "x"})


def test_unusable_data_dir_names_where_it_came_from(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    expected = r"environment variable PRESSROOM_DATA_DIR: data_dir .* cannot be created"
    with pytest.raises(SettingsError, match=expected):
        load_settings(environ={"PRESSROOM_DATA_DIR": str(blocker / "data")})


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"nowhere\.toml: settings file not found"):
        load_settings(tmp_path / "nowhere.toml", environ={})


def test_adhoc_site_is_limited_to_the_start_host() -> None:
    site = adhoc_site(["http://127.0.0.1:8000/", "http://127.0.0.1:8000/fr"])
    assert site.hosts == {"127.0.0.1:8000"}
    assert site.allowed("http://127.0.0.1:8000/news/x")
    assert not site.allowed("http://127.0.0.1:8001/news/x")
    with pytest.raises(SettingsError):
        adhoc_site(["file:///etc/passwd"])


def test_batch_commands_lower_their_cpu_priority() -> None:
    import subprocess
    import sys

    code = ("import os; from archive.cli_common import lower_priority; before = os.nice(0); "
            "lower_priority(7); print(os.nice(0) - before)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.strip() == "7"


@pytest.mark.parametrize(("rules", "expected"), [
    ('match = "div.article"\ndate = "time[datetime"',
     r"user\.toml: sites\.x\.page_rules: page rules 'x\.date': bad CSS selector 'time\[datetime'"),
    ('match = "div..article"', r"page rules 'x\.match': bad CSS selector"),
    ('match = "body"\nexclude = ["aside", ">>"]', r"page rules 'x\.exclude': bad CSS selector '>>'"),
    ('match = "body"\ntitle = 3', r"page rules 'x\.title' must be a CSS selector"),
])
def test_a_bad_page_rule_selector_is_a_settings_error_naming_its_key(
        tmp_path: Path, rules: str, expected: str) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[sites.x]\nname = "X"\nstart_urls = ["http://a.example/"]\nsitemaps = []\n'
                    f'allow = []\ndeny = []\nlanguages = []\n[sites.x.page_rules]\n{rules}\n')
    with pytest.raises(SettingsError, match=expected) as info:
        load_settings(user, {"data_dir": str(tmp_path)}, environ={})
    assert "\n" not in str(info.value)


def test_the_shipped_page_rules_all_compile() -> None:
    from archive.cleaning.vocab import load_vocabulary

    assert load_vocabulary().rules
