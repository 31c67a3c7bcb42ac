"""The `kb` command: build the index, serve the help center, check content, close the gaps."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from kb_search import articles, reports
from kb_search.config import SETTINGS, Settings, SettingsError
from kb_search.querylog import QueryLog
from kb_search.querylog.writer import StoreBusy
from kb_search.semantic import Encoder
from kb_search.sitebuild import SiteBuildError, build_site
from kb_search.versions import (
    IndexUnavailable,
    LiveIndex,
    OpenIndex,
    build,
    current_site,
    link_site,
)


class CommandError(Exception):
    """Something the user can fix; printed without a traceback."""


def options_given(args: argparse.Namespace) -> dict[str, str]:
    """The command line's settings, as the KB_* variables they stand for."""
    return {s.env: str(getattr(args, s.name)) for s in SETTINGS if getattr(args, s.name, None)}


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from KB_* variables, with the command line's options taking their place."""
    return Settings.from_env({**os.environ, **options_given(args)})


def encoder_for(settings: Settings) -> Encoder | None:
    """The semantic ranker's model when it is wanted and installed (else None, logged why)."""
    if not settings.semantic_weight:
        return None
    from kb_search.semantic import load_encoder

    return load_encoder(settings.model_dir)


def _release(settings: Settings, site: Any) -> None:
    center = articles.load(settings.docs_dir)

    def progress(done: int, total: int) -> None:
        print(f"indexed {done}/{total} articles", file=sys.stderr)

    encoder = encoder_for(settings)
    folder = build(
        center,
        settings.index_dir,
        progress=progress,
        encoder=encoder,
        site=site,
        keep_replaced_seconds=settings.release_keep_minutes * 60,
    )
    vectors = f", vectors from {encoder.name}" if encoder else ""
    with_site = ", with its site" if (folder / "site").is_dir() else ", no site"
    print(
        f"release {folder.name}: {len(center.published)} articles{vectors}{with_site}, "
        f"in {settings.index_dir}"
    )


