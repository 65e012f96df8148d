"""Reading big XML exports safely and a record at a time.

``defusedxml`` refuses document type declarations, entities and external references (no
XXE, no "billion laughs"), and ``iterparse`` hands over one element at a time, each cleared
once read, so a file of 100,000 comments never sits in memory as a tree."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .records import ImportFileError


def local(tag: str) -> str:
    """An element's name without its namespace: ``{http://disqus.com}post`` → ``post``."""
    return tag.rsplit("}", 1)[-1]


def records(path: Path, depth: int) -> Iterator[Element]:
    """Every element ``depth`` levels below the root (the root is level 1), complete, each
    freed once the caller has moved on. Malformed XML stops with its line and column."""
    open_elements: list[Element] = []
    try:
        for event, element in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            if len(open_elements) + 1 == depth:
                yield element
                # Drop what was read from its parent (still being built), keep memory flat.
                open_elements[-1].remove(element)
    except ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        raise ImportFileError(
            f"{path.name}, line {line}, column {column}: not well-formed XML ({reason})."
        ) from None
    except DefusedXmlException as error:
        raise ImportFileError(
            f"{path.name}: refused: the file declares a DTD or entities ({type(error).__name__})"
            "; exports never do, and such declarations can read files or exhaust memory."
        ) from None
    except OSError as error:
        raise ImportFileError(f"{path.name}: {error.strerror or error}.") from None


def child_text(element: Element, name: str) -> str:
    """The text of the first child called ``name`` (any namespace), or ""."""
    for child in element:
        if local(child.tag) == name:
            return (child.text or "").strip() if name != "message" else (child.text or "")
    return ""


def child(element: Element, name: str) -> Element | None:
    for found in element:
        if local(found.tag) == name:
            return found
    return None


def attribute(element: Element | None, name: str) -> str:
    """An attribute by its local name (``dsq:id`` is ``id``), or ""."""
    if element is None:
        return ""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value.strip()
    return ""


def parse_time(value: str, where: str) -> datetime:
    """An ISO 8601 time (``2013-05-01T10:00:00Z``, or ``2013-05-01 10:00:00`` as WordPress
    writes it), as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ImportFileError(f"{where}: {value!r} is not a date and time.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
