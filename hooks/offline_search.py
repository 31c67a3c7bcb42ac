"""Material's own (lunr) search loads only when a search needs it, not on every page.

Material 9.8 fetches search/search_index.json whenever the page has a form named "search" (its
header's), and starts the worker named in the page's __config ("search"). While the search
service answers, neither is used: search-header.js answers the box. So each page gets:

- the header's search form without its name, so Material's bundle does not fetch the index;
- __config.search pointing to our worker (assets/javascripts/workers/kb-search.js), which
  fetches the index and starts Material's worker on the first query Material sends it: that
  only happens when the service did not answer.

tests/e2e/test_lighthouse.py checks both ways (with and without the service), and
tests/test_site_build.py the pages: a theme upgrade that changes either fails them.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.pages import Page

from kb_search.sitefiles import fingerprint

WORKER = "assets/javascripts/workers/kb-search.js"
_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.DOTALL)
_FORM = re.compile(r'(<form class="md-search__form") name="search"')


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    # Read and hashed once a build, not once a page.
    worker = Path(config.theme.custom_dir or "") / WORKER
    config.extra["kb_search_worker_version"] = fingerprint(worker.read_bytes())
    return config


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return lazy_search(output, config)


def on_post_template(output_content: str, template_name: str, config: MkDocsConfig) -> str:
    return lazy_search(output_content, config) if template_name == "404.html" else output_content


def lazy_search(html: str, config: MkDocsConfig) -> str:
    found = _CONFIG.search(html)
    if found is None or "material/search" not in config.plugins:
        return html
    settings: dict[str, Any] = json.loads(found.group(2))
    material_worker = settings.get("search")
    if not material_worker or posixpath.basename(material_worker).startswith("kb-search"):
        return html
    folder, name = posixpath.split(material_worker)
    if not folder.endswith(posixpath.dirname(WORKER)):  # ours must sit beside it: see its top
        raise PluginError(f"Material's search worker moved ({material_worker}): see {__file__}")
    version = config.extra["kb_search_worker_version"]
    suggest = "1" if "search.suggest" in settings.get("features", []) else "0"
    settings["search"] = (
        f"{folder}/{posixpath.basename(WORKER)}?v={version}&worker={name}&suggest={suggest}"
    )
    rendered = json.dumps(settings, separators=(",", ":")).replace("<", "\\u003c")
    html = html[: found.start(2)] + rendered + html[found.end(2) :]
    return _FORM.sub(r"\1", html, count=1)
