"""Material's instant navigation only where it can work: with a `site_url` (KB_SITE_URL).

It follows only links listed in sitemap.xml, and without a site_url the sitemap lists no page
(hooks/seo.py), so it intercepts nothing: its code and its progress bar cost every page about
3 Lighthouse points of main-thread time for no benefit. With a site_url both stay on.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig

INSTANT = ("navigation.instant", "navigation.instant.progress")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if not config.site_url:
        features = config.theme["features"]
        features[:] = [f for f in features if f not in INSTANT]
    return config
