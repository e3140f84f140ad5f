"""Names, not codes, where a person reads: countries, themes, languages, sites, dates, counts.

Countries are CLDR names in the interface language (babel), themes the vocabulary's labels,
languages their own names ("Français"), sites their configured names; dates and capture times
are formatted for the interface language, counts take its CLDR plural form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from archive.cleaning.vocab import Vocabulary
from archive.settings import Settings
from webapp.i18n import PLURALS, translate


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def own_name(code: str) -> str:
    """Name a language in itself, capitalised as a label: 'fr' -> 'Français'.

    >>> own_name("fr"), own_name("ar"), own_name("xx")
    ('Français', 'العربية', 'xx')
    """
    locale = _locale(code)
    name = locale.get_display_name(code) if locale else None
    return (name[:1].upper() + name[1:]) if name else code


class Names:
    """Turn the codes of one interface language's page into what a person reads."""

    def __init__(self, ui: str, settings: Settings, vocab: Vocabulary) -> None:
        self.ui = ui
        self._settings = settings
        self._vocab = vocab
        self._locale = _locale(ui) or Locale.parse("en")

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary the theme labels come from."""
        return self._vocab

    def country(self, code: str) -> str:
        """Name a country (ISO code) in the interface language."""
        return str(self._locale.territories.get(code, code))

    def theme(self, theme: str) -> str:
        """Name a theme with its label in the interface language."""
        return self._vocab.theme_label(theme, self.ui) if theme in self._vocab.themes else theme

    def language(self, code: str) -> str:
        """Name a language in itself ("Français"): a reader recognises their own language."""
        return own_name(code)

    def site(self, key: str) -> str:
        """Name a site as configured (its key when it is no longer configured)."""
        site = self._settings.sites.get(key)
        return site.name if site and site.name else key

    def date(self, value: str | None) -> str:
        """Format a YYYY-MM-DD date (or a timestamp's day) in the interface language."""
        if not value:
            return ""
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
        return format_date(day, "long", locale=self._locale)

    def moment(self, value: str | None) -> str:
        """Format a capture timestamp (ISO 8601) as a date and time, in UTC."""
        if not value:
            return ""
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return format_datetime(when, "medium", tzinfo=UTC, locale=self._locale) + " UTC"

    def number(self, n: int) -> str:
        """Format a number for the interface language (1,234; 1 234; 1.234)."""
        return format_decimal(n, locale=self._locale)

    def count(self, key: str, n: int) -> str:
        """Say a count with its noun in the CLDR plural form ("1 release", "بيانان")."""
        forms = PLURALS.get(key, {})
        table = forms.get(self.ui) or forms.get("en") or {}
        text = table.get(str(self._locale.plural_form(n))) or table.get("other")
        return text.format(n=self.number(n)) if text else translate(key, self.ui, n=self.number(n))
