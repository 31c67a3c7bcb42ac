"""Building the static help center with MkDocs, strictly: every warning is shown and fails.

`mkdocs build --strict --quiet` passes with a broken link, because `--quiet` raises the log
level above the warnings that strict mode counts. Here the warnings stay at their level (so
strict mode counts them) and are printed, and a build with any of them fails.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

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
    """Build `docs_dir` with `config_file` (hooks and all) into `site_dir`, strictly."""
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
    return site_dir
