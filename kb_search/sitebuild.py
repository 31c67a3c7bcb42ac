"""Building the static help center with MkDocs, strictly: every warning is shown and fails.

`mkdocs build --strict --quiet` passes with a broken link, because `--quiet` raises the log
level above the warnings that strict mode counts. Here the warnings stay at their level (so
strict mode counts them) and are printed, and a build with any of them fails.
"""

from __future__ import annotations

import gzip
import logging
import sys
from pathlib import Path
from typing import TextIO

import brotli  # type: ignore[import-untyped]

from kb_search.articles import ContentError, load
from kb_search.sitefiles import ENCODINGS

# MkDocs 2 prints a banner about itself; it is not a warning about the site.
_NOT_ABOUT_THE_SITE = ("MkDocs 2",)


class SiteBuildError(Exception):
    """The site did not build; the message lists why (file and problem)."""


class _Shown(logging.Handler):
    """Prints MkDocs's warnings and errors as they come, and keeps them."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(logging.WARNING)
        self.out = out
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(_NOT_ABOUT_THE_SITE):
            self.messages.append(message)
            print(f"{record.levelname}: {message}", file=self.out)


def build_site(
    config_file: Path,
    docs_dir: Path,
    site_dir: Path,
    out: TextIO | None = None,
    language: str | None = None,
) -> Path:
    """Build every language of the help center with `config_file` (hooks and all), strictly:
    the first into `site_dir`, each other one into `site_dir/<code>/` (HelpCenter.url_prefix);
    then precompressed copies of the text files. `language` builds that edition alone, into
    `site_dir` itself."""
    if language:
        editions = [(language, site_dir)]
    else:
        try:
            center = load(docs_dir)
        except ContentError as error:
            raise SiteBuildError(f"the site did not build:\n{error}") from None
        editions = [(code, site_dir / c.url_prefix) for code, c in center.editions.items()]
    for code, folder in editions:  # the first cleans site_dir: the others go in after it
        _build_edition(config_file, docs_dir, folder, code, out or sys.stderr)
    precompress(site_dir)
    return site_dir


def _build_edition(
    config_file: Path, docs_dir: Path, site_dir: Path, language: str, out: TextIO
) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    logger = logging.getLogger("mkdocs")
    shown = _Shown(out)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)  # not above: strict mode counts what reaches the handlers
    logger.propagate = False
    logger.addHandler(shown)
    try:
        config = load_config(
            str(config_file),
            docs_dir=str(docs_dir.resolve()),
            site_dir=str(site_dir.resolve()),
            strict=True,
        )
        config.theme["language"] = language  # hooks/validate.py picks the edition by it
        build(config)
    except MkDocsException as error:
        problems = "\n".join(shown.messages) or str(error)
        raise SiteBuildError(f"the site did not build:\n{problems}") from None
    finally:
        logger.removeHandler(shown)
        logger.setLevel(level)
        logger.propagate = propagate


# Text worth compressing; images and fonts are compressed already. Source maps only load in
# a developer's tools: not worth the build time.
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt")
MIN_BYTES = 1024  # below this, the headers outweigh what compression saves


def precompress(site_dir: Path) -> int:
    """Write `.br` (brotli at its best, 11) and `.gz` beside every text file of the site, once
    per release, so serving a page costs no compression (kb_search.sitefiles picks the copy the
    browser accepts). Returns how many files got copies."""
    done = 0
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in COMPRESSIBLE or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) < MIN_BYTES:
            continue
        written = False
        for coding, suffix in ENCODINGS:
            if coding == "br":
                packed = brotli.compress(data, quality=11)
            else:
                packed = gzip.compress(data, compresslevel=9, mtime=0)
            if len(packed) < len(data) * 0.9:  # else the plain file is as good
                path.with_name(path.name + suffix).write_bytes(packed)
                written = True
        done += written
    return done
