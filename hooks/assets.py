"""Our own scripts and styles, linked with their content hash (`kb.js?v=3f2a1b4c5d`).

The service caches a file requested with its current hash for a year (kb_search.sitefiles), so
a page needs no request for them on the next visit, and a changed file gets a new link at once.
Templates use the filter: `<script src="{{ 'assets/kb/kb.js' | kb_asset }}"></script>`; the
`extra_css` and `extra_javascript` entries of mkdocs.yml get their hash here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.utils.templates import url_filter

from kb_search.sitefiles import fingerprint


def asset_file(config: MkDocsConfig, path: str) -> Path:
    """Where `path` (as the site has it: assets/kb/kb.js) comes from: the docs or the theme."""
    for folder in (config.docs_dir, *config.theme.dirs):
        found = Path(folder) / path
        if found.is_file():
            return found
    raise PluginError(f"{path}: no such file in {config.docs_dir} or the theme")


def versioned(config: MkDocsConfig, path: str) -> str:
    """`path?v=<content hash>`; addresses of other hosts and ones already versioned as given."""
    if "://" in path or path.startswith("//") or "?" in path:
        return path
    return f"{path}?v={fingerprint(asset_file(config, path).read_bytes())}"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    config.extra_css = [versioned(config, path) for path in config.extra_css]
    for script in config.extra_javascript:
        if isinstance(script, str):
            continue  # MkDocs 1.6 makes each entry an ExtraScriptValue
        script.path = versioned(config, script.path)
    return config


def on_env(env: jinja2.Environment, config: MkDocsConfig, files: Any) -> jinja2.Environment:
    hashed: dict[str, str] = {}  # this build's hashes: each file is read once per build

    @jinja2.pass_context
    def kb_asset(context: Any, path: str) -> str:
        if path not in hashed:
            hashed[path] = versioned(config, path)
        return url_filter(context, hashed[path])

    env.filters["kb_asset"] = kb_asset
    return env
