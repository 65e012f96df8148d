"""Re-rendering stored Markdown after the sanitizer or its allowlist changes."""

from collections.abc import Iterator

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Comment, CommentRevision, CommentSource
from forum.services.sanitize import render_html, render_markdown
from forum.services.threads import render_body

# (model, profile): articles may use headings and tables; comments and revisions may not.
_STORED = ((Comment, "comment"), (CommentRevision, "comment"), (Article, "article"))


def count_stored_bodies() -> int:
    """How many bodies ``rerender_all`` will visit."""
    return sum(
        db.session.execute(select(func.count(model.id))).scalar_one() for model, _ in _STORED
    )


def rerender_all(*, batch_size: int = 500) -> Iterator[tuple[int, int]]:
    """Re-render every body in batches (one commit each); yields (done, changed) per batch.

    Uses the configured sanitizer (``sanitize.configure``). Batches keyed by id keep memory
    flat and let the command be stopped and run again."""
    for model, profile in _STORED:
        last_id = 0
        while True:
            rows = list(
                db.session.execute(
                    select(model).where(model.id > last_id).order_by(model.id).limit(batch_size)
                ).scalars()
            )
            if not rows:
                break
            changed = 0
            imported_html = _imported_html_ids(rows) if model is Comment else set()
            for row in rows:
                if row.id in imported_html:
                    html = render_html(row.body_md)  # imported as HTML (Disqus, WordPress)
                elif profile == "article":
                    html = render_markdown(row.body_md, profile=profile)
                else:
                    html = render_body(row.body_md)
                if html != row.body_html:
                    row.body_html = html
                    changed += 1
            db.session.commit()
            last_id = rows[-1].id
            yield len(rows), changed


def _imported_html_ids(comments: list[Comment]) -> set[int]:
    """Which of ``comments`` were imported as HTML: their source is HTML, not Markdown."""
    return set(
        db.session.execute(
            select(CommentSource.comment_id).where(
                CommentSource.comment_id.in_([c.id for c in comments]),
                CommentSource.body_format == "html",
            )
        ).scalars()
    )
