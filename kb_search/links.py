"""`kb link`: the articles for a customer's words, ready for a support agent to paste."""

from __future__ import annotations

import html
from typing import Any


def permalink(site_url: str, record: dict[str, Any]) -> str:
    return f"{site_url.rstrip('/')}/{record['permalink']}"


def format_links(records: list[dict[str, Any]], site_url: str, fmt: str = "text") -> str:
    """Title, permanent link and reply text of each article, in the agent's format."""
    blocks = []
    for number, record in enumerate(records, 1):
        url, title, reply = permalink(site_url, record), record["title"], record["reply"]
        if fmt == "markdown":
            blocks.append(f"{number}. [{title}]({url})\n\n   {reply}")
        elif fmt == "html":
            blocks.append(
                f'<p><a href="{html.escape(url)}">{html.escape(title)}</a><br>\n'
                f"{html.escape(reply)}</p>"
            )
        else:
            blocks.append(f"{number}. {title}\n   {url}\n   {reply}")
    return "\n\n".join(blocks)
