"""`kb check`: everything a writer should fix before a pull request, each as `file:line`.

Errors fail the check (and CI); warnings are reported and do not. Every language's articles are
checked, and each language's search tests run against its own index. Translations are compared
with the first language's articles (the id is the translation key): an article in one language
only, and a translation older than the article it translates, are warnings.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import posixpath
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kb_search.articles import Article, ContentError, HelpCenter, load, split_front_matter
from kb_search.config import Settings
from kb_search.evaluate import Case, evaluate
from kb_search.reports import language_name
from kb_search.sections import heading_ids
from kb_search.synonyms import load_synonyms
from kb_search.text import language as language_of
from kb_search.versions import LiveIndex, OpenIndex, build

_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMG_TAG = re.compile(r"<img\b(?![^>]*\balt=\"[^\"]+\")[^>]*>", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_TODO = re.compile(r"\bTODO\b")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    level: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


def check(
    settings: Settings, *, today: dt.date | None = None, search: bool = True
) -> list[Finding]:
    """All findings for the docs folder in `settings`, errors and warnings, sorted by place."""
    try:
        center = load(settings.docs_dir)
        for edition in editions(center):
            load_synonyms(edition.docs_dir, language_of(edition.language))
    except ContentError as error:
        return [_from_problem(p) for p in error.problems]
    findings: list[Finding] = []
    for edition in editions(center):
        for article in edition.articles:
            findings += _article_findings(edition, article, settings, today or dt.date.today())
        findings += _duplicate_titles(edition)
    findings += translation_findings(center)
    if search:
        findings += search_tests(center, settings.search_test_k)
    return sorted(findings)


def editions(center: HelpCenter) -> list[HelpCenter]:
    """Every language of the help center, the first language first."""
    return list(center.editions.values()) or [center]


def project_path(center: HelpCenter, relative: str) -> str:
    """A file of this language's folder as the writer finds it from the project's folder:
    "docs/returns/x.md", "translations/sv/returns/x.md"."""
    root = editions(center)[0].docs_dir.resolve().parent
    try:
        return (center.docs_dir / relative).resolve().relative_to(root).as_posix()
    except ValueError:  # a language's folder outside the project: named by its own name
        return f"{center.docs_dir.name}/{relative}"


def _from_problem(problem: str) -> Finding:
    path, _, message = problem.partition(": ")
    path, _, line = path.partition(":")
    return Finding(path, int(line) if line.isdigit() else 0, "error", message)


def _where(center: HelpCenter, article: Article) -> str:
    return project_path(center, article.path)


def _body_offset(center: HelpCenter, article: Article) -> int:
    """Lines before the body starts, so findings point at the line in the file."""
    raw = (center.docs_dir / article.path).read_text(encoding="utf-8")
    _, body, _ = split_front_matter(raw)
    return raw.count("\n", 0, len(raw) - len(body))


def _article_findings(
    center: HelpCenter, article: Article, settings: Settings, today: dt.date
) -> list[Finding]:
    where = _where(center, article)
    offset = _body_offset(center, article)
    found: list[Finding] = []

    def add(line: int, level: str, message: str) -> None:
        found.append(Finding(where, line + offset if line else 0, level, message))

    for number, line in enumerate(article.markdown.splitlines(), 1):
        for bang, text, target in _LINK.findall(line):
            if bang and not text.strip():
                add(number, "error", f"image '{target}' has no alt text: describe what it shows")
            problem = _link_problem(center, article, target)
            if problem:
                add(number, "error", problem)
        if _IMG_TAG.search(line):
            add(number, "error", "<img> has no alt text: describe what it shows")
        if article.published and _TODO.search(line):
            add(number, "error", "a published article still says TODO")
    for number, words in _paragraphs(article.markdown):
        if words > settings.max_paragraph_words:
            add(
                number,
                "warning",
                f"paragraph of {words} words; split it (max "
                f"{settings.max_paragraph_words}: customers read on phones)",
            )
    age = (today - article.reviewed).days
    if article.published and age > settings.review_after_days:
        add(
            0,
            "warning",
            f"last reviewed {age} days ago ({article.reviewed}); check it and update 'reviewed'",
        )
    return found


def _link_problem(center: HelpCenter, article: Article, target: str) -> str | None:
    if _SCHEME.match(target) or target.startswith("//"):
        return None
    path, _, anchor = target.partition("#")
    if path.startswith("/"):
        return f"link '{target}' is absolute; link to the Markdown file, e.g. ../returns/x.md"
    resolved = (
        posixpath.normpath(posixpath.join(posixpath.dirname(article.path), path))
        if path
        else article.path
    )
    if not (center.docs_dir / resolved).exists():
        return f"link '{target}' points to {resolved}, which does not exist"
    linked = center.by_path(resolved)
    if path and linked is None and resolved.endswith(".md"):
        return None  # a page such as the home page
    if linked is not None and article.published and not linked.published:
        return f"link '{target}' points to a draft; publish it or remove the link"
    if anchor and linked is not None and anchor not in heading_ids(linked.markdown):
        return f"link '{target}': {resolved} has no heading with the anchor '#{anchor}'"
    return None


def _paragraphs(markdown_text: str) -> list[tuple[int, int]]:
    """(first line, word count) of each plain paragraph (not lists, tables or headings)."""
    paragraphs: list[tuple[int, int]] = []
    start, words = 0, 0
    for number, line in enumerate([*markdown_text.splitlines(), ""], 1):
        plain = line.strip() and not re.match(r"\s*([-*+|#>]|\d+\.|!!!|<)", line)
        if plain:
            start = start or number
            words += len(line.split())
        else:
            if start:
                paragraphs.append((start, words))
            start, words = 0, 0
    return paragraphs


def _duplicate_titles(center: HelpCenter) -> list[Finding]:
    seen: dict[str, Article] = {}
    found = []
    for article in center.published:
        key = article.title.casefold()
        if key in seen:
            found.append(
                Finding(
                    _where(center, article),
                    0,
                    "error",
                    f"title '{article.title}' is also the title of "
                    f"{_where(center, seen[key])}; customers cannot tell them apart",
                )
            )
        seen.setdefault(key, article)
    return found


def search_tests(center: HelpCenter, k: int) -> list[Finding]:
    """Every published article's `queries:` must find it within the top k results of its own
    language's index (one release holds them all)."""
    found: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="kb-check-") as folder:
        build(center, Path(folder))
        live = LiveIndex(Path(folder))
        try:
            release = live.current()
            for edition in editions(center):
                found += _search_tests(edition, release.in_language(edition.language), k)
        finally:
            live.close()
    return found


