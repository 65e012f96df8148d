"""``--url-map CSV``: where the threads of an old system go here.

One mapping per line, ``OLD_URL,TARGET``: TARGET is the slug of an article this forum
hosts (its comments join that discussion) or a new page address (the thread becomes, or
joins, the external article at that address). Blank lines and lines starting with ``#``
are skipped, and so is a first line ``old_url,target`` (a header)."""

import csv
from dataclasses import dataclass
from pathlib import Path

from forum.services import external_articles
from forum.services.errors import NotAllowed

from .records import ImportFileError


@dataclass(frozen=True)
class Target:
    slug: str | None = None
    url: str | None = None


class UrlMap:
    def __init__(self, targets: dict[str, Target]) -> None:
        self._targets = targets

    def __len__(self) -> int:
        return len(self._targets)

    def target(self, url: str) -> Target | None:
        """Where the thread at ``url`` goes, by its canonical address; None: not mapped."""
        try:
            return self._targets.get(external_articles.canonical_url(url))
        except NotAllowed:
            return None


def read_url_map(path: Path) -> UrlMap:
    targets: dict[str, Target] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                where = f"{path.name}, line {number}"
                cells = [cell.strip() for cell in row]
                if number == 1 and cells[0].lower() in ("old_url", "old", "from"):
                    continue
                if len(cells) != 2 or not cells[0] or not cells[1]:
                    raise ImportFileError(f"{where}: expected OLD_URL,TARGET (two values).")
                old = _canonical(cells[0], where)
                if old in targets:
                    raise ImportFileError(f"{where}: {old} is mapped twice.")
                target = cells[1]
                if "://" in target:
                    targets[old] = Target(url=_canonical(target, where))
                else:
                    targets[old] = Target(slug=target.strip("/").removeprefix("articles/"))
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path.name}: not UTF-8 text ({error.reason}).") from None
    except csv.Error as error:
        raise ImportFileError(f"{path.name}: {error}") from None
    return UrlMap(targets)


def _canonical(url: str, where: str) -> str:
    try:
        return external_articles.canonical_url(url)
    except NotAllowed as error:
        raise ImportFileError(f"{where}: {url!r}: {error.message}") from None
