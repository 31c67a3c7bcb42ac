"""An article's rendered text, split at its H2 headings, with the anchors the site gives them.

The Markdown is rendered with the extensions mkdocs.yml enables, so headings get the same ids
(`toc`'s slugify) and the index holds the words a customer reads, not Markdown syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import markdown

# Kept in step with `markdown_extensions` in mkdocs.yml (a test compares anchors with the site).
MARKDOWN_EXTENSIONS = ["toc", "admonition", "attr_list", "md_in_html", "tables", "pymdownx.details"]
_BLOCKS = {
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "tr",
    "td",
    "th",
    "div",
    "details",
    "summary",
    "br",
    "table",
    "ul",
    "ol",
    "blockquote",
}


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the text before the first H2
    anchor: str | None
    text: str


class _SectionSplitter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, str | None, list[str]]] = [("", None, [])]
        self._heading: list[str] | None = None
        self._anchor: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._heading, self._anchor = [], dict(attrs).get("id")
        elif tag == "img" and dict(attrs).get("alt"):
            self._text(" " + (dict(attrs).get("alt") or "") + " ")
        elif tag in _BLOCKS:
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self.sections.append(("".join(self._heading).strip(), self._anchor, []))
            self._heading = None
        elif tag in _BLOCKS:
            self._text("\n")

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, text: str) -> None:
        target = self._heading if self._heading is not None else self.sections[-1][2]
        target.append(text)


def split_sections(markdown_text: str) -> list[Section]:
    """Plain-text sections of rendered Markdown; empty leading text is dropped."""
    html = markdown.markdown(markdown_text, extensions=MARKDOWN_EXTENSIONS)
    splitter = _SectionSplitter()
    splitter.feed(html)
    splitter.close()
    sections = []
    for heading, anchor, parts in splitter.sections:
        text = " ".join("".join(parts).split())
        if heading or text:
            sections.append(Section(heading, anchor, text))
    return sections


def heading_ids(markdown_text: str) -> set[str]:
    """The anchor of every heading, as the site gives them (for checking `page.md#anchor`)."""
    converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS)
    converter.convert(markdown_text)
    ids: set[str] = set()
    stack = list(getattr(converter, "toc_tokens", []))
    while stack:
        token = stack.pop()
        ids.add(token["id"])
        stack.extend(token["children"])
    return ids
