"""Opening hours with the country's public holidays (the real `holidays` package) and the
shop's own special days."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from kb_search.hours import SpecialDay, problems, special_days
from tests.conftest import ROOT

WEEKLY = {
    "monday": "08:00-20:00",
    "tuesday": "08:00-20:00",
    "wednesday": "08:00-20:00",
    "thursday": "08:00-20:00",
    "friday": "08:00-18:00",
    "saturday": "10:00-16:00",
    "sunday": "closed",
}


def shop(**facts: Any) -> dict[str, Any]:
    return {"opening_hours": WEEKLY, "holidays": {"country": "SE"}, **facts}


def test_swedish_holidays_close_the_shop_and_midsummer_eve_moves_each_year() -> None:
    days = {d.day: d for d in special_days(shop(), date(2026, 1, 1), 730)}
    assert days[date(2026, 12, 24)] == SpecialDay(date(2026, 12, 24), "closed", "Christmas Eve")
    assert days[date(2026, 12, 25)].name == "Christmas Day"
    # Midsummer Eve is the Friday between 19 and 25 June: computed, never typed in.
    assert days[date(2026, 6, 19)].name == "Midsummer Eve"
    assert days[date(2027, 6, 25)].name == "Midsummer Eve"
    assert days[date(2027, 3, 26)].name == "Good Friday"
    # A holiday on a Sunday, when the shop is closed anyway, changes nothing: not listed.
    assert date(2026, 4, 5) not in days  # Easter Sunday
    assert date(2026, 12, 23) not in days  # an ordinary Wednesday


def test_special_days_win_over_holidays_and_weekly_hours() -> None:
    store = shop(
        special_days=[
            {"date": "12-23", "hours": "08:00-16:00", "name": "Day before Christmas Eve"},
            {"date": "2026-12-26", "hours": "10:00-14:00"},  # open on a holiday, once
            {"date": "2027-01-04", "hours": "08:00-20:00"},  # the same as the weekly hours
        ]
    )
    days = {d.day: d for d in special_days(store, date(2026, 12, 1), 400)}
    assert days[date(2026, 12, 23)].hours == "08:00-16:00"
    assert days[date(2027, 12, 23)].name == "Day before Christmas Eve"  # every year
    assert days[date(2026, 12, 26)] == SpecialDay(
        date(2026, 12, 26), "10:00-14:00", "Second Day of Christmas"
    )
    assert date(2027, 1, 4) not in days  # no different from any Monday


def test_a_shop_without_holidays_keeps_its_weekly_hours() -> None:
    assert special_days({"opening_hours": WEEKLY}, date(2026, 12, 1), 60) == []


def test_holidays_in_swedish_for_the_swedish_edition() -> None:
    days = {d.day: d for d in special_days(shop(), date(2026, 12, 1), 60, language="sv")}
    assert days[date(2026, 12, 24)].name == "Julafton"


def test_bad_holiday_facts_are_named() -> None:
    found = problems(
        shop(
            holidays={"country": "XX"},
            special_days=[
                {"date": "24 December", "hours": "closed"},
                {"date": "2026-02-30", "hours": "closed"},
                {"date": "12-23", "hours": "16:00-08:00", "name": ""},
            ],
        ),
        "docs/store.yml",
    )
    assert found == [
        "docs/store.yml: 'holidays.country' 'XX' is not a country code",
        "docs/store.yml: 'special_days' entry 1: 'date' must be MM-DD (every year) or YYYY-MM-DD",
        "docs/store.yml: 'special_days' entry 2: 'date' must be MM-DD (every year) or YYYY-MM-DD",
        "docs/store.yml: 'special_days' entry 3: 'hours' must be HH:MM-HH:MM or closed",
        "docs/store.yml: 'special_days' entry 3: 'name' is empty",
    ]
    assert problems(shop(holidays={"country": "SE", "categories": ["bank", "school"]}), "s") == [
        "s: 'holidays.categories' 'school' is not one of bank, de_facto, optional, public"
    ]
    assert problems(shop(holidays={"country": "SE", "categories": "public"}), "s") == [
        "s: 'holidays.categories' must be a list, e.g. [public]"
    ]


def test_the_shops_own_facts_are_valid() -> None:
    store = yaml.safe_load((ROOT / "docs" / "store.yml").read_text(encoding="utf-8"))
    assert problems(store, "docs/store.yml") == []
