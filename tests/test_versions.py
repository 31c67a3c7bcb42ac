"""Releases: built atomically, switched to with one pointer, and never able to break search.

Each fault here once broke the running service: a bad CURRENT answered 500 until a restart, a
deleted release folder did the same after a restart, and a truncated segment file killed the
process with SIGBUS (Whoosh memory-maps segments).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import HelpCenter, load
from kb_search.config import Settings
from kb_search.security import inline_script_hashes
from kb_search.versions import (
    CURRENT,
    IndexMissing,
    LiveIndex,
    build,
    link_site,
    point_to,
    remove_old,
)
from tests.conftest import ROOT, copy_project


@pytest.fixture(scope="module")
def center() -> HelpCenter:
    return load(ROOT / "docs")


@pytest.fixture
def fast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look at CURRENT on every request, so a test need not wait a second per switch."""
    monkeypatch.setattr(LiveIndex, "CHECK_SECONDS", 0.0)
    monkeypatch.setattr(LiveIndex, "RETRY_SECONDS", 0.0)


def app_on(root: Path, settings: Settings) -> TestClient:
    return TestClient(create_app(Settings.from_env({}, **{**vars(settings), "index_dir": root})))


def found(client: TestClient, q: str = "wheres my parcel") -> list[str]:
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [r["title"] for r in response.json()["results"]]


def test_a_release_is_switched_to_atomically(tmp_path: Path, center: HelpCenter) -> None:
    root = tmp_path / "releases"
    with pytest.raises(IndexMissing):
        LiveIndex(root).current()
    versions = [build(center, root).name for _ in range(3)]
    assert (root / CURRENT).read_text() == versions[-1]
    assert not list(root.glob(".staging-*"))
    live = LiveIndex(root)
    assert live.current().version == versions[-1]
    assert len(live.current().records) == len(center.published)
    live.close()


def test_old_releases_are_removed_by_age_never_the_newest_two(
    tmp_path: Path, center: HelpCenter
) -> None:
    root = tmp_path / "releases"
    versions = [build(center, root).name for _ in range(4)]
    # Replaced moments ago: all kept, so a request or a replica still on one finds its files.
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == versions
    remove_old(root, keep_replaced_seconds=600, now=time.time() + 3600)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == versions[2:]


def test_a_failed_build_leaves_the_current_release_alone(tmp_path: Path) -> None:
    docs = copy_project(tmp_path / "p") / "docs"
    root = tmp_path / "releases"
    good = build(load(docs), root).name

    def broken_site(folder: Path) -> None:
        raise RuntimeError("the site build failed")

    with pytest.raises(RuntimeError):
        build(load(docs), root, site=broken_site)
    assert (root / CURRENT).read_text() == good
    assert [p.name for p in root.iterdir() if p.is_dir()] == [good]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "empty", "missing folder", "deleted folder", "truncated segment"],
)
def test_a_bad_release_keeps_the_old_one_answering_until_a_good_one(
    tmp_path: Path,
    center: HelpCenter,
    settings: Settings,
    built_site: Path,
    fast_checks: None,
    damage: str,
) -> None:
    root = tmp_path / "releases"
    site = link_site(built_site)
    first = build(center, root, site=site)
    with app_on(root, settings) as client:
        assert found(client)[0] == "Track your order"
        bad = build(center, root, site=site)
        if damage == "garbage":
            (root / CURRENT).write_text("\x00not a release\n")
        elif damage == "empty":
            (root / CURRENT).write_text("")
        elif damage == "missing folder":
            (root / CURRENT).write_text("20991231T235959000000-abcdef")
        elif damage == "deleted folder":
            shutil.rmtree(bad)
        else:
            for segment in bad.glob("*.seg"):
                segment.write_bytes(segment.read_bytes()[:100])

        assert found(client)[0] == "Track your order"  # answered by the first release
        health = client.get("/healthz").json()
        assert health["index"] == first.name
        assert health["status"] == "degraded"
        assert any("still serving release" in p for p in health["problems"])

        fixed = build(center, root, site=site)
        assert found(client)[0] == "Track your order"
        health = client.get("/healthz").json()
        assert (health["index"], health["status"]) == (fixed.name, "ok")


@pytest.mark.parametrize("pointer", ["garbage\n", ""])
def test_a_bad_release_at_start_is_a_clear_503_not_a_500(
    tmp_path: Path, center: HelpCenter, settings: Settings, pointer: str
) -> None:
    root = tmp_path / "releases"
    build(center, root)
    (root / CURRENT).write_text(pointer)
    with app_on(root, settings) as client:
        for path in ("/api/search?q=return", "/healthz", "/api/suggest?q=ret"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            body = response.json()
            assert body["ok"] is False and body["status"] == 503
            assert "search is not ready" in body["error"]
        assert client.get("/").status_code == 503


def test_a_truncated_segment_of_the_open_release_cannot_take_the_process_down(
    tmp_path: Path, center: HelpCenter
) -> None:
    root = tmp_path / "releases"
    build(center, root)
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from kb_search.search import search
        from kb_search.versions import LiveIndex
        root = Path({str(root)!r})
        index = LiveIndex(root).current()
        assert search(index, "wheres my parcel").results
        for segment in root.glob("*/*.seg"):
            segment.write_bytes(b"")  # truncated under the running service
        for query in ("return label", "refund", "gift card", "track my order"):
            assert search(index, query).results, query
        print("still answering")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]  # -7 is SIGBUS
    assert "still answering" in result.stdout


