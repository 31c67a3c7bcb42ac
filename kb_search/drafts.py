"""`kb draft`: turn a group of unanswered searches into a draft article for a writer to finish.

A draft is written in the language of the searches: into that language's folder, with its
outline and its placeholders, under an id no language has used (the id is the translation key).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb_search.articles import HelpCenter


@dataclass(frozen=True)
class Outline:
    """What a draft in one language starts with: the body and the front matter to fill in."""

    body: str
    title: str
    summary: str
    reply: str


OUTLINES = {
    "en": Outline(
        body="""\
TODO: answer the question in one or two sentences: the most common case first.

## TODO: the first thing the customer does

1. TODO: first step, with the **label** they tap.
2. TODO: next step.

## If that does not work

TODO: what to do next, or [contact us](../contact/contact-us.md).
""",
        title="TODO: a short title in the customer's words",
        summary="TODO: one sentence that says what this article answers.",
        reply="TODO: two or three sentences support agents can paste.",
    ),
    "sv": Outline(
        body="""\
TODO: svara på frågan med en eller två meningar: det vanligaste fallet först.

## Så gör du

1. TODO: första steget, med **knappen** kunden trycker på.
2. TODO: nästa steg.

## Om det inte fungerar

TODO: vad kunden gör då, eller [kontakta oss](../contact/contact-us.md).
""",
        title="TODO: en kort rubrik med kundens egna ord",
        summary="TODO: en mening som säger vad artikeln svarar på.",
        reply="TODO: två eller tre meningar som kundtjänst kan klistra in i sitt svar.",
    ),
}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:60].strip("-") or "new-article"


def draft_article(center: HelpCenter, category: str, examples: list[str], today: dt.date) -> Path:
    """Write <category>/<slug>.md in the help center's own folder (docs/ for the first language,
    its folder for another) as a draft in its language, with the searches in `queries:`."""
    if category not in center.categories:
        known = ", ".join(center.categories)
        raise ValueError(f"unknown category '{category}' (one of: {known})")
    # Name the file after an example without redaction placeholders such as <order-number>.
    readable = [e for e in examples if "<" not in e] or examples
    slug = slugify(readable[0])
    path = center.docs_dir / category / f"{slug}.md"
    number = 2
    while path.exists():
        path = center.docs_dir / category / f"{slug}-{number}.md"
        number += 1
    outline = OUTLINES.get(center.language, OUTLINES["en"])  # English until it has its own
    meta = {
        "id": center.next_id(),  # free in every language
        "title": outline.title,
        "summary": outline.summary,
        "tags": [],
        "synonyms": [],
        "queries": examples,
        "reply": outline.reply,
        "reviewed": today,
        "status": "draft",
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(f"---\n{front}---\n{outline.body}", encoding="utf-8")
    return path
