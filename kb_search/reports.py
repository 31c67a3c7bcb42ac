"""The gaps report as a terminal table, CSV, or Markdown to paste into a pull request."""

from __future__ import annotations

import csv
import io
from typing import Any

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
)


def _examples(group: dict[str, Any]) -> str:
    return " | ".join(group["examples"])


def table(report: dict[str, Any]) -> str:
    lines = []
    for kind, heading in KINDS:
        lines.append(f"{heading}:")
        lines.append("      #  count  last seen   closest  group key: examples")
        for number, group in enumerate(report[kind], 1):
            closest = group.get("closest_article") or "-"
            lines.append(
                f"  {number:>5}  {group['count']:>5}  {group['last_seen'][:10]}  "
                f"{closest:>7}  {group['key']}: {_examples(group)}"
            )
        if not report[kind]:
            lines.append("  (none)")
        lines.append("")
    lines.append("Articles marked not helpful:")
    for item in report["not_helpful"]:
        missing = " | ".join(item["missing"]) or "-"
        lines.append(
            f"  article {item['article_id']}: {item['not_helpful']} no, "
            f"{item['helpful']} yes. Missing: {missing}"
        )
    if not report["not_helpful"]:
        lines.append("  (none)")
    return "\n".join(lines)


def as_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for kind, _ in KINDS:
        for number, group in enumerate(report[kind], 1):
            writer.writerow({**group, "kind": kind, "number": number, "examples": _examples(group)})
    return out.getvalue()


def markdown(report: dict[str, Any]) -> str:
    lines = ["## What customers did not find", ""]
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
            examples = _examples(group).replace("|", "\\|")
            lines.append(
                f"| {number} | {group['count']} | {group['last_seen'][:10]} | "
                f"{group.get('closest_article') or '-'} | {examples} |"
            )
        lines.append("")
    lines += ["### Articles marked not helpful", ""]
    for item in report["not_helpful"]:
        missing = "; ".join(item["missing"]).replace("|", "\\|") or "-"
        lines.append(
            f"- article {item['article_id']}: {item['not_helpful']} not helpful, "
            f"{item['helpful']} helpful. Missing: {missing}"
        )
    if not report["not_helpful"]:
        lines.append("None.")
    return "\n".join(lines) + "\n"
