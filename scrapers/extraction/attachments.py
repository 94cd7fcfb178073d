"""Files linked from an announcement ("Do pobrania", "Załączniki", bare link lists)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import Tag

from scrapers.extraction.file_names import file_name_of, suffix_of
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
            name = file_name_of(url)
        name = name.strip(" –-:")
        if url not in found:
            found[url] = AttachmentItem(name=name, url=url, file_type=file_type, size=size)
    return list(found.values())
