"""`kb link --lang sv`: the Swedish article's permalink under /sv/ and its Swedish reply, from
the Swedish index of a real release."""

from __future__ import annotations

import pytest

from kb_search.articles import load
from kb_search.cli import main
from kb_search.config import Settings
from tests.conftest import ROOT

SITE = "https://help.example.com/"


def link(capsys: pytest.CaptureFixture[str], settings: Settings, *args: str) -> tuple[int, str]:
    code = main(["link", "--index-dir", str(settings.index_dir), "--site-url", SITE, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_id_gives_the_swedish_permalink_and_reply(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    swedish = load(ROOT / "docs").in_language("sv").by_id(126)
    assert swedish is not None
    code, out = link(capsys, settings, "--lang", "sv", "126")
    assert code == 0, out
    title, url, reply = (line.strip() for line in out.splitlines()[:3])
    assert (title, url) == (f"1. {swedish.title}", "https://help.example.com/sv/a/126/")
    assert reply == swedish.reply.splitlines()[0]


def test_swedish_words_find_swedish_articles(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = link(capsys, settings, "--lang", "sv", "--top", "2", "paketet har inte kommit")
    assert code == 0, out
    assert out.count("https://help.example.com/sv/a/") == 2
    assert "paketet" in out.lower()


def test_english_stays_the_default(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    english = load(ROOT / "docs").by_id(126)
    assert english is not None
    code, out = link(capsys, settings, "126")
    assert code == 0, out
    assert out.splitlines()[:2] == [f"1. {english.title}", "   https://help.example.com/a/126/"]


def test_an_unknown_language_names_the_languages(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = link(capsys, settings, "--lang", "no", "paket")
    assert code == 2 and "--lang no: the help center's languages are en, sv" in out
