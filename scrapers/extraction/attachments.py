"""Files linked from an announcement ("Do pobrania", "Załączniki", bare link lists)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import Tag

from scrapers.extraction.text import clean_line
from scrapers.items import AttachmentItem

FILE_TYPES = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "odt",
        "rtf",
        "txt",
        "xls",
        "xlsx",
        "ods",
        "csv",
        "ppt",
        "pptx",
        "odp",
        "zip",
        "rar",
        "7z",
        "xml",
        "epub",
    ]
)
_SIZE = re.compile(r"\(?\s*(\d+(?:[.,]\d+)?\s*(?:[kKMG]i?B|bajt(?:y|ów)?))\s*\)?")


def file_type_of(url: str) -> str | None:
    suffix = suffix_of(url)
    return suffix if suffix in FILE_TYPES else None


def suffix_of(url: str) -> str:
    """The lower-case extension of the file a URL names (`pdf`, `jpg`), "" when it has none."""
    name = _file_name(url)
    dot = name.rfind(".")
    return name[dot + 1 :].lower().lstrip(".") if 0 < dot < len(name) - 1 else ""  # PurePosixPath.suffix


def _file_name(url: str) -> str:
    """PurePosixPath(unquote(path)).name: the last segment of the URL's path that is not empty or
    "." (without building a path object, which cost more than the rest of reading a link)."""
    for segment in reversed(unquote(urlsplit(url).path).split("/")):
        if segment and segment != ".":
            return segment
    return ""


def find_attachments(root: Tag, base_url: str) -> list[AttachmentItem]:
    found: dict[str, AttachmentItem] = {}
    # (root.find_all("a", href=True) without building a SoupStrainer: the walk alone is cheaper)
    for link in [e for e in root.descendants if isinstance(e, Tag) and e.name == "a" and e.get("href") is not None]:
        url = urljoin(base_url, str(link["href"]).strip())
        file_type = file_type_of(url)
        if file_type is None and not link.has_attr("download"):
            continue
        name = clean_line(link.get_text(" "))
        size_match = _SIZE.search(name)
        if size_match is None and link.next_sibling is not None and isinstance(link.next_sibling, str):
            size_match = _SIZE.match(link.next_sibling.strip())
        size = size_match.group(1) if size_match else None
        if size_match and size_match.group(0) in name:
            name = clean_line(name.replace(size_match.group(0), ""))
        if not name:
            name = _file_name(url)
        name = name.strip(" –-:")
        if url not in found:
            found[url] = AttachmentItem(name=name, url=url, file_type=file_type, size=size)
    return list(found.values())
