"""Imported bodies, sanitized: on several processes when there are many.

Rendering is most of an import's work (bleach: ~0.2 ms per body), and each body is
independent, so a big file is rendered by a pool of worker processes, one per core. They
are *spawned*, not forked: a forked child would share the parent's database connections
(closing them at exit would end the parent's). Workers never touch the database: only
Disqus, WordPress and Isso bodies go to them; this forum's own export links @mentions to
accounts, which needs a query, and is rendered here. As with any use of multiprocessing,
a script that imports from Python (rather than through ``flask``) must keep its work under
``if __name__ == "__main__":``, since spawned workers import the main module again."""

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from forum.services import mentions, sanitize
from forum.services.text import clean_text

# Longer bodies are cut here before rendering (this forum's own limit is 10,000 characters;
# an old system may have allowed more, and the sanitizer's time grows with the length).
BODY_MAX = 50_000
# Fewer bodies than this render in this process: starting workers costs about a second.
PARALLEL_FROM = 5_000
CHUNK = 250


def render_body(body: str, body_format: str, system: str) -> tuple[str, str]:
    """The stored source and its sanitized HTML. Only this forum's own comments link their
    @mentions to accounts: a name in another system's comment is nobody here."""
    body = clean_text(body or "")[:BODY_MAX]
    if body_format == "html":
        return body, sanitize.render_html(body)
    if system == "forum":
        return body, mentions.render_with_mentions(body).html
    return body, sanitize.render_markdown(body)


def _render_chunk(jobs: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [render_body(*job) for job in jobs]


def render_all(
    jobs: Sequence[tuple[str, str, str]], progress: Callable[[int], None] | None = None
) -> list[tuple[str, str]]:
    """``render_body`` of each (body, format, system), in order."""
    workers = min(os.cpu_count() or 1, 4)
    chunks = [list(jobs[i : i + CHUNK]) for i in range(0, len(jobs), CHUNK)]
    parallel = len(jobs) >= PARALLEL_FROM and workers > 1 and all(job[2] != "forum" for job in jobs)
    results: list[tuple[str, str]] = []
    if not parallel:
        for chunk in chunks:
            results.extend(_render_chunk(chunk))
            if progress:
                progress(len(chunk))
        return results
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=sanitize.configure,
            initargs=(sanitize.configured_backend(),),
        ) as pool:
            for rendered in pool.map(_render_chunk, chunks):
                results.extend(rendered)
                if progress:
                    progress(len(rendered))
    except (BrokenProcessPool, OSError):
        # No workers here (a sandbox that forbids processes, a main module that can't be
        # imported again): render the rest in this process, as for a small file.
        done = len(results) // CHUNK
        for chunk in chunks[done:]:
            results.extend(_render_chunk(chunk))
            if progress:
                progress(len(chunk))
    return results
