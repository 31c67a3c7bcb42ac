"""`kb link`: a support agent pastes a customer's words and gets links that last."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kb_search.cli import main
from kb_search.config import Settings
from tests.conftest import ROOT


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


def test_without_kb_site_url_the_links_use_the_stores_website(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_SITE_URL", raising=False)
    website = yaml.safe_load((ROOT / "docs" / "store.yml").read_text())["website"]
    code = main(
        [
            *("link", "--index-dir", str(settings.index_dir), "--docs-dir", str(ROOT / "docs")),
            *("--top", "1", "wheres my parcel"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert f"{website.rstrip('/')}/a/103/" in captured.out
    assert captured.err == ""


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000"]
)
def test_a_local_address_is_printed_with_a_warning(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    address: str,
) -> None:
    monkeypatch.setenv("KB_SITE_URL", address)
    code = main(["link", "--index-dir", str(settings.index_dir), "--top", "1", "wheres my parcel"])
    captured = capsys.readouterr()
    assert code == 0
    assert f"{address.rstrip('/')}/a/103/" in captured.out
    assert "warning" in captured.err and "KB_SITE_URL" in captured.err


def test_no_address_anywhere_says_what_to_set(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("KB_SITE_URL", raising=False)
    (tmp_path / "store.yml").write_text("name: A shop without a website\n")
    code = main(
        [
            *("link", "--index-dir", str(settings.index_dir), "--docs-dir", str(tmp_path)),
            "wheres my parcel",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "KB_SITE_URL" in err and "website" in err
