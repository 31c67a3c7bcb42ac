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
    config_file: Path, docs_dir: Path, site_dir: Path, out: TextIO | None = None
) -> Path:
    """Build `docs_dir` with `config_file` (hooks and all) into `site_dir`, strictly, with
    precompressed copies of its text files."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    logger = logging.getLogger("mkdocs")
    shown = _Shown(out or sys.stderr)
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
        build(config)
    except MkDocsException as error:
        problems = "\n".join(shown.messages) or str(error)
        raise SiteBuildError(f"the site did not build:\n{problems}") from None
    finally:
        logger.removeHandler(shown)
        logger.setLevel(level)
        logger.propagate = propagate
    precompress(site_dir)
    return site_dir


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
