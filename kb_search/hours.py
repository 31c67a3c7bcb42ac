"""When the shop is open: the weekly hours, its country's public holidays and its own special days.

Public holidays come from the `holidays` package (computed, so next year's Easter and
Midsummer Eve are right without anyone typing them); `special_days` in store.yml overrides
them and the weekly hours for a date, e.g. shorter hours on 23 December. The built pages
carry the days that differ from the weekly hours, and kb.js reads them in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOSED = "closed"
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
# A special day every year ("12-23") or once ("2026-12-23").
_SPECIAL_DATE = re.compile(r"^(?:(\d{4})-)?(\d\d)-(\d\d)$")
# Public holidays, plus the days nearly every shop closes though no law says so (in Sweden:
# Midsummer Eve, Christmas Eve and New Year's Eve).
DEFAULT_CATEGORIES = ("public", "de_facto")
DEFAULT_NAME = "Special opening hours"


@dataclass(frozen=True)
class SpecialDay:
    day: date
    hours: str  # "HH:MM-HH:MM" or "closed"
    name: str


def valid_hours(text: object) -> bool:
    if text == CLOSED:
        return True
    if not isinstance(text, str) or not HOURS.match(text):
        return False
    opens, closes = text.split("-")
    return opens < closes


def problems(store: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with the store's holiday facts, each naming the field."""
    found: list[str] = []
    rules = store.get("holidays")
    if rules is not None:
        if not isinstance(rules, Mapping) or not isinstance(rules.get("country"), str):
            return [f"{where}: 'holidays' needs 'country', e.g. SE (public holidays: closed)"]
        if rules["country"] not in holidays.list_supported_countries():
            found.append(f"{where}: 'holidays.country' {rules['country']!r} is not a country code")
        else:
            known = holidays.country_holidays(rules["country"]).supported_categories
            categories = rules.get("categories", DEFAULT_CATEGORIES)
            if isinstance(categories, str):  # "public" alone would be checked letter by letter
                categories = [categories]
                found.append(f"{where}: 'holidays.categories' must be a list, e.g. [public]")
            for category in categories:
                if category not in known:
                    found.append(
                        f"{where}: 'holidays.categories' {category!r} is not one of "
                        + ", ".join(known)
                    )
    specials = store.get("special_days", [])
    if not isinstance(specials, list):
        return [*found, f"{where}: 'special_days' must be a list of date, hours and name"]
    for n, special in enumerate(specials, 1):
        field = f"'special_days' entry {n}"
        if not isinstance(special, Mapping):
            found.append(f"{where}: {field} must have date, hours and name")
            continue
        if not _SPECIAL_DATE.match(str(special.get("date", ""))) or not _dates(special, 2000):
            found.append(f"{where}: {field}: 'date' must be MM-DD (every year) or YYYY-MM-DD")
        if not valid_hours(special.get("hours")):
            found.append(f"{where}: {field}: 'hours' must be HH:MM-HH:MM or closed")
        if "name" in special and not str(special["name"] or "").strip():
            found.append(f"{where}: {field}: 'name' is empty")
    return found


def special_days(
    store: Mapping[str, Any], start: date, days: int, language: str = "en_US"
) -> list[SpecialDay]:
    """Every day from `start`, for `days` days, whose hours differ from the weekly ones."""
    end = start + timedelta(days=days)
    weekly: Mapping[str, str] = store["opening_hours"]
    found: dict[date, SpecialDay] = {}
    rules = store.get("holidays")
    if rules:
        calendar = holidays.country_holidays(
            rules["country"],
            years=range(start.year, end.year + 1),
            categories=tuple(rules.get("categories", DEFAULT_CATEGORIES)),
            language=language,
        )
        for day, name in calendar.items():
            if start <= day < end:
                found[day] = SpecialDay(day, CLOSED, name)
    for special in store.get("special_days", []):
        for day in _dates(special, start.year, end.year):
            if start <= day < end:
                name = special.get("name") or (found[day].name if day in found else DEFAULT_NAME)
                found[day] = SpecialDay(day, special["hours"], str(name))
    return [
        found[day] for day in sorted(found) if found[day].hours != weekly[WEEKDAYS[day.weekday()]]
    ]


def _dates(special: Mapping[str, Any], first_year: int, last_year: int | None = None) -> list[date]:
    """The dates a special day falls on between two years ([] when it names no real date)."""
    match = _SPECIAL_DATE.match(str(special.get("date", "")))
    if not match:
        return []
    once, month, day = match.groups()
    years = [int(once)] if once else range(first_year, (last_year or first_year) + 1)
    dates = []
    for year in years:
        try:
            dates.append(date(year, int(month), int(day)))
        except ValueError:
            # 29 February in a year without one: not that year (and an impossible date at all
            # shows as no date, which problems() reports).
            continue
    return dates
