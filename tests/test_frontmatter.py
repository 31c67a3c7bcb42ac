"""Front matter errors: each names the file, the line in the file and the field, and says why."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from kb_search import articles
from kb_search.articles import ContentError, load
from kb_search.frontmatter import FrontMatterError, parse
from tests.conftest import ROOT, copy_project, mkdocs_build
from tests.test_articles import GOOD, make_docs, problems

ARTICLE = "returns/return-an-item.md"
WHERE = f"docs/{ARTICLE}"


def good(old: str = "", new: str = "") -> str:
    text = textwrap.dedent(GOOD)
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def closing_line(text: str) -> int:
    return [n for n, line in enumerate(text.splitlines(), 1) if line == "---"][1]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "status: published",
            "status: live",
            "status",
            "must be one of published, draft, not 'live'",
        ),
        ("id: 7", "id: seven", "id", "must be a positive whole number, not 'seven'"),
        ("title: Return an item", "title: [a, b]", "title", "must be text"),
        (
            "tags: [returns]",
            "tags: returns",
            "tags",
            "must be a list of words or phrases, e.g. [one, two] (quote yes, no, on)",
        ),
        (
            "queries: [how do i return, return label, send it back]",
            "queries:\n  - return",
            "queries",
            "needs at least 3 customer searches",
        ),
        (
            "status: published",
            "status: published\nredirect_from: [/old/]",
            "redirect_from",
            "'/old/' must be a path inside the site, like orders/where-is-my-order/",
        ),
    ],
)
def test_a_bad_field_is_reported_at_its_line_in_the_file(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    text = good(old, new)
    found = problems(tmp_path, {ARTICLE: text})
    assert found == [
        f"{WHERE}:{line_of(text, field + ':')}: front matter field '{field}' {message}"
    ]


@pytest.mark.parametrize("field", ["title", "summary", "reply", "reviewed", "status"])
def test_a_missing_field_is_reported_at_the_closing_dashes(tmp_path: Path, field: str) -> None:
    text = (
        "\n".join(line for line in good().splitlines() if not line.startswith(field + ":")) + "\n"
    )
    found = problems(tmp_path, {ARTICLE: text})
    assert found == [f"{WHERE}:{closing_line(text)}: front matter field '{field}' is missing"]


def test_an_empty_field_is_reported_at_its_own_line(tmp_path: Path) -> None:
    text = good("summary: Send an item back within the return window.", "summary:")
    found = problems(tmp_path, {ARTICLE: text})
    assert found == [
        f"{WHERE}:{line_of(text, 'summary:')}: front matter field 'summary' is missing"
    ]


def test_no_front_matter_at_all_is_line_one(tmp_path: Path) -> None:
    found = problems(tmp_path, {ARTICLE: "# Just a title\n"})
    assert found == [f"{WHERE}:1: has no front matter (a block between '---' lines at the top)"]


@pytest.mark.parametrize(
    ("old", "new", "bad_line", "message"),
    [
        (
            "title: Return an item",
            "title: Return: an item",
            "title:",
            "mapping values are not allowed",
        ),
        ("tags: [returns]", "tags: [returns", "synonyms:", "did not find expected ',' or ']'"),
    ],
)
def test_a_yaml_error_gives_the_line_in_the_file_without_parser_noise(
    tmp_path: Path, old: str, new: str, bad_line: str, message: str
) -> None:
    text = good(old, new)
    (found,) = problems(tmp_path, {ARTICLE: text})
    assert found.startswith(
        f"{WHERE}:{line_of(text, bad_line)}: front matter is not valid YAML: {message}"
    ), found
    assert "<unicode string>" not in found and "\n" not in found
    assert "column" not in found


def test_an_unclosed_list_names_the_line_it_was_opened_on(tmp_path: Path) -> None:
    text = good("tags: [returns]", "tags: [returns")
    (found,) = problems(tmp_path, {ARTICLE: text})
    assert found.endswith(
        f"(while parsing a flow sequence that starts on line {line_of(text, 'tags:')})"
    )


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("2026-13-01", "'2026-13-01': month 13 is impossible"),
        ("2026-00-10", "'2026-00-10': month 0 is impossible"),
        ("2026-04-31", "'2026-04-31': day 31 is impossible in April"),
        ("2027-02-29", "'2027-02-29': day 29 is impossible in February 2027"),
        ("last week", "'last week': that is not a date"),
        ("'2026-11-01'", "'2026-11-01': it is in quotes, so it is text; remove the quotes"),
        ("2026-11-01 10:30:00", "2026-11-01 10:30:00: write the date without a time"),
    ],
)
def test_an_impossible_date_says_why(tmp_path: Path, written: str, why: str) -> None:
    text = good("reviewed: 2026-11-01", f"reviewed: {written}")
    found = problems(tmp_path, {ARTICLE: text})
    line = line_of(text, "reviewed:")
    assert found == [
        f"{WHERE}:{line}: front matter field 'reviewed' must be a date written YYYY-MM-DD, "
        f"not {why}"
    ]


def test_a_leap_day_is_a_date(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {ARTICLE: good("reviewed: 2026-11-01", "reviewed: 2028-02-29")})
    assert str(load(docs).articles[0].reviewed) == "2028-02-29"


def test_an_unknown_field_suggests_the_closest_known_one(tmp_path: Path) -> None:
    text = good("tags: [returns]", "tag: [returns]")
    found = problems(tmp_path, {ARTICLE: text})
    assert found == [
        f"{WHERE}:{line_of(text, 'tag:')}: front matter field 'tag' is unknown; "
        "did you mean 'tags'?"
    ]


def test_an_unknown_field_like_no_other_lists_the_known_ones(tmp_path: Path) -> None:
    text = good("tags: [returns]", "tags: [returns]\ncolour: blue")
    (found,) = problems(tmp_path, {ARTICLE: text})
    assert found.startswith(f"{WHERE}:{line_of(text, 'colour:')}: front matter field 'colour' ")
    assert "is unknown (known fields: id, title, summary, tags," in found


def ids_in(docs: Path) -> set[int]:
    """Every id in the docs folder, read directly: articles' `id:` and retired-ids.txt."""
    used = set()
    for path in docs.glob("*/**/*.md"):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        used.add(int(meta["id"]))
    retired = (docs / "retired-ids.txt").read_text(encoding="utf-8").splitlines()
    used |= {int(line) for line in retired if line.strip().isdigit()}
    return used


