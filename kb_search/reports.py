"""The gaps report: each group with its closest article, as JSON-ready data, a terminal
table, CSV, or Markdown to paste into a pull request. One language's at a time: its searches,
its feedback, and the closest article in its own index."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from babel import Locale

from kb_search import search as engine
from kb_search.querylog import QueryLog, to_dict
from kb_search.querylog.events import DEFAULT_LANGUAGE, FEEDBACK_REASONS
from kb_search.versions import OpenIndex


def language_name(code: str) -> str:
    """A language by the name a writer reading the reports (in English) knows it: "Swedish"."""
    return str(Locale.parse("en").languages.get(code, code))


def gaps_report(
    query_log: QueryLog, index: OpenIndex, limit: int, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """One language's gap report, each group with the closest existing article in that
    language, if any (`index`: any index of the release; KeyError for a language it lacks)."""
    index = index.in_language(language)
    report = query_log.gaps(limit=limit, language=language)
    for group in [*report.unanswered, *report.no_click]:
        # A group without examples (written before examples had times) has only its key.
        text = group.examples[0] if group.examples else group.key
        closest = engine.search(index, text, limit=1, cache_size=1024)
        if closest.results:
            group.closest_article = str(closest.results[0].id)
    return to_dict(report)


KINDS = (
    ("unanswered", "Searches that found nothing"),
    ("no_click", "Searches where no result was opened"),
)
CSV_COLUMNS = (
    "kind",
    "number",
    "key",
    "count",
    "first_seen",
    "last_seen",
    "examples",
    "closest_article",
    "mark",
    "language",  # last: a sheet of English and Swedish gaps pasted together stays apart
)


def _examples(group: dict[str, Any]) -> str:
    return " | ".join(group["examples"])


def _other_language(report: dict[str, Any]) -> str | None:
    """The name of a report's language other than English (whose reports say none)."""
    code = report.get("language", DEFAULT_LANGUAGE)
    return None if code == DEFAULT_LANGUAGE else language_name(code)


def mark_text(group: dict[str, Any]) -> str:
    """ " [answered by article 12 on 2026-11-03]", " [dismissed]", or "": a writer's mark."""
    mark = group.get("mark")
    if not mark:
        return ""
    if mark["state"] == "dismissed":
        return f" [dismissed as noise on {mark['at'][:10]}]"
    return f" [answered by article {mark['article_id']} on {mark['at'][:10]}]"


def table(report: dict[str, Any]) -> str:
    lines = []
    if name := _other_language(report):
        lines += [f"Searches and feedback in {name}:", ""]
    for kind, heading in KINDS:
        lines.append(f"{heading}:")
        lines.append("      #  count  last seen   closest  group key: examples")
        for number, group in enumerate(report[kind], 1):
            closest = group.get("closest_article") or "-"
            lines.append(
                f"  {number:>5}  {group['count']:>5}  {group['last_seen'][:10]}  "
                f"{closest:>7}  {group['key']}: {_examples(group)}{mark_text(group)}"
            )
        if not report[kind]:
            lines.append("  (none)")
        lines.append("")
    lines.append("Articles marked not helpful:")
    for item in report["not_helpful"]:
        missing = " | ".join(item["missing"]) or "-"
        lines.append(
            f"  article {item['article_id']}: {item['not_helpful']} no, "
            f"{item['helpful']} yes{_reasons(item)}. Missing: {missing}"
        )
    if not report["not_helpful"]:
        lines.append("  (none)")
    return "\n".join(lines)


def spreadsheet_cell(value: Any) -> Any:
    """Customers' text in a spreadsheet cell: never a formula (=HYPERLINK(...), +, -, @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _md(text: str) -> str:
    """Customers' text in Markdown for a pull request: shown as typed, never a link or image."""
    return re.sub(r"([\\`*_\[\]<>!|#])", r"\\\1", text)


def as_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for kind, _ in KINDS:
        for number, group in enumerate(report[kind], 1):
            row = {**group, "key": spreadsheet_cell(group["key"]),
                   "examples": spreadsheet_cell(_examples(group)),
                   "mark": mark_text(group).strip(" []")}  # fmt: skip
            language = report.get("language", DEFAULT_LANGUAGE)
            writer.writerow({**row, "kind": kind, "number": number, "language": language})
    return out.getvalue()


def markdown(report: dict[str, Any]) -> str:
    name = _other_language(report)
    lines = [f"## What customers did not find{f' in {name}' if name else ''}", ""]
    for kind, heading in KINDS:
        lines += [f"### {heading}", ""]
        if not report[kind]:
            lines += ["None.", ""]
            continue
        lines += [
            "| # | searches | last seen | closest article | examples |",
            "| ---: | ---: | --- | --- | --- |",
        ]
        for number, group in enumerate(report[kind], 1):
            examples = _md(_examples(group))
            lines.append(
                f"| {number} | {group['count']} | {group['last_seen'][:10]} | "
                f"{group.get('closest_article') or '-'} | {examples}{_md(mark_text(group))} |"
            )
        lines.append("")
    lines += ["### Articles marked not helpful", ""]
    for item in report["not_helpful"]:
        missing = _md("; ".join(item["missing"])) or "-"
        lines.append(
            f"- article {item['article_id']}: {item['not_helpful']} not helpful, "
            f"{item['helpful']} helpful{_reasons(item)}. Missing: {missing}"
        )
    if not report["not_helpful"]:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _reasons(item: dict[str, Any]) -> str:
    """(why: 3 out of date, 1 hard to understand)", most given first; "" when none was given."""
    reasons = sorted(item.get("reasons", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    if not reasons:
        return ""
    return " (why: " + ", ".join(f'{n} "{FEEDBACK_REASONS.get(r, r)}"' for r, n in reasons) + ")"
