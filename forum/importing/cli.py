"""``flask --app forum import disqus|wordpress|isso|forum FILE``, ``export FILE`` and
``imported-authors forget``.

Every import is one transaction: the file is read whole first (a malformed one stops before
anything is written), then written, then committed, or with ``--dry-run`` rolled back after
the same work, so the report of a dry run is exactly what the real run will do."""

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from forum.extensions import db
from forum.models import Role, User
from forum.services import accounts, export, imported_authors

from . import disqus, forum_format, isso, wordpress
from .loader import Summary, load
from .records import ImportFileError, Source
from .url_map import read_url_map

import_cli = AppGroup(
    "import", help="Import comments from Disqus, WordPress, Isso or this forum's export."
)
imported_authors_cli = AppGroup("imported-authors", help="Authors of imported comments.")

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _common(command: Callable) -> Callable:
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print the summary as one JSON object, last."
    )(command)
    command = click.option(
        "--author",
        default=None,
        help="Account new discussions are filed under (default: the first admin).",
    )(command)
    command = click.option(
        "--url-map",
        type=FILE,
        default=None,
        help="CSV of OLD_URL,TARGET (an article slug or a new URL).",
    )(command)
    return click.option(
        "--dry-run", is_flag=True, help="Report what would be imported; write nothing."
    )(command)


@import_cli.command("disqus")
@click.argument("path", type=FILE)
@_common
def import_disqus(path: Path, **options):
    """Import a Disqus XML export (PATH)."""
    _run(lambda: disqus.read(path), path, **options)


@import_cli.command("wordpress")
@click.argument("path", type=FILE)
@_common
def import_wordpress(path: Path, **options):
    """Import a WordPress export (WXR, PATH)."""
    _run(lambda: wordpress.read(path), path, **options)


@import_cli.command("isso")
@click.argument("path", type=FILE)
@click.option("--site", required=True, help="The site's origin, e.g. https://blog.example.org")
@_common
def import_isso(path: Path, site: str, **options):
    """Import Isso's SQLite database (PATH); Isso stores paths, --site makes them URLs."""
    _run(lambda: isso.read(path, site), path, **options)


@import_cli.command("forum")
@click.argument("path", type=FILE)
@_common
def import_forum(path: Path, **options):
    """Import this forum's own export (``flask --app forum export``)."""
    _run(
        lambda: forum_format.read(path),
        path,
        **options,
        prepare=forum_format.prepare,
        finish=forum_format.finish,
    )


def _owner(name: str | None) -> User | None:
    if name:
        user = accounts.find_user(name, include_deleted=False)
        if user is None:
            raise ImportFileError(f"--author: no account is named {name!r}.")
        return user
    return db.session.execute(
        select(User)
        .where(User.role == Role.ADMIN, User.deleted_at.is_(None))
        .order_by(User.id)
        .limit(1)
    ).scalar_one_or_none()


def _run(
    read: Callable[[], Source],
    path: Path,
    *,
    dry_run: bool,
    url_map: Path | None,
    author: str | None,
    as_json: bool,
    prepare: Callable | None = None,
    finish: Callable | None = None,
) -> None:
    summary = Summary()
    try:
        mapping = read_url_map(url_map) if url_map else None
        source = read()
        if prepare is not None:
            prepare(source, summary)
        owner = _owner(author)
        total = len(source.comments)
        if sys.stdout.isatty() and not as_json and total:
            with click.progressbar(length=total, label=f"Importing {path.name}") as bar:
                load(source, owner=owner, url_map=mapping, progress=bar.update, summary=summary)
        else:
            load(source, owner=owner, url_map=mapping, summary=summary)
        if finish is not None:
            finish(source, summary)
    except ImportFileError as error:
        db.session.rollback()
        click.echo(f"Error: {error}", err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1) from None
    except SQLAlchemyError as error:
        # A value the readers let through but the database refuses: still no traceback,
        # and still nothing written.
        db.session.rollback()
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        click.echo(f"Error: the database refused a record of the file: {reason}", err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1) from None
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    _report(summary, dry_run, as_json)


def _report(summary: Summary, dry_run: bool, as_json: bool) -> None:
    lead = "Dry run, nothing written. Would import" if dry_run else "Imported"
    click.echo(
        f"{lead} {summary.comments} comments ({summary.replies} replies, {summary.deleted} "
        f"deleted, {summary.spam} spam, {summary.pending} waiting for a moderator) into "
        f"{summary.articles_matched} existing and {summary.articles_created} new discussions; "
        f"{summary.authors} new authors."
    )
    if summary.already_imported:
        click.echo(
            f"{summary.already_imported} comments were imported before and left as they are."
        )
    if summary.orphans:
        click.echo(f"{summary.orphans} comments belong to threads missing from the file: skipped.")
    if summary.unclear_spam:
        click.echo(
            f"{summary.unclear_spam} comments had a spam or approval value that is neither yes "
            "nor no: imported as spam (hidden)."
        )
    if summary.skipped:
        click.echo(f"{summary.skipped} pingbacks or trackbacks skipped.")
    for note in summary.notes:
        click.echo(f"  note: {note}")
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "dry_run": dry_run}, sort_keys=True))


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--article", default=None, help="Only this article (its slug or page URL).")
def export_command(path: Path, article: str | None):
    """Write every discussion (or one) to PATH as forum-export JSON (see README)."""
    try:
        counts = export.write_export(path, article=article)
    except export.ExportError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"Exported {counts['articles']} articles, {counts['comments']} comments, "
        f"{counts['moderation_actions']} moderation actions to {path}."
    )


@imported_authors_cli.command("forget")
def forget_emails():
    """Delete every stored email address of imported authors (their names stay)."""
    forgotten = imported_authors.forget_emails()
    db.session.commit()
    click.echo(f"Forgot {forgotten} imported authors' email addresses.")


def register(app) -> None:
    app.cli.add_command(import_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(imported_authors_cli)