def _search_tests(center: HelpCenter, index: OpenIndex, k: int) -> list[Finding]:
    cases = [(a, Case(q, (str(a.id),))) for a in center.published for q in a.queries]
    evaluation = evaluate(index, [case for _, case in cases])
    found = []
    for (article, case), outcome in zip(cases, evaluation.outcomes, strict=True):
        if outcome.found_within(k):
            continue
        above = [f"{i} '{t}'" for i, t in outcome.ranked[: (outcome.rank or k + 1) - 1][:k]]
        place = f"it ranked #{outcome.rank}" if outcome.rank else "it was not found"
        found.append(
            Finding(
                _where(center, article),
                _query_line(center, article, case.query),
                "error",
                f"search test: '{case.query}' should find article {article.id} '{article.title}' "
                f"in the top {k}; {place}; ranked above it: {', '.join(above) or 'nothing'}",
            )
        )
    return found


def _query_line(center: HelpCenter, article: Article, query: str) -> int:
    """The line of the `queries:` entry (front matter lists are one entry per line or inline)."""
    lines = (center.docs_dir / article.path).read_text(encoding="utf-8").splitlines()
    entry = re.compile(rf"^\s*-\s*['\"]?{re.escape(query)}['\"]?\s*$")
    return next((n for n, line in enumerate(lines, 1) if entry.match(line)), 0) or next(
        (n for n, line in enumerate(lines, 1) if line.startswith("queries:")), 0
    )


def translation_findings(center: HelpCenter) -> list[Finding]:
    """Each published article that another language lacks, and each translation whose
    first-language article changed after the translation was last reviewed (warnings)."""
    first, *others = editions(center)
    found: list[Finding] = []
    for edition in others:
        found += _untranslated(first, edition) + _untranslated(edition, first)
        for translation in edition.published:
            source = first.by_id(translation.id)
            if source is not None:
                found += _out_of_date(first, source, edition, translation)
    return found


def _language_name(center: HelpCenter) -> str:
    return language_name(center.language)


def _untranslated(center: HelpCenter, other: HelpCenter) -> list[Finding]:
    """The published articles of `center` with no article of the same id in `other`."""
    found = []
    for article in center.published:
        if other.by_id(article.id) is not None:
            continue
        target = project_path(other, article.path)
        found.append(
            Finding(
                _where(center, article),
                0,
                "warning",
                f"no {_language_name(other)} article with id {article.id}: translate it into "
                f"{target} (with id: {article.id}), or remove this one if the article is not "
                f"wanted in {_language_name(other)}",
            )
        )
    return found


def _out_of_date(
    first: HelpCenter, source: Article, edition: HelpCenter, translation: Article
) -> list[Finding]:
    """A warning when the article translated changed after the translation was reviewed: its
    own `reviewed` date is later, or git's last commit of its file is."""
    changes = [(source.reviewed, "was reviewed")]
    committed = last_commit_date(first.docs_dir / source.path)
    if committed is not None:
        changes.append((committed, "was last committed"))
    when, what = max(changes)
    if when <= translation.reviewed:
        return []
    lines = (edition.docs_dir / translation.path).read_text(encoding="utf-8").splitlines()
    line = next((n for n, text in enumerate(lines, 1) if text.startswith("reviewed:")), 0)
    return [
        Finding(
            _where(edition, translation),
            line,
            "warning",
            f"out of date: {_where(first, source)} {what} on {when}, after this translation "
            f"was last reviewed ({translation.reviewed}); bring it up to date and set its "
            f"'reviewed' date",
        )
    ]


def last_commit_date(path: Path) -> dt.date | None:
    """The day of the last commit of `path` (git log -1 --format=%cs); None without git, outside
    a repository, for a file never committed, and in a shallow clone (CI's), where every file's
    last commit would seem to be the newest one."""
    if _shallow_or_no_git(path.parent):
        return None
    text = _git(path.parent, "log", "-1", "--format=%cs", "--", path.name)
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)  # asked once a folder, not once an article
def _shallow_or_no_git(folder: Path) -> bool:
    return _git(folder, "rev-parse", "--is-shallow-repository") != "false"


def _git(folder: Path, *arguments: str) -> str | None:
    """What a read-only git command prints in `folder`, stripped; None when it fails."""
    try:
        result = subprocess.run(
            ["git", *arguments],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # a check never takes git's locks
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None
