"""Accessible names and landmarks for Material's own markup, added to the built HTML.

Material's partials leave the search dialog and the loading bar without a name, and give two
landmarks the same name; pasting the partials to fix that would rot on every theme upgrade. This
hook edits the few tags in each page's HTML instead: it works without JavaScript, adds no inline
script (the service's Content-Security-Policy forbids those), and pages fetched by Material's
instant navigation carry the same attributes. If the theme changes a tag we rely on, the build
fails here rather than the pages silently losing their names. The names are in the edition's
language (kb_search/strings.yml).
"""

from __future__ import annotations

import functools
import html
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.pages import Page

from kb_search.strings import strings


@functools.cache
def required(language: str) -> dict[str, str]:
    """Tags every page of the theme has, and what they become."""
    ui = {key: html.escape(text) for key, text in strings(language).items()}
    return {
        '<div class="md-search" data-md-component="search" role="dialog">': (
            '<div class="md-search" data-md-component="search" role="dialog"'
            f' aria-label="{ui["search"]}">'
        ),
        # Named, so it differs from a page's own search form (the home page's, the results').
        '<div class="md-search__inner" role="search">': (
            f'<div class="md-search__inner" role="search" aria-label="{ui["search_label"]}">'
        ),
        # Material only ever moves this bar with a CSS variable, never aria-valuenow: to a
        # screen reader it is an empty progress bar outside every landmark. Hidden, it is what
        # it is: a visual cue while instant navigation loads the next page.
        '<div class="md-progress" data-md-component="progress" role="progressbar">': (
            '<div class="md-progress" data-md-component="progress" role="progressbar"'
            ' aria-hidden="true">'
        ),
    }


# Material names the breadcrumbs as it names the main menu ("Navigation", in each language):
# two landmarks, one name. Whatever Material's word, the breadcrumbs get their own.
BREADCRUMBS = re.compile(r'<nav class="md-path" aria-label="[^"]*"')
# With navigation.indexes a section's title is a link, and the label that names the section's
# menu (and opens it on a phone) holds only an arrow icon: every section menu had an empty name.
# The menu's own title label repeats the section's title: the menu is named by that label instead.
SECTION_MENU = re.compile(
    r'(?P<nav><nav class="md-nav" data-md-level="\d+" aria-labelledby=")(?P<id>__nav_[\d_]+)_label"'
    r'(?P<rest>[^>]*>\s*<label class="md-nav__title" for="(?P=id)")>'
)


PROGRESS = '<div class="md-progress"'


def name_material_markup(
    output: str, where: str, instant_progress: bool, language: str = "en"
) -> str:
    for tag, named in required(language).items():
        if tag.startswith(PROGRESS) and not instant_progress:
            continue  # no instant navigation (hooks/instant.py), so no progress bar
        if tag not in output:
            raise PluginError(
                f"{where}: Material's markup changed, hooks/accessibility.py no longer finds {tag}"
            )
        output = output.replace(tag, named)
    breadcrumb = html.escape(strings(language)["breadcrumb"])
    output = BREADCRUMBS.sub(f'<nav class="md-path" aria-label="{breadcrumb}"', output)
    return SECTION_MENU.sub(r'\g<nav>\g<id>_title"\g<rest> id="\g<id>_title">', output)


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return name_material_markup(
        output, page.file.src_uri, _progress(config), config.theme["language"]
    )


def _progress(config: MkDocsConfig) -> bool:
    return "navigation.instant.progress" in config.theme["features"]


def on_post_template(output_content: str, template_name: str, config: MkDocsConfig) -> str:
    # The 404 page is a theme template, not a page: on_post_page never sees it.
    if template_name != "404.html":
        return output_content
    return name_material_markup(
        output_content, template_name, _progress(config), config.theme["language"]
    )
