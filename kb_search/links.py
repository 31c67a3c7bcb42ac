"""`kb link`: the articles for a customer's words, ready for a support agent to paste."""

from __future__ import annotations

import html
import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kb_search.articles import STORE_FILE


class NoSiteAddress(ValueError):
    """Neither KB_SITE_URL nor the store's `website` says where the help center is."""


def site_address(site_url: str, docs_dir: Path) -> str:
    """Where the links point: KB_SITE_URL when set, else `website` in the store facts, so a
    link an agent pastes reaches the customer without anyone remembering to set a variable."""
    if site_url.strip():
        return site_url.strip()
    path = Path(docs_dir) / STORE_FILE
    try:
        store = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise NoSiteAddress(f"KB_SITE_URL is not set and {path} cannot be read: {error}") from None
    website = str((store or {}).get("website") or "").strip() if isinstance(store, dict) else ""
    if not website:
        raise NoSiteAddress(f"KB_SITE_URL is not set and {path} has no 'website'")
    return website


def is_local(address: str) -> bool:
    """An address only this machine can open: a customer's browser would get nowhere."""
    host = (urlsplit(address).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


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
