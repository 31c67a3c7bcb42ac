"""Remove personal data from a customer's words before anything is stored.

`redact("my email is anna@example.com")` returns `"my email is <email>"`. The query log calls it
on every search and every feedback text, so raw personal data never reaches the database.

The module is one table, `RULES`, of (placeholder, pattern, optional validator). A pattern finds
a candidate; a validator keeps false alarms down. Where a maintained validator exists, it is
used: `python-stdnum` for card numbers (Luhn), IBANs (ISO 13616 mod 97) and Swedish personal
identity numbers (a real date and Luhn, `stdnum.se.personnummer`), `phonenumbers` for phone
numbers (each country's numbering plan, Sweden the default region for national numbers), and
the standard library's `ipaddress` for IPv4 and IPv6 addresses.

What is hand-written, and why:
- The patterns, which find the candidates in free text: the libraries validate a string they
  are given, they do not find one in "paid with 4111 1111 1111 1111 twice" (phonenumbers'
  matcher does, for phones only, at about three times the cost of pattern and validator).
- The cue rules for data with no checksum or format to check: names after "my name is",
  "I'm", "jag heter", "mvh"; passwords; card security codes; gift-card and discount codes;
  postcodes without a street; email addresses spelled out ("anna at example dot com"). Nothing
  small finds these in a two-word search: named-entity models want whole sentences, weigh
  hundreds of megabytes and would be slow for a function that runs on every search.
- For names, one outside fact: how common a word is (`wordfreq`). A common English word much
  rarer in Swedish ("looking", "waiting", "wrong") is an ordinary word after "I'm"; first names
  and surnames are about as common in both languages ("anna", "john") or not English at all
  ("karlsson"). `_NOT_NAMES` holds the function words and the few ordinary words that this
  test misses ("ok", "glad", "under"). There is no list of names.
- The samordningsnummer (day + 60), which stdnum does not know: its day is taken back to a
  date for stdnum, its Luhn digit checked on the number as written.

Rules run in table order, and the whole table runs again until the text stops changing: a
replacement can leave text that now forms a new match. A replacement never touches a
placeholder and always removes at least one character outside the placeholders, so each round
leaves fewer of them and the loop ends. That makes `redact` idempotent:
`redact(redact(x)) == redact(x)`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer

_SEPARATORS = " -./()"


@dataclass(frozen=True)
class Rule:
    """Text matching `pattern` (and `valid`, if given) becomes `<placeholder>`.

    If the pattern has a group named `pii`, only that group is replaced ("order <order-number>")
    and `valid` is given that group; when it fails, the group's shorter word-prefixes are tried
    ("my name is Anna and" -> "Anna"). `clues`, if given, finds something that every match
    contains (a digit, "@", a cue word) in the casefolded text: one quick search, shared by the
    rules with the same clues, spares most texts the rule's own pattern. A rule with a
    `context` applies only to a text in which that pattern is found somewhere.
    """

    placeholder: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool] | None = None
    clues: re.Pattern[str] | None = None
    context: re.Pattern[str] | None = None


def _clues(words: str) -> re.Pattern[str]:
    """A search for any of the space-separated `words` (lower case), taken literally."""
    return re.compile("|".join(re.escape(word) for word in words.split()))


# ---------------------------------------------------------------- numbers with a check


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def luhn_valid(text: str) -> bool:
    """True for a 13-19 digit card number (separators ignored) with a valid Luhn check digit."""
    digits = _digits(text)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _personal_number_valid(text: str) -> bool:
    """A Swedish personnummer, or samordningsnummer (its day + 60): a real date, Luhn-valid."""
    digits = _digits(text)
    separator = "+" if "+" in text else "-"
    if len(digits) not in (10, 12):
        return False
    day = int(digits[-6:-4])
    if day <= 60:
        return personnummer.is_valid(f"{digits[:-4]}{separator}{digits[-4:]}")
    # A samordningsnummer, which stdnum does not know: its Luhn digit is over the number as
    # written, and its date is the day less 60.
    birth = f"{digits[:-6]}{day - 60:02d}{separator}{digits[-4:]}"
    try:
        personnummer.get_birth_date(birth)
    except ValidationError:
        return False
    return luhn.is_valid(digits[-10:])


def iban_valid(text: str) -> bool:
    """True for an IBAN (spaces ignored, any case) whose ISO 13616 mod-97 check holds.

    The country's own length and layout are not required: a customer's IBAN that passes the
    checksum is personal data whether or not we know that country's format.
    """
    return iban.is_valid(text, check_country=False)


_DATE = re.compile(r"[0-3]?[0-9][-./][01]?[0-9][-./](?:19|20)[0-9]{2}")
# National numbers (leading 0) are read as Swedish first, then as from the other countries we
# deliver to that dial a 0 before the area code.
_NATIONAL_REGIONS = ("SE", "FI", "DE", "NL", "BE", "AT", "FR", "IE", "CH", "GB")


def _phone_valid(text: str) -> bool:
    if _DATE.fullmatch(text):  # 05-12-2024 is a date, even where it would be a valid number
        return False
    if text.startswith(("+", "00")):
        try:  # the country code is given: a number of a possible length for it is a phone
            return phonenumbers.is_possible_number(phonenumbers.parse(text, "SE"))
        except phonenumbers.NumberParseException:
            return False
    for region in _NATIONAL_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _cued_phone_valid(text: str) -> bool:
    """After "phone", "my number", "ring mig": any 7-15 digits, in whatever country's layout."""
    return 7 <= len(_digits(text)) <= 15 and not _DATE.fullmatch(text)


