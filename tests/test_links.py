"""`kb link`: a support agent pastes a customer's words and gets links that last."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_search.cli import main
from kb_search.config import Settings


def link(capsys: pytest.CaptureFixture[str], settings: Settings, *args: str) -> str:
    code = main(
        [
            "link",
            "--index-dir",
            str(settings.index_dir),
            "--site-url",
            "https://help.example.com/",
            *args,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    return out


def test_plain_text_has_title_permalink_and_reply(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    out = link(capsys, settings, "wheres my parcel")
    first = out.split("\n\n")[0].splitlines()
    assert first[0] == "1. Track your order"
    assert first[1].strip() == "https://help.example.com/a/103/"
    assert "tracking link" in first[2]
    assert out.count("https://help.example.com/a/") == 3


def test_markdown_and_html(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert link(capsys, settings, "--markdown", "fogot pasword").startswith(
        "1. [Reset your password](https://help.example.com/a/223/)"
    )
    html = link(capsys, settings, "--html", "--top", "1", "wheres my parcel")
    assert html.startswith('<p><a href="https://help.example.com/a/103/">Track your order</a>')
    assert html.count("<p>") == 1


def test_nothing_found_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["link", "--index-dir", str(settings.index_dir), "xqzvy blorft"])
    assert code == 2 and "no article matches" in capsys.readouterr().err