def test_a_missing_id_suggests_the_next_id_free_in_the_whole_docs_folder(tmp_path: Path) -> None:
    docs = copy_project(tmp_path / "project") / "docs"
    free = max(ids_in(docs)) + 1
    # The highest id so far is held by an article that has its own problem: still taken.
    (docs / "orders" / "aaa-broken.md").write_text(
        good("id: 7", f"id: {free}").replace("status: published", "status: live")
    )
    (docs / "retired-ids.txt").write_text(f"{free + 1}\n", encoding="utf-8")
    article = docs / "orders" / "track-your-order.md"
    text = "".join(
        line for line in article.read_text().splitlines(keepends=True) if not line.startswith("id:")
    )
    article.write_text(text)
    other = docs / "returns" / "damaged-item.md"
    other.write_text(
        other.read_text().replace(
            next(line for line in other.read_text().splitlines() if line.startswith("id:")), ""
        )
    )
    with pytest.raises(ContentError) as caught:
        load(docs)
    missing = [p for p in caught.value.problems if "'id' is missing" in p]
    assert missing == [
        f"docs/orders/track-your-order.md:{closing_line(text)}: front matter field 'id' "
        f"is missing; the next free id is {free + 2}",
        f"docs/returns/damaged-item.md:{closing_line(other.read_text())}: front matter field "
        f"'id' is missing; the next free id is {free + 3}",
    ]


def git(repo: Path, *args: str, when: int = 1_700_000_000) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_DATE": f"{when} +0000",
        "GIT_COMMITTER_DATE": f"{when} +0000",
    }
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

OLD, NEW = "returns/z-old.md", "returns/a-new.md"


def duplicate_message(new: str, old: str, text: str, free: int = 8) -> str:
    return (
        f"docs/{new}:{line_of(text, 'id:')}: front matter field 'id' 7 is already used by "
        f"docs/{old}; the next free id is {free}"
    )


@needs_git
def test_a_duplicate_id_is_reported_against_the_article_git_saw_last(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {OLD: GOOD})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "old", when=1_600_000_000)
    (docs / NEW).write_text(good())
    os.utime(docs / NEW, (1_000, 1_000))  # older on disk: git's history wins
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "new", when=1_700_000_000)
    assert _problems(docs) == [duplicate_message(NEW, OLD, good())]