def _tracking_valid(text: str) -> bool:
    return len(_digits(text)) >= 8


def _ip_valid(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])  # fe80::1%eth0: a zone is not part of it
    except ValueError:
        return False
    return any(ch.isalnum() for ch in text)  # "::" alone is more likely punctuation


# ---------------------------------------------------------------- words: names, secrets


# Words that are not a name even where a name could stand ("my name is on the order", "this
# is the second time", "i'm in sweden", "jag heter inte"): function words, and the ordinary
# words that are about as common in Swedish as in English, which the frequency test misses.
_NOT_NAMES = frozenset(
    """
    a an the this that these those it its it's is am are was were be been being do does did
    has have had not no nor never also just only still even too very so really quite and or
    but if as at by for from in into on onto of off out over under up down to with without
    about after before again here there now then today what when where which who whom why how
    all any some every each both one two three i me my mine we us our you your he him his she
    her they them their ok okay yes yeah hi hello hey dear thanks thank please sorry glad sure
    fine good bad new old fake normal super absurd student vegan member customer client vip
    wrong right correct incorrect spelled spelt misspelled misspelt missing changed different
    same written shown printed listed called named regarding re fw fwd
    xxs xs s m l xl xxl xxxl eu us uk sweden swedish svensk svenska european
    jag du han hon vi ni de den det dem min mitt mina din ditt dina hans hennes vår vårt våra
    er ert era sin sitt sina en ett och eller men om att som på i till från för med utan av
    efter inte ju bara också även nog så här där nu då hej hejsan hallå tack är var blir
    har hade kan ska skulle vill fel rätt felstavat stavat ändrat inget ingen inga något
    någon tomt
    """.split()
)
# Ordinary words that may follow "password is" or "lösenordet är" and are not the password.
_NOT_SECRETS = _NOT_NAMES | frozenset(
    "expired blocked locked reset forgotten invalid rejected case sensitive "
    "ogiltigt felaktigt spärrat låst utgånget glömt glömd borta".split()
)


@functools.lru_cache(maxsize=8192)
def _zipf(word: str) -> tuple[float, float]:
    """How common `word` is in English and in Swedish, on wordfreq's Zipf scale (0-8)."""
    import wordfreq  # loads on the first word looked up (0.4 s), not with the query log

    return wordfreq.zipf_frequency(word, "en"), wordfreq.zipf_frequency(word, "sv")


def _english_word(word: str) -> bool:
    """A common English word much rarer in Swedish: "looking" is one, "anna" and "john" not."""
    english, swedish = _zipf(word.casefold())
    return english >= 3.0 and english - swedish >= 0.9


def _dictionary_word(word: str) -> bool:
    """A word common in English or in Swedish ("reset", "glömt"), not a made-up string."""
    return max(_zipf(word.casefold())) >= 3.0


def _title_case(word: str) -> bool:
    return word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def _may_be_name(word: str) -> bool:
    return len(word) >= 2 and word.casefold() not in _NOT_NAMES and not _english_word(word)


def _name_after_weak_cue(text: str) -> bool:
    """After "I'm", "this is", "/": every word may be a name ("this is anna", not "this is
    taking", "im waiting")."""
    return all(_may_be_name(word) for word in text.split())


