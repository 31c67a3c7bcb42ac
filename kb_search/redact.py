"""Remove personal data from a customer's words before anything is stored.

`redact("my email is anna@example.com")` returns `"my email is <email>"`. The query log calls it
on every search and every feedback text, so raw personal data never reaches the database.

Why hand-written patterns: the standard library has no detector for personal data in free text
(`email.utils` parses headers, not sentences), and the libraries that do this (phonenumbers,
presidio) would add a large dependency for a handful of shapes. So this module is one table,
`RULES`, of (placeholder, pattern, optional validator). A validator keeps false alarms down
where a checksum exists: card numbers must pass Luhn, IBANs the ISO 13616 mod-97 check, and
Swedish personal identity numbers (asked for by invoice payment) a date and Luhn check.

Rules run in table order, and the whole table runs again until the text stops changing: a
replacement can leave text that now forms a new match. Every rule needs a digit or an "@" and
no placeholder holds one, so each round removes at least one and the loop ends. That makes
`redact` idempotent: `redact(redact(x)) == redact(x)`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

_SEPARATORS = " -./()"


@dataclass(frozen=True)
class Rule:
    """Text matching `pattern` (and `valid`, if given) becomes `<placeholder>`.

    If the pattern has a group named `pii`, only that group is replaced ("order <order-number>").
    """

    placeholder: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool] | None = None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def luhn_valid(text: str) -> bool:
    """True for a 13-19 digit card number (separators ignored) with a valid Luhn check digit."""
    digits = _digits(text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _personal_number_valid(text: str) -> bool:
    """A Swedish personnummer (or samordningsnummer, day + 60): date-like and Luhn-valid."""
    digits = _digits(text)[-10:]
    day = int(digits[4:6])
    return (1 <= day <= 31 or 61 <= day <= 91) and _luhn(digits)


def iban_valid(text: str) -> bool:
    """True for an IBAN (spaces ignored, any case) whose mod-97 check holds."""
    iban = text.replace(" ", "").upper()
    if not (15 <= len(iban) <= 34 and iban.isascii() and iban.isalnum()):
        return False
    if not (iban[:2].isalpha() and iban[2:4].isdigit()):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


_DATE = re.compile(r"[0-3]?[0-9][-./][01]?[0-9][-./](?:19|20)[0-9]{2}")


def _phone_valid(text: str) -> bool:
    digits = _digits(text)
    if text.startswith(("+", "00")):
        return 8 <= len(digits.removeprefix("00")) <= 15
    return 8 <= len(digits) <= 12 and not _DATE.fullmatch(text)


def _tracking_valid(text: str) -> bool:
    return len(_digits(text)) >= 8


_STREET_WORD = r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|boulevard|blvd|straße|strasse|str)"
_STREET_COMPOUND = r"[^\W\d_]{2,}(?:gatan|gata|vägen|vagen|gränd|straße|strasse|weg|laan|straat)"
_NAME = r"(?!(?:a|an|the|my|your|our|to|in|on|at|of|for|from|is|and|or|with|order)\b)[^\W\d_]+"
_HOUSE = r"[0-9]{1,4}[a-z]?\b"
# Swedish "418 78", Dutch "1012 AB", German "10115", Nordic/Belgian "1000": only after a street.
_POSTCODE = r"(?:,?[ ]?(?:[0-9]{3}[ ]?[0-9]{2}|[0-9]{4}[ ]?(?-i:[A-Z]{2})|[0-9]{4,5})(?![\w]))?"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


RULES: tuple[Rule, ...] = (
    Rule("email", _rx(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*")),
    Rule(
        "iban",
        _rx(r"(?<!\w)[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,4})?(?!\w)"),
        iban_valid,
    ),
    Rule(
        "card-number",
        re.compile(
            r"(?<![0-9])(?:[0-9]{13,19}"
            r"|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?"  # 4111 1111 1111 1111
            r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?![0-9])"  # 3782 822463 10005
        ),
        luhn_valid,
    ),
    Rule("order-number", _rx(r"(?<!\w)(?:eb-?|#[ ]?)[0-9]{6,10}(?![0-9])")),
    Rule(
        "order-number",
        _rx(
            r"\b(?:order|ordernumber|ordernummer|ordernr|bestellnummer|bestelnummer)"
            r"(?:[ ]?(?:no|nr|number|nummer|id))?\.?[ ]?[:#]?[ ]?(?P<pii>[0-9]{6,10})(?![0-9])"
        ),
    ),
    Rule(
        "phone",
        re.compile(
            r"(?<![\w+])(?:(?:\+[ ]?|00)[1-9]|0[1-9])"  # +46, 0046, or a national 0 prefix
            r"(?:[ ./()-]{0,2}[0-9]){6,16}(?![0-9])"  # then digits, maybe grouped
        ),
        _phone_valid,
    ),
    Rule(
        "personal-number",
        re.compile(r"(?<![0-9-])(?:19|20)?[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[-+]?[0-9]{4}(?![0-9])"),
        _personal_number_valid,
    ),
    Rule("tracking-number", _rx(r"(?<![\w-])[a-z0-9]{10,}(?![\w-])"), _tracking_valid),
    Rule(
        "address",
        _rx(
            rf"\b(?:{_STREET_COMPOUND}|{_NAME}[ ]+{_STREET_WORD}\b\.?)[ ]+{_HOUSE}{_POSTCODE}"
            rf"|\b[0-9]{{1,4}}[a-z]?(?:[ ]+{_NAME}){{1,2}}[ ]+{_STREET_WORD}\b\.?"
        ),
    ),
)


def _span(rule: Rule, match: re.Match[str]) -> tuple[int, int] | None:
    """The part of `match` to replace: all of it, its `pii` group, or its longest valid part.

    A pattern can take in a neighbouring number ("SE45 5000 ... 7466 2024"), so when the whole
    match fails the validator, shorter runs of its separator-delimited groups are tried.
    """
    if "pii" in rule.pattern.groupindex:
        return match.span("pii")
    if rule.valid is None or rule.valid(match.group()):
        return match.span()
    text, offset = match.group(), match.start()
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch in _SEPARATORS]
    ends = [i for i, ch in enumerate(text) if ch in _SEPARATORS] + [len(text)]
    parts = sorted(((s, e) for s in starts for e in ends if e > s), key=lambda p: p[0] - p[1])
    for start, end in parts:
        part = text[start:end]
        if rule.pattern.fullmatch(part) and rule.valid(part):
            return offset + start, offset + end
    return None


def _apply(rule: Rule, text: str) -> str:
    pieces: list[str] = []
    kept = search = 0
    while match := rule.pattern.search(text, search):
        span = _span(rule, match)
        if span is None:  # a longer match may start inside this one: "0000 <card>"
            search = match.start() + 1
            continue
        pieces += [text[kept : span[0]], f"<{rule.placeholder}>"]
        kept = search = span[1]
    pieces.append(text[kept:])
    return "".join(pieces)


@functools.lru_cache(maxsize=4096)  # customers repeat popular searches word for word
def redact(text: str) -> str:
    """`text` with emails, street addresses and phone, order, tracking, card, IBAN and personal
    identity numbers replaced by placeholders such as `<email>`; the rest is left as it was.
    Meant for short texts (queries, feedback): the query log cuts them to 1,000 characters."""
    while True:
        result = text
        for rule in RULES:
            result = _apply(rule, result)
        if result == text:
            return result
        text = result