@needs_git
def test_a_file_git_does_not_track_yet_is_the_newest(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {OLD: GOOD})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "old")
    (docs / NEW).write_text(good())
    os.utime(docs / NEW, (1_000, 1_000))
    assert _problems(docs) == [duplicate_message(NEW, OLD, good())]


@needs_git
def test_a_moved_article_keeps_the_age_of_its_first_commit(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {OLD: GOOD})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "old", when=1_600_000_000)
    other = "---\nid: 7\n" + good().split("id: 7\n", 1)[1].split("---\n")[0] + "---\n"
    (docs / NEW).write_text(other + "A different answer about something else.\n" * 40)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "new", when=1_650_000_000)
    git(tmp_path, "mv", f"docs/{OLD}", "docs/returns/moved.md")
    git(tmp_path, "commit", "-qm", "move", when=1_700_000_000)
    assert _problems(docs) == [duplicate_message(NEW, "returns/moved.md", other)]


def test_without_git_history_the_older_file_on_disk_keeps_its_id(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {OLD: GOOD, NEW: GOOD})
    os.utime(docs / OLD, (1_000, 1_000))
    os.utime(docs / NEW, (2_000, 2_000))
    assert _problems(docs) == [duplicate_message(NEW, OLD, good())]
    os.utime(docs / NEW, (1_000, 1_000))  # same age: path order decides
    assert _problems(docs) == [duplicate_message(OLD, NEW, good())]


def test_each_article_sharing_an_id_gets_its_own_free_id(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, {"returns/a.md": GOOD, "returns/b.md": GOOD, "returns/c.md": GOOD})
    for age, name in enumerate("abc", 1):
        os.utime(docs / "returns" / f"{name}.md", (age * 1000, age * 1000))
    assert _problems(docs) == [
        duplicate_message("returns/b.md", "returns/a.md", good(), 8),
        duplicate_message("returns/c.md", "returns/a.md", good(), 9),
    ]


def test_git_is_asked_only_about_files_that_share_an_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[list[str]] = []

    def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        asked.append(command)
        return subprocess.CompletedProcess(command, 128, "", "fatal: not a git repository")

    monkeypatch.setattr(articles.subprocess, "run", run)
    load(ROOT / "docs")
    assert asked == []
    docs = make_docs(tmp_path, {OLD: GOOD, NEW: GOOD, "returns/other.md": good("id: 7", "id: 9")})
    _problems(docs)
    assert sorted({command[-1] for command in asked}) == [NEW, OLD]


def _problems(docs: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load(docs)
    return caught.value.problems


def test_parse_gives_each_field_its_line_and_the_body() -> None:
    front = parse("---\nid: 7\n\ntitle: x\n---\nBody\n")
    assert (front.line("id"), front.line("title"), front.line("summary")) == (2, 4, 5)
    assert front.body == "Body\n" and front.meta == {"id": 7, "title": "x"}
    with pytest.raises(FrontMatterError) as caught:
        parse("---\nid: 7\n  x: y\n---\n")
    assert caught.value.line == 3


def test_the_build_fails_with_the_models_message_line_included(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    article = project / "docs" / "returns" / "exchange-an-item.md"
    text = re.sub(r"(?m)^reviewed: 2026-\d\d-", "reviewed: 2026-13-", article.read_text())
    text = text.replace("tags:", "tag:", 1)
    article.write_text(text)
    with pytest.raises(ContentError) as caught:
        load(project / "docs")
    assert len(caught.value.problems) == 2
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0
    for problem in caught.value.problems:
        assert problem in result.stderr
    where = f"docs/returns/exchange-an-item.md:{line_of(text, 'reviewed:')}"
    assert f"{where}: front matter field 'reviewed'" in result.stderr
    assert "month 13 is impossible" in result.stderr and "did you mean 'tags'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_field_given_twice_is_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    article = docs / "returns" / "return-policy.md"
    text = article.read_text()
    article.write_text(text.replace("status: published", "status: published\nqueries: [x, y, z]"))
    with pytest.raises(ContentError) as caught:
        load(docs)
    assert any(
        "return-policy.md:" in p and "'queries' is given twice" in p for p in caught.value.problems
    ), caught.value.problems


def test_yaml_booleans_are_not_taken_for_words(tmp_path: Path) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    article = docs / "returns" / "return-policy.md"
    article.write_text(article.read_text().replace("tags: [", "tags: [on, no, ", 1))
    with pytest.raises(ContentError) as caught:
        load(docs)
    assert any("'tags' must be a list of words" in p for p in caught.value.problems)
