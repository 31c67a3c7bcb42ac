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


# Headings inside a section are not passages: a snippet is prose, not titles run together.
_HEADINGS = {"h1", "h3", "h4", "h5", "h6"}


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the text before the first H2
    anchor: str | None
    text: str
    # What a snippet is made of: each paragraph or list item ("p", text) and each table row
    # ("row", "first cell: other cells"), in order (kb_search.snippets).
    passages: tuple[tuple[str, str], ...] = ()


class _SectionSplitter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, str | None, list[str]]] = [("", None, [])]
        self.passages: list[list[tuple[str, str]]] = [[]]
        self._heading: list[str] | None = None
        self._anchor: str | None = None
        self._passage: list[str] = []  # the paragraph or table cell being read
        self._row: list[str] | None = None  # the table row's cells so far
        self._header_cells: list[str] = []
        self._row_is_header = False
        self._in_minor_heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._block_edge(tag, start=True)
        if tag == "h2":
            self._heading, self._anchor = [], dict(attrs).get("id")
        elif tag == "img" and dict(attrs).get("alt"):
            self._text(" " + (dict(attrs).get("alt") or "") + " ")
        elif tag in _BLOCKS:
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        self._block_edge(tag, start=False)
        if tag == "h2" and self._heading is not None:
            self.sections.append(("".join(self._heading).strip(), self._anchor, []))
            self.passages.append([])
            self._heading = None
        elif tag in _BLOCKS:
            self._text("\n")

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, text: str) -> None:
        target = self._heading if self._heading is not None else self.sections[-1][2]
        target.append(text)
        if self._heading is None and not self._in_minor_heading:
            self._passage.append(text)

    def _block_edge(self, tag: str, *, start: bool) -> None:
        """A block starts or ends: what was read so far is a passage (or a table cell)."""
        if tag not in _BLOCKS and tag not in _HEADINGS and tag != "h2":
            return
        text = " ".join("".join(self._passage).split())
        self._passage = []
        if tag in ("td", "th") and not start and self._row is not None:
            self._row.append(text)
            self._row_is_header = self._row_is_header or tag == "th"
        elif text and self._row is None:
            self.passages[-1].append(("p", text))
        if tag in _HEADINGS:
            self._in_minor_heading += 1 if start else -1
        elif tag == "tr" and start:
            self._row, self._row_is_header = [], False
        elif tag == "tr" and self._row is not None:
            self._end_row(self._row)
            self._row = None

    def _end_row(self, cells: list[str]) -> None:
        """A header row names the columns; a row reads "first cell: the others"."""
        if self._row_is_header:
            self._header_cells = cells
            return
        if not any(cells[1:]):
            if cells and cells[0]:
                self.passages[-1].append(("row", cells[0]))
            return
        # With more than two columns, each cell needs its column's name to mean anything.
        named = len(cells) > 2 and len(self._header_cells) == len(cells)
        rest = [
            f"{self._header_cells[i]} {cell}" if named else cell
            for i, cell in enumerate(cells)
            if i and cell
        ]
        self.passages[-1].append(("row", f"{cells[0]}: {'; '.join(rest)}"))


def split_sections(markdown_text: str) -> list[Section]:
    """Plain-text sections of rendered Markdown; empty leading text is dropped."""
    html = markdown.markdown(markdown_text, extensions=MARKDOWN_EXTENSIONS)
    splitter = _SectionSplitter()
    splitter.feed(html)
    splitter.close()
    sections = []
    for (heading, anchor, parts), passages in zip(
        splitter.sections, splitter.passages, strict=True
    ):
        text = " ".join("".join(parts).split())
        if heading or text:
            sections.append(Section(heading, anchor, text, tuple(passages)))
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