def _name_after_strong_cue(text: str) -> bool:
    """After "my name is", "jag heter", "mvh": the first word is a name unless a function word,
    or an ordinary English word in lower case ("my name is wrong", but "my name is Will"); the
    words after it must look like names ("my name is anna karlsson", not "anna and")."""
    first, *rest = text.split()
    if len(first) < 2 or first.casefold() in _NOT_NAMES:
        return False
    if not _title_case(first) and _english_word(first):
        return False
    return all(_may_be_name(word) for word in rest)


_PUNCTUATION = ".,!?;:'\"()[]"
_WORDLIKE = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _password_stated(text: str) -> bool:
    """After "password is": anything but an ordinary word ("password is wrong", "expired")."""
    core = text.strip(_PUNCTUATION)
    if not core or core.casefold() in _NOT_SECRETS:
        return False
    return not (core.isalpha() and _english_word(core))


def _password_like(text: str) -> bool:
    """After a bare "password": a token that is no dictionary word ("password Sommar2024!",
    "pin 1234", "lösenord xk7pq"), not "password reset" or "update pass in my profile"."""
    core = text.strip(_PUNCTUATION)
    if len(core) < 4 or core.casefold() in _NOT_SECRETS:
        return False
    if _WORDLIKE.fullmatch(core):  # "reset", "e-mail": a password only if no dictionary word
        return not all(_dictionary_word(part) for part in re.split(r"['\u2019-]", core))
    return any(ch.isalnum() for ch in core)  # digits or symbols: "Sommar2024!", "1234"


_AMOUNT = re.compile(
    r"[0-9]+(?:st|nd|rd|th|kr|sek|eur|euro|euros|usd|nok|dkk|chf|pcs|cm|mm|kg|ml|dagar|days?|e)",
    re.IGNORECASE,
)


def _code_valid(text: str) -> bool:
    """A gift-card or discount code: letters and digits mixed ("SUMMER20", "AB12-CD34"), or a
    long number ("6035 1234 5678 9012"), not an amount ("100", "1000", "20off" is a code)."""
    compact = text.replace(" ", "").replace("-", "")
    digits = sum(ch.isdigit() for ch in compact)
    if digits == len(compact):
        return digits >= 6
    return digits > 0 and len(compact) >= 4 and not _AMOUNT.fullmatch(compact)


def _mixed_code(text: str) -> bool:
    compact = text.replace(" ", "").replace("-", "")
    return any(ch.isdigit() for ch in compact) and any(ch.isalpha() for ch in compact)


# ---------------------------------------------------------------- email spelled out

_TLDS = (
    "com|net|org|info|biz|edu|gov|io|co|me|app|dev|online|shop|nu|se|fi|dk|no|de|nl|be|at|ch|"
    "fr|ie|uk|eu|es|it|pl|pt|is|ee|lv|lt|us|ca|au|nz|ru|cz|sk|hu|gr|tr|in|jp|cn"
)
_AT_WORD = (
    r"(?:[ ]*(?:\(at\)|\[at\]|\{at\}|<at>|\(@\)|\[@\]|\(snabel-?a\))[ ]*"
    r"|[ ]+(?:at|snabel-?a|@)[ ]+|[ ]+@|@[ ]+)"
)
_DOT_WORD = (
    r"(?:[ ]*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|\(punkt\)|\[punkt\]|\(\.\))[ ]*"
    r"|[ ]+(?:dot|punkt|prick)[ ]+|\.)"
)
_PLAIN_AT = re.compile(r"[ ]+at[ ]+(?P<domain>[\w-]+)", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"[ ]+(?:dot|punkt|prick)[ ]+|[(\[{<]", re.IGNORECASE)
# Mailbox providers, for "anna at gmail.com": with a real dot, " at " could be a sentence.
_MAIL_PROVIDERS = frozenset(
    "gmail googlemail hotmail outlook live msn yahoo icloud me mac aol gmx web proton "
    "protonmail telia bredband spray comhem tele2 bahnhof yandex mail email".split()
)


