"""The `kb` command: build the index, serve the help center, report what customers miss."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from kb_search import articles
from kb_search.config import SETTINGS, Settings, SettingsError
from kb_search.index import IndexMissing, LiveIndex, build


class CommandError(Exception):
    """Something the user can fix; printed without a traceback."""


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from KB_* variables, with the command line's options taking their place."""
    given = {s.env: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name, None)}
    return Settings.from_env({**os.environ, **given})


def cmd_index(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    center = articles.load(settings.docs_dir)

    def progress(done: int, total: int) -> None:
        print(f"indexed {done}/{total} articles", file=sys.stderr)

    folder = build(center, settings.index_dir, progress=progress)
    print(f"index {folder.name}: {len(center.published)} articles in {settings.index_dir}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from kb_search.app import create_app

    settings = settings_from(args)
    print(f"Help center on http://{settings.host}:{settings.port}/", file=sys.stderr)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )


def cmd_gaps(args: argparse.Namespace) -> None:
    from kb_search.app import gaps_report
    from kb_search.querylog import SQLiteQueryLog

    settings = settings_from(args)
    if not settings.log_db.exists():
        raise CommandError(f"no query log at {settings.log_db} yet: nothing has been searched")
    live = LiveIndex(settings.index_dir)
    query_log = SQLiteQueryLog(settings.log_db, settings.log_retention_days)
    try:
        report = gaps_report(query_log, live.current(), args.limit)
    finally:
        query_log.close()
        live.close()
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        write_csv(report)
    else:
        print(table(report))


_COLUMNS = ("kind", "count", "first_seen", "last_seen", "examples", "closest_article")


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for kind in ("unanswered", "no_click"):
        for group in report[kind]:
            rows.append(
                {
                    "kind": kind,
                    **{c: group.get(c) for c in _COLUMNS[1:]},
                    "examples": " | ".join(group["examples"]),
                }
            )
    return rows


def write_csv(report: dict[str, Any]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(_rows(report))


def table(report: dict[str, Any]) -> str:
    lines = []
    for kind, heading in (
        ("unanswered", "Searches that found nothing"),
        ("no_click", "Searches where no result was opened"),
    ):
        lines.append(f"{heading}:")
        groups = report[kind]
        if not groups:
            lines.append("  (none)")
        for group in groups:
            closest = group.get("closest_article") or "-"
            lines.append(
                f"  {group['count']:>5}  {group['last_seen'][:10]}  "
                f"closest: {closest:<5} {' | '.join(group['examples'])}"
            )
        lines.append("")
    lines.append("Articles marked not helpful:")
    for item in report["not_helpful"] or []:
        lines.append(
            f"  article {item['article_id']}: {item['not_helpful']} no, "
            f"{item['helpful']} yes. Missing: {' | '.join(item['missing']) or '-'}"
        )
    if not report["not_helpful"]:
        lines.append("  (none)")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="kb", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, paths: Sequence[str]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        for setting in SETTINGS:
            if setting.name in paths:
                sub.add_argument(
                    "--" + setting.name.replace("_", "-"),
                    dest=setting.name,
                    help=f"{setting.help} (default: {setting.env} or {setting.default!r})",
                )
        return sub

    command(
        "index",
        "Build the search index from the docs and switch to it atomically.",
        ["docs_dir", "index_dir"],
    ).set_defaults(run=cmd_index)
    command(
        "serve",
        "Serve the built site and the search API.",
        ["site_dir", "index_dir", "log_db", "host", "port"],
    ).set_defaults(run=cmd_serve)
    gaps = command("gaps", "What customers searched for and did not find.", ["index_dir", "log_db"])
    formats = gaps.add_mutually_exclusive_group()
    formats.add_argument("--json", dest="format", action="store_const", const="json")
    formats.add_argument("--csv", dest="format", action="store_const", const="csv")
    gaps.add_argument("--limit", type=int, default=50, help="groups per list (default 50)")
    gaps.set_defaults(run=cmd_gaps, format="table")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except articles.ContentError as error:
        print("Help center content has problems:\n" + str(error), file=sys.stderr)
        return 1
    except (SettingsError, IndexMissing, CommandError) as error:
        print(f"kb: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
