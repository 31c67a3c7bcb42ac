"""`kb check` across languages: an article in one language only and a translation older than
its English article are warnings that say what to do; each language's search tests run
against its own index."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kb_search.articles import Article, load
from kb_search.check import check, last_commit_date
from kb_search.config import Settings
from tests.conftest import copy_project

ENGLISH = "docs/returns/damaged-item.md"
SWEDISH = "translations/sv/returns/damaged-item.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (docs and translations), outside any git repository."""
    return copy_project(tmp_path / "project")


def findings(project: Path, search: bool = False) -> list[str]:
    settings = Settings.from_env({}, docs_dir=project / "docs")
    return [str(f) for f in check(settings, search=search)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def article(project: Path, language: str = "en") -> Article:
    """Article 144 (a damaged item) in `language`, as the copy has it."""
    found = load(project / "docs").in_language(language).by_id(144)
    assert found is not None
    return found


def line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.startswith(start))


def test_the_copied_help_center_has_no_translation_warnings(project: Path) -> None:
    assert [f for f in findings(project) if "translat" in f] == []


def test_an_english_article_without_its_swedish_one_is_a_warning(project: Path) -> None:
    (project / SWEDISH).unlink()
    assert (
        f"{ENGLISH}: warning: no Swedish article with id 144: translate it into {SWEDISH} "
        "(with id: 144), or remove this one if the article is not wanted in Swedish"
    ) in findings(project)


def test_a_swedish_article_without_its_english_one_is_a_warning(project: Path) -> None:
    free = load(project / "docs").next_id()
    text = (project / SWEDISH).read_text(encoding="utf-8")
    extra = project / "translations/sv/returns/byt-storlek-i-butik.md"
    extra.write_text(
        text.replace("id: 144", f"id: {free}").replace(
            f"title: {article(project, 'sv').title}", "title: Byt storlek i butik"
        ),
        encoding="utf-8",
    )
    found = findings(project)
    expected = (
        f"translations/sv/returns/byt-storlek-i-butik.md: warning: no English article with id "
        f"{free}: translate it into docs/returns/byt-storlek-i-butik.md (with id: {free}), or "
        "remove this one if the article is not wanted in English"
    )
    assert expected in found
    assert not [f for f in found if ": error: " in f]  # one language only is not an error


def test_a_translation_reviewed_before_its_english_article_is_out_of_date(project: Path) -> None:
    english, swedish = article(project).reviewed, article(project, "sv").reviewed
    older = english - dt.timedelta(days=1)
    edit(project / SWEDISH, f"reviewed: {swedish}", f"reviewed: {older}")
    found = [f for f in findings(project) if "out of date" in f]
    assert found == [
        f"{SWEDISH}:{line_of(project / SWEDISH, 'reviewed:')}: warning: out of date: {ENGLISH} "
        f"was reviewed on {english}, after this translation was last reviewed ({older}); bring "
        "it up to date and set its 'reviewed' date"
    ]


def git(project: Path, *args: str, date: dt.date) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Writer",
        "GIT_AUTHOR_EMAIL": "writer@example.com",
        "GIT_COMMITTER_NAME": "Writer",
        "GIT_COMMITTER_EMAIL": "writer@example.com",
        "GIT_AUTHOR_DATE": f"{date}T12:00:00",
        "GIT_COMMITTER_DATE": f"{date}T12:00:00",
    }
    subprocess.run(["git", *args], cwd=project, env=env, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_english_file_committed_after_the_translation_was_reviewed_is_out_of_date(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewed = article(project, "sv").reviewed
    later = max(reviewed, article(project).reviewed) + dt.timedelta(days=9)
    git(project, "init", "-q", date=later)
    git(project, "add", "docs", "translations", date=later)
    git(project, "commit", "-q", "-m", "The help center", date=later)
    assert last_commit_date(project / ENGLISH) == later

    found = [f for f in findings(project) if "out of date" in f]
    assert (
        f"{SWEDISH}:{line_of(project / SWEDISH, 'reviewed:')}: warning: out of date: {ENGLISH} "
        f"was last committed on {later}, after this translation was last reviewed ({reviewed}); "
        "bring it up to date and set its 'reviewed' date"
    ) in found
    assert all(f.startswith("translations/sv/") and ": warning: " in f for f in found)

    monkeypatch.setenv("PATH", str(project / "no-git-here"))  # without git: reviewed dates only
    assert last_commit_date(project / ENGLISH) is None
    assert [f for f in findings(project) if "out of date" in f] == []


def test_a_file_never_committed_has_no_commit_date(project: Path) -> None:
    assert last_commit_date(project / ENGLISH) is None  # outside any repository


def test_swedish_search_tests_run_against_the_swedish_index(project: Path) -> None:
    swedish = article(project, "sv")
    edit(project / SWEDISH, f"  - {swedish.queries[0]}\n", "  - återbetalning\n")
    found = [f for f in findings(project, search=True) if "search test" in f]
    line = line_of(project / SWEDISH, "  - återbetalning")
    assert len(found) == 1, found
    prefix = f"{SWEDISH}:{line}: error: search test: 'återbetalning' should find article 144 "
    assert found[0].startswith(f"{prefix}'{swedish.title}' in the top 3"), found
    # What ranked above it are Swedish articles: the Swedish index answered.
    assert "ranked above it: " in found[0] and "Refund" not in found[0]


def test_a_shallow_clone_says_nothing_about_commit_dates(tmp_path: Path) -> None:
    """In a shallow clone (CI's) every file's last commit would seem to be the newest one."""
    from tests.conftest import ROOT

    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(clone)],
        check=True,
        capture_output=True,
    )
    assert last_commit_date(clone / "docs" / "orders" / "track-your-order.md") is None