def _spelled_email_valid(text: str) -> bool:
    """An email address spelled out: "anna at example dot com", "anna(at)example.se", "anna
    snabel-a example punkt se".

    A bare " at " before a real dot can be an ordinary sentence ("bought it at zalando.se"), so
    then the part before it must look like an address ("anna.svensson", "anna85") or the domain
    must be a mailbox provider ("anna at gmail.com").
    """
    plain = _PLAIN_AT.search(text)
    if plain is None or _SPELLED_DOT.search(text):
        return True
    local = text[: plain.start()]
    return any(ch in ".+_" or ch.isdigit() for ch in local) or (
        plain.group("domain").casefold() in _MAIL_PROVIDERS
    )


# ---------------------------------------------------------------- patterns


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_PLACEHOLDERS = (
    "email|phone|order-number|tracking-number|card-number|iban|personal-number|address|name|"
    "password|cvc|code|ip-address|postcode"
)
_PLACEHOLDER = re.compile(rf"<(?:{_PLACEHOLDERS})>")

_STREET_WORD = r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|boulevard|blvd|straße|strasse|str)"
_STREET_COMPOUND = r"[^\W\d_]{2,}(?:gatan|gata|vägen|vagen|gränd|straße|strasse|weg|laan|straat)"
_NAME = r"(?!(?:a|an|the|my|your|our|to|in|on|at|of|for|from|is|and|or|with|order)\b)[^\W\d_]+"
_HOUSE = r"[0-9]{1,4}[a-z]?\b"
# Swedish "418 78", Dutch "1012 AB", German "10115", Nordic/Belgian "1000": only after a street.
_POSTCODE = r"(?:,?[ ]?(?:[0-9]{3}[ ]?[0-9]{2}|[0-9]{4}[ ]?(?-i:[A-Z]{2})|[0-9]{4,5})(?![\w]))?"

_WORD = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"
_WORDS = rf"{_WORD}(?:[ ]+{_WORD}){{0,2}}"  # a name: up to three words, checked by `valid`
_STRONG_NAME_CUE = (
    r"\b(?:(?:my|his|her|our|their)[ ]+(?:(?:full|first|last|family|maiden|middle|given)[ ]+)?"
    r"(?:name|surname)(?:[ ]+is|['\u2019]s|s|(?=[ ]?:))"
    r"|(?:(?:full|first|last|family|given)[ ]+)?(?:name|surname)(?=[ ]?:)"
    r"|(?:full|first|last|family)[ ]+name[ ]+is|surname[ ]+is"
    r"|i[ ]+am[ ]+called|i['\u2019]?m[ ]+called"
    r"|c/o|jag[ ]+heter|heter[ ]+jag|(?:mitt[ ]+)?(?:för|efter)?namn(?:et)?[ ]+är"
    r"|(?:för|efter)?namn(?=[ ]?:)"
    r"|mvh|m\.v\.h\.?|(?:med[ ]+)?vänlig(?:a)?[ ]+hälsning(?:ar)?|hälsningar|hälsning"
    r"|(?:best|kind|warm|many|with)[ ]+regards|regards|yours[ ]+(?:sincerely|truly)|sincerely"
    r"|best[ ]+wishes)"
)
_WEAK_NAME_CUE = (
    r"(?:\bi['\u2019]m|\bi[ ]+am|\bthis[ ]+is"
    r"|(?:^[ ]*|[.!?,;:][ ]*|\b(?:and|but|so|if|as|because|cause|cos|when|since|hi|hello|hey"
    r"|hej|och|men)[ ]+)im"  # bare "im" only where a clause starts: German "im Warenkorb"
    r"|\b(?:hi|hello|hey|hej|hejsan|hallå|dear)[,!.]?[ ]+"
    r"(?:it['\u2019]?s|it[ ]+is|det[ ]+är|jag[ ]+är))"
)
_CUE_END = r"(?:[ ]*[,:.-][ ]*|[ ]+)"  # at least a space or a mark: not "image", "thanksgiving"

