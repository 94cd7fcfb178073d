"""A file's name and type as its URL gives them: read by the scraper (attachments, pictures) and by
the feeds (attachments' titles and MIME types). No HTML here, so the feeds need no parser to import it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def suffix_of(url: str) -> str:
    """The lower-case extension of the file a URL names (`pdf`, `jpg`), "" when it has none."""
    name = file_name_of(url)
    dot = name.rfind(".")
    return name[dot + 1 :].lower().lstrip(".") if 0 < dot < len(name) - 1 else ""  # PurePosixPath.suffix


def file_name_of(url: str) -> str:
    """PurePosixPath(unquote(path)).name: the last segment of the URL's path that is not empty or
    "." (without building a path object, which cost more than the rest of reading a link)."""
    for segment in reversed(unquote(urlsplit(url).path).split("/")):
        if segment and segment != ".":
            return segment
    return ""