@pytest.fixture
def site_releases(tmp_path: Path, built_site: Path) -> Iterator[tuple[Path, Path]]:
    yield tmp_path / "releases", built_site


def test_a_new_release_never_takes_the_site_away(
    site_releases: tuple[Path, Path], center: HelpCenter, settings: Settings, fast_checks: None
) -> None:
    root, built_site = site_releases
    build(center, root, site=link_site(built_site))
    failures: list[str] = []
    stop = threading.Event()
    with app_on(root, settings) as client:

        def browse() -> None:
            while not stop.is_set():
                for path in ("/", "/orders/track-your-order/", "/a/103/", "/search/"):
                    status = client.get(path).status_code
                    if status != 200:
                        failures.append(f"{path}: {status}")

        readers = [threading.Thread(target=browse) for _ in range(2)]
        for reader in readers:
            reader.start()
        try:
            for _ in range(3):
                build(center, root, site=link_site(built_site), keep_replaced_seconds=0)
        finally:
            stop.set()
            for reader in readers:
                reader.join()
    assert failures == []


def test_the_page_policy_follows_the_release_that_serves_it(
    site_releases: tuple[Path, Path], center: HelpCenter, settings: Settings, fast_checks: None
) -> None:
    root, built_site = site_releases
    build(center, root)  # a release without a site: the service starts before the site exists
    with app_on(root, settings) as client:
        assert client.get("/").status_code == 503
        assert client.get("/healthz").json()["site"] is False
        build(center, root, site=link_site(built_site))
        page = client.get("/")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        hashes = inline_script_hashes(built_site)
        assert hashes and all(h in policy for h in hashes)
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_a_release_built_by_another_version_is_refused_clearly(
    tmp_path: Path, center: HelpCenter, settings: Settings
) -> None:
    root = tmp_path / "releases"
    folder = build(center, root)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["format"]  # as kb built them before releases had a format
    (folder / "meta.json").write_text(json.dumps(meta))
    with app_on(root, settings) as client:
        response = client.get("/api/search", params={"q": "return"})
    assert response.status_code == 503
    assert "built by another version of kb: run `kb release`" in response.json()["error"]


def test_after_a_rollback_the_next_build_keeps_the_release_rolled_back_to(
    tmp_path: Path, center: HelpCenter
) -> None:
    root = tmp_path / "releases"
    versions = [build(center, root).name for _ in range(3)]
    point_to(root, versions[0])  # the operator rolls back two releases
    newest = build(center, root, keep_replaced_seconds=0).name
    left = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert versions[0] in left and newest in left
    assert (root / CURRENT).read_text() == newest


def test_a_stray_folder_in_the_release_root_does_not_break_a_build(
    tmp_path: Path, center: HelpCenter
) -> None:
    root = tmp_path / "releases"
    build(center, root)
    (root / ".staging-old-copy").mkdir()  # an operator's copy, or a name from elsewhere
    (root / "notes").mkdir()
    newest = build(center, root, keep_replaced_seconds=0).name
    assert (root / CURRENT).read_text() == newest
    assert (root / ".staging-old-copy").is_dir() and (root / "notes").is_dir()


@pytest.mark.parametrize("damage", ["truncated segment", "missing folder"])
def test_a_damaged_release_at_start_serves_the_one_before_it(
    tmp_path: Path, center: HelpCenter, settings: Settings, built_site: Path, damage: str
) -> None:
    root = tmp_path / "releases"
    site = link_site(built_site)
    previous = build(center, root, site=site)
    damaged = build(center, root, site=site)
    if damage == "missing folder":
        shutil.rmtree(damaged)
    else:
        for segment in damaged.glob("*.seg"):
            segment.write_bytes(segment.read_bytes()[:1000])
    with app_on(root, settings) as client:  # a restart, with CURRENT on the damaged one
        assert found(client)[0] == "Track your order"
        assert client.get("/orders/track-your-order/").status_code == 200
        health = client.get("/healthz").json()
    assert (health["index"], health["status"]) == (previous.name, "degraded")
    assert any(damaged.name in p and "still serving" in p for p in health["problems"])


def test_a_directory_redirect_names_no_host(client: TestClient) -> None:
    response = client.get("/returns", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (301, 307, 308)
    assert response.headers["location"] == "/returns/"
