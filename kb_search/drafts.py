"""`kb draft`: turn a group of unanswered searches into a draft article for a writer to finish."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from kb_search.articles import HelpCenter

OUTLINE = """\
TODO: answer the question in one or two sentences: the most common case first.

## TODO: the first thing the customer does

1. TODO: first step, with the **label** they tap.
2. TODO: next step.

## If that does not work

TODO: what to do next, or [contact us](../contact/contact-us.md).
"""


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:60].strip("-") or "new-article"


def draft_article(center: HelpCenter, category: str, examples: list[str], today: dt.date) -> Path:
    """Write docs/<category>/<slug>.md as a draft with the searches in `queries:`."""
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
    meta = {
        "id": center.next_id(),
        "title": "TODO: a short title in the customer's words",
        "summary": "TODO: one sentence that says what this article answers.",
        "tags": [],
        "synonyms": [],
        "queries": examples,
        "reply": "TODO: two or three sentences support agents can paste.",
        "reviewed": today,
        "status": "draft",
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(f"---\n{front}---\n{OUTLINE}", encoding="utf-8")
    return path
