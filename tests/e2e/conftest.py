"""Headless Chromium (Debian's package) driven by Playwright against a live local service."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from kb_search.app import Service, create_app
from kb_search.config import Settings
from kb_search.querylog import QueryLog
from tests.conftest import ROOT, live_uvicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps calling home, and this machine has no network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-results"


@dataclass
class LiveService:
    url: str
    settings: Settings
    service: Service

    @property
    def log_db(self) -> Path:
        return self.settings.log_db

    @property
    def log(self) -> QueryLog:
        return self.service.log


@pytest.fixture(scope="session")
def live_service(
    tmp_path_factory: pytest.TempPathFactory, index_root: Path
) -> Iterator[LiveService]:
    """The real service on a live uvicorn at 127.0.0.1 (a free port), with its own SQLite log."""
    settings = Settings.from_env(
        {},
        docs_dir=ROOT / "docs",
        index_dir=index_root,
        log_db=tmp_path_factory.mktemp("live") / "querylog.sqlite3",
        admin_token="live-token",
    )
    app = create_app(settings)
    with live_uvicorn(app) as url:
        yield LiveService(url, settings, app.state.service)


@pytest.fixture(scope="session")
def live_site(live_service: LiveService) -> str:
    return live_service.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page: most customers come on phones."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A common laptop screen, where the category tabs show."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture(scope="module")
def static_site(built_site: Path) -> Iterator[str]:
    """The same site on a plain static host: no search service behind it."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