def cmd_release(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    config = Path(args.config)
    _release(settings, lambda folder: build_site(config, settings.docs_dir, folder))


def cmd_index(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    site = Path(args.site) if args.site else current_site(settings.index_dir)
    if site is None:
        print("no built site to include: run `kb release` to build both", file=sys.stderr)
    _release(settings, link_site(site) if site else None)


def cmd_build(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    build_site(Path(args.config), settings.docs_dir, Path(args.site_dir))
    print(f"site built in {args.site_dir}", file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> None:
    import tempfile

    import uvicorn

    from kb_search.app import create_app

    settings = settings_from(args)
    workers = max(1, args.workers)
    print(
        f"Help center on http://{settings.host}:{settings.port}/"
        + (f" ({workers} workers)" if workers > 1 else ""),
        file=sys.stderr,
    )
    app: Any = "kb_search.app:create_app"
    if workers == 1:
        app = create_app(settings)
    else:
        # Each worker is a process of its own that reads its settings from the environment
        # (the command line's options included) and builds its own app. /metrics adds up every
        # worker's counts in a folder they share (prometheus-client's multiprocess mode).
        os.environ.update(options_given(args))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kb-metrics-")
    # No access log: request lines carry customers' raw searches, which must never be stored
    # unredacted (the query log redacts them); KB_REQUEST_LOG writes lines without them.
    config = uvicorn.Config(
        app,
        factory=workers > 1,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        # X-Forwarded-For is trusted only from KB_TRUSTED_PROXIES, by the app itself: uvicorn
        # would trust it from 127.0.0.1, so anyone on the machine could pose as any client.
        proxy_headers=False,
    )
    if workers > 1:
        from kb_search.workers import serve

        serve(config, workers)
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C, raised again once it has stopped
        server.run()
    if not server.started:  # stopped before it could start (uvicorn has said why)
        raise SystemExit(3)


def open_existing_log(settings: Settings) -> QueryLog:
    from kb_search.querylog import open_log

    if settings.log_db is not None and not settings.log_db.exists():
        raise CommandError(f"no query log at {settings.log_db} yet: nothing has been searched")
    return open_log(settings)


def known_language(languages: Collection[str], language: str | None) -> None:
    """A CommandError naming the help center's languages, unless `language` is one (or None:
    its first)."""
    if language is not None and language not in languages:
        known = ", ".join(languages)
        raise CommandError(f"--lang {language}: the help center's languages are {known}")


def in_language(release: OpenIndex, language: str | None) -> OpenIndex:
    """The release's index of `language` (None: its first language's)."""
    known_language(release.editions, language)
    return release if language is None else release.in_language(language)


def center_in(settings: Settings, language: str | None) -> articles.HelpCenter:
    """The docs folder's help center in `language` (None: its first language)."""
    center = articles.load(settings.docs_dir)
    known_language(center.editions, language)
    return center if language is None else center.in_language(language)


def gaps(settings: Settings, limit: int, language: str | None = None) -> dict[str, Any]:
    from kb_search.reports import gaps_report

    query_log = open_existing_log(settings)
    live = LiveIndex(settings.index_dir)
    try:
        index = in_language(live.current(), language)
        return gaps_report(query_log, index, limit, index.language.code)
    finally:
        query_log.close()
        live.close()


def cmd_gaps(args: argparse.Namespace) -> None:
    report = gaps(settings_from(args), args.limit, args.lang)
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        print(reports.as_csv(report), end="")
    elif args.format == "markdown":
        print(reports.markdown(report), end="")
    else:
        print(reports.table(report))


def cmd_check(args: argparse.Namespace) -> None:
    from kb_search.check import check

    findings = check(settings_from(args), search=not args.no_search)
    for finding in findings:
        print(finding)
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    print(f"kb check: {errors} errors, {warnings} warnings", file=sys.stderr)
    if errors or (args.strict and warnings):
        raise SystemExit(1)


def cmd_draft(args: argparse.Namespace) -> None:
    from kb_search import search as engine
    from kb_search.drafts import draft_article
    from kb_search.querylog.gaps import normalise

    settings = settings_from(args)
    center = center_in(settings, args.lang)
    language = center.language
    report = gaps(settings, 500, language)
    groups = report["unanswered"] + report["no_click"]
    wanted = args.group.strip()
    group = next((g for n, g in enumerate(report["unanswered"], 1) if wanted == str(n)), None)
    form = normalise(wanted, language)
    group = group or next(
        (g for g in groups if form in {g["key"], *(normalise(e, language) for e in g["examples"])}),
        None,
    )
    if group is None:
        command = "kb gaps" if args.lang is None else f"kb gaps --lang {language}"
        raise CommandError(
            f"no gap group '{wanted}': run `{command}` and give a number from the "
            "first list or a group key"
        )
    # Past retention a group keeps only its key (normalised words): the draft starts from it.
    examples = group["examples"] or [group["key"]]
    if not group["examples"]:
        print("its example searches are past retention: starting from its key", file=sys.stderr)
    category = args.category
    if category is None:
        live = LiveIndex(settings.index_dir)
        try:
            index = in_language(live.current(), language)
            closest = engine.search(index, examples[0], limit=1).results
        finally:
            live.close()
        if not closest:
            raise CommandError(
                "no article is close to these searches: name a category with "
                f"--category (one of: {', '.join(center.categories)})"
            )
        category = closest[0].category
        print(
            f"category '{category}', from the closest article: {closest[0].title}", file=sys.stderr
        )
    try:
        path = draft_article(center, category, examples, dt.date.today())
    except ValueError as error:
        raise CommandError(str(error)) from None
    print(path)


def cmd_link(args: argparse.Namespace) -> None:
    from kb_search import search as engine
    from kb_search.links import NoSiteAddress, format_links, is_local, site_address

    settings = settings_from(args)
    try:
        address = site_address(settings.site_url, settings.docs_dir)
    except NoSiteAddress as error:
        raise CommandError(str(error)) from None
    if is_local(address):
        # Printed, not refused: a preview on this machine is a fair use; a paste is not.
        print(
            f"warning: the links point to {address}, which only this computer can open; "
            "set KB_SITE_URL to the public address before pasting them to a customer",
            file=sys.stderr,
        )
    live = LiveIndex(settings.index_dir)
    try:
        index = in_language(live.current(), args.lang)
        text = " ".join(args.words)
        if text.strip() in index.records:  # an article's id: that article
            records = [index.records[text.strip()]]
        else:
            answer = engine.search(index, text, limit=args.top)
            records = [index.records[str(r.id)] for r in answer.results]
    finally:
        live.close()
    if not records:
        raise CommandError("no article matches those words; try the customer's key words")
    print(format_links(records, address, args.format))


def cmd_model(args: argparse.Namespace) -> None:
    from kb_search.semantic import fetch_model

    try:
        print(f"the semantic ranker's model is in {fetch_model()}")
    except (OSError, subprocess.CalledProcessError) as error:
        raise CommandError(f"the model could not be fetched: {error}") from None


def cmd_synonyms(args: argparse.Namespace) -> None:
    from kb_search.suggestions import patch, suggest

    settings = settings_from(args)
    center = center_in(settings, args.lang)
    query_log = open_existing_log(settings)
    try:
        found = suggest(center, query_log.store)
    finally:
        query_log.close()
    if args.patch:
        print(patch(center, found), end="")
        return
    if not found:
        print("No suggestions yet: they need customers' searches followed by clicks.")
    for item in found:
        failed = f" ({item.failed} failed, then said again)" if item.failed else ""
        print(
            f"{item.article.id:>5}  {item.word:<20} {item.searches:>4} searches{failed}  "
            f"{item.confidence:.0%} of this word's clicks  {item.article.title}"
        )
        print(f"{'':>7}e.g. " + ", ".join(repr(example) for example in item.examples))


def cmd_log(args: argparse.Namespace) -> None:
    """`kb log migrate`: create or upgrade the query log's tables before the service starts."""
    from kb_search.querylog import open_store

    settings = settings_from(args)
    store = open_store(settings.log_url)
    shown = store.describe().get("url") or settings.log_url
    try:
        before, after = store.migrate()
    except (RuntimeError, OSError, sqlite3.Error) as error:  # newer than this code; a bad path
        raise CommandError(f"the query log {shown} cannot be migrated: {error}") from None
    finally:
        store.close()
    if before == after:
        print(f"query log {shown}: schema {after}, up to date")
    elif before == 0:
        print(f"query log {shown}: created, schema {after}")
    else:
        print(f"query log {shown}: upgraded from schema {before} to {after}")


def learn(args: argparse.Namespace) -> None:
    """`kb eval --learn`: the learning loop simulated on the set (kb_search.learning)."""
    from kb_search.evaluate import read_cases
    from kb_search.learning import VISITS_PER_QUERY, learning_run, render, split

    settings = settings_from(args)
    try:
        cases = read_cases(Path(args.queries))
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from None
    visits = VISITS_PER_QUERY * len(split(cases, 0)[0])
    run = learning_run(settings, cases, (0, visits))
    print(json.dumps(run, indent=2, ensure_ascii=False) if args.json else render(run))


def cmd_explain(args: argparse.Namespace) -> None:
    from kb_search.boosts import LearnedBoosts
    from kb_search.explain import explain, render

    settings = settings_from(args)
    live = LiveIndex(settings.index_dir)
    try:
        index = in_language(live.current(), args.lang)
        boosts, note = None, "off (KB_LEARNED_BOOSTS=off)"
        if settings.learned_boosts and settings.log_db and not settings.log_db.exists():
            note = "none yet: nothing has been searched"
        elif settings.learned_boosts:
            query_log = open_existing_log(settings)
            try:
                boosts = LearnedBoosts(query_log.store, index.language.code).refresh(index)
            finally:
                query_log.close()
            note = (
                f"{len(boosts.by_query)} searches boosted, from the searches since "
                f"{boosts.since:%Y-%m-%d %H:%M} UTC (release {index.version}, articles "
                f"{boosts.fingerprint})"
            )
        encoder = encoder_for(settings)
        text = " ".join(args.words)
        found = explain(index, text, args.top, encoder, settings.semantic_weight, boosts)
    finally:
        live.close()
    if not found.rows:
        raise CommandError("no article matches those words")
    print(render(found, boosts, note))


# `kb eval --baseline`: each plain baseline, by its name in the table and in --json.
BASELINES = {
    "lunr": "Material's built-in search",
    "bm25": "Whoosh's BM25F with its defaults over title, synonyms, queries, summary, body",
    "semantic": "the same embeddings as the semantic ranker, cosine alone",
}


def cmd_eval(args: argparse.Namespace) -> None:
    if args.learn:
        learn(args)
        return
    from kb_search import baselines
    from kb_search.evaluate import evaluate, read_cases, summary

    settings = settings_from(args)
    try:
        cases = read_cases(Path(args.queries))
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from None
    center = center_in(settings, args.lang)
    wanted = set(BASELINES) if "all" in (args.baseline or []) else set(args.baseline or [])
    results = {}
    encoder = encoder_for(settings)
    if "semantic" in wanted and encoder is None:
        raise CommandError(
            "--baseline semantic needs the semantic ranker: pip install '.[semantic]'"
        )
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as folder:
        build(center, Path(folder) / "index", encoder=encoder)
        live = LiveIndex(Path(folder) / "index")
        try:
            results["help center"] = evaluate(live.current(), cases)
            if encoder is not None:
                results["hybrid"] = evaluate(
                    live.current(), cases, encoder, settings.semantic_weight
                )
        finally:
            live.close()
        if "bm25" in wanted:
            results["bm25"] = baselines.bm25(center, cases)
        if "semantic" in wanted and encoder is not None:
            results["semantic"] = baselines.semantic(center, cases, encoder)
        if "lunr" in wanted:
            site = build_site(
                Path(args.config),
                settings.docs_dir,
                Path(folder) / "site",
                out=io.StringIO(),
                language=center.language,
            )
            results["lunr"] = baselines.material_search(site, center, cases)
    figures = {name: summary(evaluation, args.k) for name, evaluation in results.items()}
    if args.siblings:
        import yaml

        from kb_search.evaluate import sibling_report

        groups = [
            [str(i) for i in group]
            for group in yaml.safe_load(Path(args.siblings).read_text(encoding="utf-8"))
        ]
        for name, evaluation in results.items():
            figures[name]["siblings"] = sibling_report(evaluation, groups)
    if args.json:
        ours = figures.pop("help center")
        hybrid = {"hybrid": figures.pop("hybrid")} if "hybrid" in figures else {}
        print(json.dumps({**ours, **hybrid, "baselines": figures}, indent=2, ensure_ascii=False))
        return
    names = list(figures)
    print(f"{'':<18}" + "".join(f"{name:>18}" for name in names))
    for key, label in (
        ("n", "queries"),
        ("recall_at_1", "recall@1"),
        ("recall_at_3", "recall@3"),
        ("mrr", "MRR"),
        ("zero_result_rate", "zero results"),
    ):
        print(f"{label:<18}" + "".join(f"{figures[n][key]:>18}" for n in names))
    if args.siblings:
        print("\nConfusable articles (recall@1 / recall@3 / times a sibling came first):")
        for number, group in enumerate(figures["help center"]["siblings"]):
            cells = [figures[n]["siblings"][number] for n in names]
            print(
                f"  {'/'.join(group['articles']):<14} n={group['n']:<3}"
                + "".join(
                    f"{c['recall_at_1']:>9.2f}{c['recall_at_3']:>6.2f}{c['sibling_first']:>4}"
                    for c in cells
                )
            )
    failures = figures["help center"]["failures"]
    print(f"\nNot in the top {args.k} ({len(failures)}):")
    for failure in failures:
        print(
            f"  {failure['query']!r}: expected {'|'.join(failure['expected'])}, "
            f"got {', '.join(failure['got']) or 'nothing'}"
        )


def setting_options(sub: argparse.ArgumentParser, names: Sequence[str]) -> None:
    """--<setting> options, each documented with its variable and default from the registry."""
    for setting in SETTINGS:
        if setting.name in names:
            names_given = [setting.name, *([setting.old_name] if setting.old_name else [])]
            sub.add_argument(
                *("--" + name.replace("_", "-") for name in names_given),
                dest=setting.name,
                help=f"{setting.help} (default: {setting.env} or {setting.default!r})",
            )


def language_option(sub: argparse.ArgumentParser, what: str) -> None:
    """--lang: one of the help center's languages (store.yml's `languages`)."""
    sub.add_argument(
        "--lang", metavar="CODE", help=f"{what}: a language code (default: the first in store.yml)"
    )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="kb", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, settings: Sequence[str]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        setting_options(sub, settings)
        sub.set_defaults(run=globals()[f"cmd_{name}"])
        return sub

    release = command(
        "release",
        "Build the site and the search index into a new release and switch to it atomically.",
        ["docs_dir", "index_dir", "release_keep_minutes", "semantic_weight"],
    )
    release.add_argument("--config", default="mkdocs.yml", help="the MkDocs configuration")
    index = command(
        "index",
        "Build the search index into a new release (with the current release's site).",
        ["docs_dir", "index_dir", "release_keep_minutes", "semantic_weight"],
    )
    index.add_argument("--site", help="a built site folder to include instead")
    command(
        "model",
        "Fetch the semantic ranker's model (all-MiniLM-L6-v2, hash-checked) into this Python "
        "environment; nothing is fetched at run time.",
        [],
    )
    build_cmd = command(
        "build",
        "Build the site only (a preview), failing on any warning: broken links, images.",
        ["docs_dir"],
    )
    build_cmd.add_argument("--config", default="mkdocs.yml", help="the MkDocs configuration")
    build_cmd.add_argument("--site-dir", default="site", help="where to build (default site/)")
    serve = command(
        "serve",
        "Serve the built site and the search API.",
        ["index_dir", "log_url", "host", "port"],
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes answering on the one port (default 1; one per core is plenty)",
    )
    gaps_cmd = command(
        "gaps", "What customers searched for and did not find.", ["index_dir", "log_url"]
    )
    formats = gaps_cmd.add_mutually_exclusive_group()
    for fmt in ("json", "csv", "markdown"):
        formats.add_argument(f"--{fmt}", dest="format", action="store_const", const=fmt)
    gaps_cmd.add_argument("--limit", type=int, default=50, help="groups per list (default 50)")
    language_option(gaps_cmd, "whose searches and feedback")
    gaps_cmd.set_defaults(format="table")
    check_cmd = command(
        "check",
        "Check every article of every language: fields, links, images, translations, search tests.",
        ["docs_dir", "search_test_k", "review_after_days", "max_paragraph_words"],
    )
    check_cmd.add_argument("--no-search", action="store_true", help="skip the search tests")
    check_cmd.add_argument("--strict", action="store_true", help="fail on warnings too")
    draft = command(
        "draft",
        "Write a draft article for a group of unanswered searches.",
        ["docs_dir", "index_dir", "log_url"],
    )
    draft.add_argument("group", help="a number from `kb gaps`'s first list, or a group key")
    draft.add_argument("--category", help="the category folder (default: the closest article's)")
    language_option(draft, "the gap's language, and the draft's (written into its folder)")
    link = command(
        "link",
        "The top articles for a customer's words, ready to paste.",
        ["docs_dir", "index_dir", "site_url"],
    )
    link.add_argument("words", nargs="+", help="the customer's words")
    link.add_argument("--top", type=int, default=3, help="how many articles (default 3)")
    language_option(link, "the articles' language: its permalinks and replies")
    link_formats = link.add_mutually_exclusive_group()
    link_formats.add_argument("--markdown", dest="format", action="store_const", const="markdown")
    link_formats.add_argument("--html", dest="format", action="store_const", const="html")
    link.set_defaults(format="text")
    explain_cmd = command(
        "explain",
        "Why each top article ranks where it does: lexical score, similarity, fused score, "
        "learned boost and its evidence.",
        ["index_dir", "log_url", "semantic_weight", "learned_boosts"],
    )
    explain_cmd.add_argument("words", nargs="+", help="the customer's words")
    explain_cmd.add_argument("--top", type=int, default=5, help="how many articles (default 5)")
    language_option(explain_cmd, "the language searched")
    synonyms = commands.add_parser(
        "synonyms", help="Words customers use for articles, learned from the query log."
    )
    synonyms_commands = synonyms.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest = synonyms_commands.add_parser(
        "suggest", help="Suggest synonyms for articles (nothing is changed; --patch for a diff)."
    )
    setting_options(suggest, ["docs_dir", "log_url"])
    suggest.add_argument(
        "--patch",
        action="store_true",
        help="print a unified diff of the articles to review and `git apply`",
    )
    language_option(suggest, "whose searches, for that language's articles")
    suggest.set_defaults(run=cmd_synonyms)
    log_cmd = commands.add_parser("log", help="The query log's storage.")
    log_commands = log_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    migrate = log_commands.add_parser(
        "migrate",
        help="Create or upgrade the query log's tables now (the service does it when it first "
        "writes); safe to run while replicas are serving.",
    )
    setting_options(migrate, ["log_url"])
    migrate.set_defaults(run=cmd_log)
    evaluation = command(
        "eval", "Measure findability on a relevance set (query,expected_id).", ["semantic_weight"]
    )
    evaluation.add_argument("queries", help="CSV file with the columns query,expected_id")
    evaluation.add_argument("--docs", dest="docs_dir", help="the docs folder (default docs/)")
    language_option(evaluation, "the language of the queries: its edition is searched")
    evaluation.add_argument("--k", type=int, default=3, help="failures: not in the top k")
    evaluation.add_argument("--json", action="store_true", help="one JSON object")
    evaluation.add_argument(
        "--learn",
        action="store_true",
        help="simulate the learning loop: customers of half the set search, click and rephrase "
        "through the app, synonyms and boosts are learned, both halves measured before and after",
    )
    evaluation.add_argument(
        "--baseline",
        action="append",
        choices=[*BASELINES, "all"],
        help="also measure a plain baseline on the same queries (repeatable): "
        + "; ".join(f"{key}: {about}" for key, about in BASELINES.items()),
    )
    evaluation.add_argument("--config", default="mkdocs.yml", help="mkdocs.yml for --baseline lunr")
    evaluation.add_argument(
        "--siblings",
        help="YAML list of groups of confusable article ids; each group is reported on its own",
    )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except articles.ContentError as error:
        print("Help center content has problems:\n" + str(error), file=sys.stderr)
        return 1
    except (SettingsError, IndexUnavailable, CommandError, SiteBuildError, StoreBusy) as error:
        print(f"kb: {error}", file=sys.stderr)
        return 2
    except SystemExit as stop:
        return int(stop.code or 0)
    except BrokenPipeError:  # `kb gaps | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