_GIFT_CUE = (
    r"(?:e-?)?gift[ -]?(?:card|certificate|voucher)s?|giftcards?|presentkort(?:et|ets|s)?"
    r"|vouchers?|värdebevis(?:et)?|tillgodokvitto(?:t)?"
)
_CODE_CUE = (
    r"(?:(?:discount|promo|promotion|coupon|campaign|voucher|welcome|birthday|newsletter|referral"
    r"|member|gift[ ]?card)[ -]?)?codes?"
    r"|(?:rabatt|kampanj|presentkorts?|bonus|kupong|värde)?kod(?:en)?|rabattkoder|koder"
    r"|kupong(?:er)?|coupons?|promo"
)
_CODE_SEP = r"[ ]*[.:#=]?[ ]*(?:(?:is|är|was|var)[ ]+)?"
_SECRET_WORD = (
    r"pass(?:word|words|wd|code|ord)|pwd|pw|lösen(?:ord(?:et)?)?|losen(?:ord(?:et)?)?"
    r"|pin(?:[ -]?(?:code|kod(?:en)?))?|pinkod(?:en)?"
)
_SECRET_CUE = rf"\b(?:{_SECRET_WORD}|pass)\b"  # "pass" alone is a word too: only before : or is
_BARE_SECRET_CUE = rf"\b(?:{_SECRET_WORD})\b"
_SECRET = rf"(?!{_PLACEHOLDER.pattern})\S+"
_SECRET_CLUES = _clues("pass pw lösen losen pin")
_CVC_CUE = (
    r"\b(?:cvc2?|cvv2?|ccv|cvn|cid|csc|(?:card[ ]+)?security[ -]?code|card[ ]+code"
    r"|s[äa]kerhetskod(?:en)?)(?:[ -]?(?:kod(?:en)?|code|nummer|numret|number|no|nr))?\b"
)
_POSTCODE_CUE = (
    r"\b(?:post[ -]?nummer|postnumret|postnr|post[ -]?code|postal[ ]+code|zip(?:[ -]?code)?"
    r"|postleitzahl|plz|postinumero)\b"
)
_SE_POSTCODE = r"(?<![\w.,-])(?:(?-i:SE)-?)?[1-9][0-9]{2}[ ]?[0-9]{2}(?![\w.%-]|,[0-9])"
_NOT_AN_AMOUNT = r"(?![\w.,%-]|[ ]?(?:kr|sek|eur|euro|cm|mm|kg|st|pcs|days?|dagar|items?|x)\b)"
# In a text about an address or a delivery: Swedish "123 45" or "12345", British "LS6 2AB",
# Dutch "1012 AB".
_POSTCODE_SHAPE = (
    r"(?<![\w.,-])(?:(?:(?-i:SE)-?)?[1-9][0-9]{2}[ ]?[0-9]{2}"
    r"|(?-i:[A-Z]{1,2}[0-9][A-Z0-9]?[ ][0-9][ABD-HJLNP-UW-Z]{2})"
    r"|[1-9][0-9]{3}[ ](?!(?:kr|st|cm|mm|kg|xs|xl)\b)(?-i:[A-Z]{2}))"
    rf"{_NOT_AN_AMOUNT}"
)
_ADDRESS_TALK = (  # not inside a placeholder: "<address>" is not the customer's word
    r"(?<![<\w])(?:address\w*|adress\w*|deliver\w*|leverans\w*|levere\w*|skicka\w*|ship\w*|send|sent"
    r"|post\w*|zip|moved?|flytta\w*|live[sd]?|living|bor|ort|city|stad|street|gata|gatan"
    r"|paket\w*|parcel\w*|package\w*|ombud\w*|pick[ -]?up|utlämning\w*|hem|home)\b"
)

_PHONE_CUE = (
    r"\b(?:(?:tele)?phone|cell(?:phone)?|mobile|mob|tel|sms|whatsapp|telefon|mobil"
    r"|(?:call|text|ring|reach)[ ]+me|ring[ ]+mig|my[ ]+number|mitt[ ]+nummer|numret)"
    r"(?:[ ]?(?:number|nummer|numret|no|nr))?\b"
)
_RELATIVE = (
    r"\b(?:my|our|min|mitt|mina|vår)[ ]+(?:wife|husband|partner|fianc[ée]e?|boyfriend|girlfriend"
    r"|son|daughter|kid|child|mum|mom|mother|dad|father|friend|sister|brother|colleague"
    r"|neighbou?r|grandma|grandpa|grandmother|grandfather|fru|man|make|maka|sambo|pojkvän"
    r"|flickvän|dotter|barn|mamma|pappa|mor|far|vän|väninna|kompis|syster|bror|kollega|granne"
    r"|mormor|farmor|morfar|farfar)"
)
_TITLE_WORD = r"(?-i:[A-ZÅÄÖ][a-zåäöéü]+)"
_DIGIT = re.compile("[0-9]")

RULES: tuple[Rule, ...] = (
    Rule("email", _rx(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*"), clues=_clues("@")),
    Rule(
        "email",  # spelled out: "anna at example dot com", "anna(at)example.se"
        _rx(
            rf"(?<![\w.%+-])[\w%+-]+(?:{_DOT_WORD}[\w%+-]+)*{_AT_WORD}"
            rf"[\w-]+(?:{_DOT_WORD}[\w-]+)*?{_DOT_WORD}(?:{_TLDS})(?![\w])"
        ),
        _spelled_email_valid,
        clues=re.compile(r" at |at[)\]}>]|@|snabel"),
    ),
    Rule(
        "ip-address",
        _rx(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![\w]|\.[0-9])"),
        _ip_valid,
        clues=_DIGIT,
    ),
    Rule(
        "ip-address",
        _rx(
            r"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
            r"(?:%[0-9a-z]+)?(?![\w:]|\.[0-9])"
        ),
        _ip_valid,
        clues=_clues(":"),
    ),
    Rule(
        "iban",
        _rx(r"(?<!\w)[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,4})?(?!\w)"),
        iban_valid,
        clues=_DIGIT,
    ),
    Rule(
        "card-number",
        re.compile(
            r"(?<![0-9])(?:[0-9]{13,19}"
            r"|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?"  # 4111 1111 1111 1111
            r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?![0-9])"  # 3782 822463 10005
        ),
        luhn_valid,
        clues=_DIGIT,
    ),
    Rule("order-number", _rx(r"(?<!\w)(?:eb-?|#[ ]?)[0-9]{6,10}(?![0-9])"), clues=_DIGIT),
    Rule(
        "order-number",
        _rx(
            r"\b(?:order|ordernumber|ordernummer|ordernr|bestellnummer|bestelnummer|bestellung"
            r"|beställning(?:en|snummer|snr)?)(?:[ ]?(?:no|nr|number|nummer|id))?\.?[ ]?[:#]?[ ]?"
            r"(?:(?:is|är|was|var)[ ]+)?(?P<pii>[0-9]{6,10})(?![0-9])"
        ),
        clues=_DIGIT,
    ),
    Rule(
        "cvc",
        _rx(
            rf"{_CVC_CUE}[ ]*(?:(?:is|är|was|var|nr|no)\b[ ]*)?[:=#]?[ ]*"
            r"(?P<pii>[0-9]{3,4})(?![0-9])"
        ),
        clues=_DIGIT,
    ),
    Rule(
        "phone",
        re.compile(
            r"(?<![\w+])(?:(?:\+[ ]?|00)[1-9]|0[1-9])"  # +46, 0046, or a national 0 prefix
            r"(?:[ ./()-]{0,2}[0-9]){6,16}(?![0-9])"  # then digits, maybe grouped
        ),
        _phone_valid,
        clues=_DIGIT,
    ),
    Rule(
        "personal-number",
        re.compile(r"(?<![0-9-])(?:19|20)?[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[-+]?[0-9]{4}(?![0-9])"),
        _personal_number_valid,
        clues=_DIGIT,
    ),
    Rule(  # "my cell is (555) 010-0199": after a cue, a number without 0 or + is a phone too
        "phone",
        _rx(
            rf"{_PHONE_CUE}[ ]*(?:(?:is|är|was|var|on|at|på)[ ]+)?[:#]?[ ]*"
            r"(?P<pii>\+?\(?[0-9]{1,4}\)?(?:[ .-]?\(?[0-9]{1,4}\)?){1,6})(?![0-9])"
        ),
        _cued_phone_valid,
        clues=_DIGIT,
    ),
    Rule(  # gift-card and discount codes are bearer secrets: whoever has one can spend it
        "code",
        _rx(
            rf"\b(?:(?:{_GIFT_CUE})(?:[ -]?(?:code|kod(?:en)?|number|nummer(?:et)?|nr|no|id|pin))?"
            rf"|{_CODE_CUE})\b{_CODE_SEP}"
            r"(?P<pii>[0-9]{4}(?:[ ][0-9]{4})+|[a-z0-9]+(?:-[a-z0-9]+)*)(?![\w-])"
        ),
        _code_valid,
        clues=_DIGIT,
    ),
    Rule(  # "rabattkod SOMMAR": capitals after a cue that is not itself shouted
        "code",
        _rx(
            rf"(?!(?-i:[A-ZÅÄÖ]{{2}}))\b(?:{_GIFT_CUE}|{_CODE_CUE})\b{_CODE_SEP}"
            r"(?P<pii>(?-i:[A-ZÅÄÖ]{4,}))(?![\w-])"
        ),
        lambda code: code.casefold() not in _NOT_NAMES,
        clues=_clues("gift present voucher värdebevis tillgodo cod kod kupong coupon promo"),
    ),
    Rule(  # a code's shape: XXXX-XXXX-XXXX, letters and digits mixed
        "code",
        re.compile(
            r"(?<![\w-])(?:[a-zA-Z0-9]{4,5}(?:-[a-zA-Z0-9]{4,5}){2,5}"
            r"|[A-Z0-9]{4}(?:[ ][A-Z0-9]{4}){2,4})(?![\w-])"
        ),
        _mixed_code,
        clues=_DIGIT,
    ),
    Rule(
        "password",
        _rx(rf"{_SECRET_CUE}[ ]*[:=][ ]*(?P<pii>{_SECRET})"),
        _password_stated,
        clues=_SECRET_CLUES,
    ),
    Rule(
        "password",
        _rx(
            rf"{_SECRET_CUE}[ ]+(?:is|är|was|var|blev|became|it['\u2019]?s|it[ ]+is|should[ ]+be"
            r"|ska[ ]+vara)"
            rf"[ ]*:?[ ]*(?P<pii>{_SECRET})"
        ),
        _password_stated,
        clues=_SECRET_CLUES,
    ),
    Rule(  # "changed my password to X", "bytte lösen till X"
        "password",
        _rx(rf"{_SECRET_CUE}[ ]+(?:set[ ]+)?(?:to|till)[ ]+(?P<pii>{_SECRET})"),
        _password_like,
        clues=_SECRET_CLUES,
    ),
    Rule(
        "password",
        _rx(rf"{_BARE_SECRET_CUE}[ ]+(?P<pii>{_SECRET})"),
        _password_like,
        clues=_SECRET_CLUES,
    ),
    Rule(
        "tracking-number",
        _rx(r"(?<![\w-])[a-z0-9]{10,}(?![\w-])"),
        _tracking_valid,
        clues=_DIGIT,
    ),
    Rule(
        "address",
        _rx(
            rf"\b(?:{_STREET_COMPOUND}|{_NAME}[ ]+{_STREET_WORD}\b\.?)[ ]+{_HOUSE}{_POSTCODE}"
            rf"|\b[0-9]{{1,4}}[a-z]?(?:[ ]+{_NAME}){{1,2}}[ ]+{_STREET_WORD}\b\.?"
        ),
        clues=_DIGIT,
    ),
    Rule(
        "postcode",
        _rx(
            rf"{_POSTCODE_CUE}[ ]*[:#=]?[ ]*(?:(?:is|är|was|var)[ ]+)?"
            r"(?P<pii>[0-9]{3}[ ]?[0-9]{2}|[0-9]{4}[ ]?(?-i:[A-Z]{2})|[0-9]{4,5})(?![\w])"
        ),
        clues=_DIGIT,
    ),
    Rule(  # "114 55 Stockholm": a postcode before a capitalised place name
        "postcode",
        _rx(rf"(?P<pii>{_SE_POSTCODE})(?=,?[ ]+(?-i:[A-ZÅÄÖ][a-zåäöéü]{{2,}})\b)"),
        clues=_DIGIT,
    ),
    Rule(  # a postcode's shape anywhere in a text about an address or a delivery
        "postcode",
        _rx(_POSTCODE_SHAPE),
        clues=_DIGIT,
        context=_rx(_ADDRESS_TALK),
    ),
    Rule(
        "name",  # "my name is Anna Karlsson", "jag heter Anna", "mvh Anna"
        _rx(rf"{_STRONG_NAME_CUE}{_CUE_END}(?P<pii>{_WORDS})"),
        _name_after_strong_cue,
        clues=_clues(
            "name namn heter c/o mvh m.v.h hälsning regards sincerely truly wishes called"
        ),
    ),
    Rule(
        "name",  # "det är Anna här"
        _rx(rf"\bdet[ ]+är[ ]+(?P<pii>{_WORD}(?:[ ]+{_WORD})?)[ ]+här\b"),
        _name_after_strong_cue,
        clues=_clues("här"),
    ),
    Rule(
        "name",  # "I'm Anna", "this is Anna", "hi im anna", "hej det är Anna"
        _rx(rf"{_WEAK_NAME_CUE}{_CUE_END}(?P<pii>{_WORDS})"),
        _name_after_weak_cue,
        clues=_clues("i'm i\u2019m am this im it det jag"),
    ),
    Rule(
        "name",  # "thanks, Anna" at the end of a text
        _rx(
            rf"\b(?:thanks|thank[ ]+you|thx|cheers|tack|tackar){_CUE_END}"
            rf"(?P<pii>{_WORD}(?:[ ]+{_WORD})?)[ ]*[.!]*[ ]*$"
        ),
        _name_after_weak_cue,
        clues=_clues("thank thx cheers tack"),
    ),
    Rule(
        "name",  # "/Erik" signing off
        re.compile(r"(?:^|(?<=\s))/[ ]?(?P<pii>[A-ZÅÄÖ][a-zåäöéü]+(?:[ ]+[A-ZÅÄÖ][a-zåäöéü]+)?)\b"),
        _name_after_weak_cue,
        clues=_clues("/"),
    ),
    Rule(
        "name",  # "... cvv 447 - Liam": signing off a message (not a title: "Linen Shirt - Grey")
        re.compile(
            r"^(?=(?:\S+\s+){4})[\s\S]*\s[\u2013\u2014-]+[ ]*"
            rf"(?P<pii>{_TITLE_WORD}(?:[ ]+{_TITLE_WORD})?)[ ]*[.!]*[ ]*$"
        ),
        _name_after_weak_cue,
        clues=_clues("- \u2013 \u2014"),
    ),
    Rule(
        "name",  # "my daughter Elsa Berg", "min fru Anna": a capitalised name after a relative
        _rx(rf"{_RELATIVE}[ ]+(?P<pii>{_TITLE_WORD}(?:[ ]+{_TITLE_WORD})?)\b"),
        _name_after_weak_cue,
        clues=_clues("my min mitt our vår"),
    ),
)


# ---------------------------------------------------------------- applying the table


def _span(rule: Rule, match: re.Match[str]) -> tuple[int, int] | None:
    """The part of `match` to replace: all of it, its `pii` group, or its longest valid part.

    A pattern can take in a neighbouring number ("SE45 5000 ... 7466 2024"), so when the whole
    match fails the validator, shorter runs of its separator-delimited groups are tried; a
    `pii` group that fails is cut back a word at a time ("Anna and" -> "Anna").
    """
    if "pii" in rule.pattern.groupindex:
        start, end = match.span("pii")
        if rule.valid is None:
            return start, end
        group = match.group("pii")
        ends = [i for i, ch in enumerate(group) if ch == " "] + [len(group)]
        for cut in sorted(ends, reverse=True):
            if rule.valid(group[:cut].rstrip()):
                return start, start + len(group[:cut].rstrip())
        return None
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
    if rule.context is not None and rule.context.search(text) is None:
        return text
    placeholders = [m.span() for m in _PLACEHOLDER.finditer(text)] if "<" in text else []
    pieces: list[str] = []
    kept = search = 0
    while match := rule.pattern.search(text, search):
        span = _span(rule, match)
        if span is not None and any(s < span[1] and span[0] < e for s, e in placeholders):
            span = None  # never cut into a placeholder: it is what makes the loop end
        if span is None or span[0] == span[1]:  # a longer match may start inside this one
            search = match.start() + 1
            continue
        pieces += [text[kept : span[0]], f"<{rule.placeholder}>"]
        kept = search = span[1]
    pieces.append(text[kept:])
    return "".join(pieces)


@functools.lru_cache(maxsize=4096)  # customers repeat popular searches word for word
def redact(text: str) -> str:
    """`text` with emails, street addresses, postcodes, names, passwords, card security codes,
    gift-card and discount codes, IP addresses and phone, order, tracking, card, IBAN and
    personal identity numbers replaced by placeholders such as `<email>`; the rest is left as
    it was. Meant for short texts (queries, feedback): the query log cuts them to 1,000
    characters."""
    while True:
        result = text
        folded = result.casefold()
        found: dict[int, bool] = {}  # clue search (by id) -> found in `folded`
        for rule in RULES:
            if rule.clues is not None:
                hit = found.get(id(rule.clues))
                if hit is None:
                    hit = found[id(rule.clues)] = rule.clues.search(folded) is not None
                if not hit:
                    continue
            replaced = _apply(rule, result)
            if replaced != result:
                result, folded = replaced, replaced.casefold()
                found.clear()
        if result == text:
            return result
        text = result
