"""Command-line interface: ``flask --app forum users|articles|comments|demo|backup|restore ...``."""

import fcntl
import sys
import time
from pathlib import Path

import click
import redis
from flask import Flask, current_app
from flask.cli import AppGroup

from forum import page_cache
from forum.extensions import db
from forum.mailing.links import EmailLinks
from forum.models import Role
from forum.services import (
    accounts,
    article_import,
    articles,
    backup,
    external_articles,
    mail,
    notifications,
    populate,
    profiles,
    rendering,
    sanctions,
    sanitize,
    webhook_delivery,
)
from forum.services.errors import DomainError, ValidationFailed
from forum.services.text import count_of

users_cli = AppGroup("users", help="Create accounts and change roles.")
articles_cli = AppGroup(
    "articles", help="Import articles from Markdown files; move external pages' discussions."
)

ROLE_CHOICE = click.Choice([r.value for r in Role], case_sensitive=False)


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, default=Role.READER.value, show_default=True)
@click.option("--email", default=None, help="Email address (optional).")
@click.option("--display-name", default=None, help="Name shown beside the username.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    name: str, role: str, email: str | None, display_name: str | None, password_stdin: bool
):
    """Create the account NAME. Without --password-stdin you are prompted twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register(
            name,
            password,
            email=email,
            display_name=display_name,
            role=Role(role.lower()),
            min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            max_length=current_app.config["PASSWORD_MAX_LENGTH"],
        )
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            click.echo(f"Error: {field}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Created {user.role.value} {user.username}.")


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
def set_role(name: str, role: str):
    """Give the account NAME the role ROLE."""
    user = accounts.find_user(name)
    if user is None:
        raise click.ClickException(f"No account is named {name!r}.")
    try:
        sanctions.change_role(None, user, role.lower())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{user.username} is now {user.role.value}.")


@articles_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_articles(paths: tuple[Path, ...]):
    """Import (or update, by slug) articles from Markdown files with YAML front matter.

    Each PATH is a .md file or a directory of them. Nothing is written unless every file is
    good."""
    try:
        results = article_import.import_articles(
            list(paths), body_max=current_app.config["ARTICLE_MAX_LENGTH"]
        )
    except article_import.ArticleImportError as exc:
        click.echo(f"Error: {exc}", err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1) from None
    for article, created in results:
        click.echo(f"{'Created' if created else 'Updated'} {article.slug}: {article.title}")
    click.echo(f"{count_of(len(results), 'article')} imported.")


@articles_cli.command("remap")
@click.argument("old_url")
@click.argument("new_url")
@click.option("--dry-run", is_flag=True, help="Say what would move; change nothing.")
def remap_article(old_url: str, new_url: str, dry_run: bool):
    """Move the discussion of the external page at OLD_URL to NEW_URL (the page moved).

    OLD_URL stays an alias, so embeds and links that still use it find the discussion."""
    try:
        moved = external_articles.remap(old_url, new_url, dry_run=dry_run)
    except DomainError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(1) from None
    verb = "Would move" if dry_run else "Moved"
    click.echo(
        f"{verb} the discussion /articles/{moved.article.slug} ({moved.comments} comments) "
        f"from {moved.old_url} to {moved.new_url}."
    )
    if not dry_run:
        click.echo(f"{moved.old_url} stays an alias of it.")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the database and content, then exit.")
def demo(host: str, port: int, no_serve: bool):
    """Upgrade the database, load the demo content once, and serve the site."""
    from flask_migrate import upgrade

    from forum import demo as demo_content

    upgrade()
    accounts_made = demo_content.load()
    credentials = Path(current_app.instance_path) / "demo-accounts.txt"
    if accounts_made:
        lines = [f"{u:<12} {role:<10} {pw}" for u, role, pw in accounts_made]
        credentials.touch(mode=0o600)
        credentials.write_text("\n".join(lines) + "\n")
        click.echo(f"Demo accounts (made up just now; also saved in {credentials}):")
        for line in lines:
            click.echo("  " + line)
    else:
        click.echo(f"Demo content was already loaded. Its accounts are listed in {credentials}.")
    db.session.remove()  # end this command's transaction before the server takes requests
    url = f"http://{host}:{port}/articles/{demo_content.FEATURED_SLUG}"
    click.echo(f"The demo article: {url}")
    if not no_serve:
        from werkzeug.serving import WSGIRequestHandler, run_simple

        WSGIRequestHandler.server_version = "forum"  # no version banner
        WSGIRequestHandler.sys_version = ""
        click.echo("Serving with Werkzeug's development server; use gunicorn in production.")
        run_simple(host, port, current_app._get_current_object(), threaded=True)


comments_cli = AppGroup("comments", help="Maintain stored comments.")


@comments_cli.command("rerender")
@click.option("--batch-size", default=500, show_default=True, type=int)
def rerender(batch_size: int):
    """Render every stored comment, revision, article and bio again from its Markdown source.

    Run after changing the sanitizer (FORUM_SANITIZER) or its allowlist: stored HTML was
    made by the old rules."""
    sanitizer = sanitize.configured_backend()
    total = rendering.count_stored_bodies()
    changed = 0
    with click.progressbar(length=total, label=f"Re-rendering with {sanitizer}") as bar:
        for done, changed_now in rendering.rerender_all(batch_size=batch_size):
            changed += changed_now
            bar.update(done)
    click.echo(f"{total} bodies re-rendered, {changed} changed.")
    bios, bios_changed = profiles.rerender_bios(
        trusted_after=current_app.config["TRUSTED_AFTER_APPROVED_COMMENTS"]
    )
    click.echo(f"{bios} profile bios re-rendered, {bios_changed} changed.")


@comments_cli.command("populate")
@click.argument("slug")
@click.option("--count", required=True, type=click.IntRange(min=1), help="Comments to add.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same discussion.")
@click.option("--max-depth", default=10, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--shape",
    type=click.Choice(populate.SHAPES),
    default="populate",
    show_default=True,
    help="populate: mostly top-level with a few hot threads; realistic: mostly replies.",
)
def populate_comments(slug: str, count: int, seed: int, max_depth: int, shape: str):
    """For benchmarks and load tests: add COUNT synthetic comments to the article SLUG.

    Comments come from synthetic accounts (synth-000000...; nobody can log in as them), in
    threads down to --max-depth with a few hot threads of thousands of replies, spread over
    the past two weeks. Bulk inserts, one commit at the end: never run it on a real site."""
    try:
        article = articles.get_article(slug)
    except DomainError as exc:
        raise click.ClickException(f"No article has the slug {slug!r}.") from exc
    started = time.perf_counter()
    with click.progressbar(length=count, label=f"Populating {slug}") as bar:
        result = populate.populate_article(
            article,
            count,
            seed=seed,
            max_depth=max_depth,
            shape=shape,
            progress=bar.update,
        )
    click.echo(
        f"Added {result.comments} comments from {result.accounts} synthetic accounts "
        f"({result.votes} helpful votes, {result.renders} distinct bodies rendered) "
        f"in {time.perf_counter() - started:.1f} s."
    )


notifications_cli = AppGroup(
    "notifications", help="Send notification emails and webhook deliveries."
)


@notifications_cli.command("send")
@click.option("--limit", default=500, show_default=True, type=int, help="Most emails per run.")
def send_notifications(limit: int):
    """Send due webhook deliveries; turn due notifications into emails (each at once, or a
    daily digest when the last is 24 hours old), then send every queued email that is due,
    retrying failed ones.

    Run it every minute (cron or a systemd timer); overlapping runs skip themselves."""
    # In-app notifications first, email or not: comments whose fan-out after posting never
    # ran (a worker stopped in between).
    caught_up = notifications.catch_up()
    if caught_up:
        click.echo(f"Made {count_of(caught_up, 'notification')} that posting had left to do.")
    try:
        settings = mail.MailSettings.from_config(current_app.config)
        links = EmailLinks.for_app(current_app)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    hooks = webhook_delivery.send_due(links)  # with or without email
    if hooks.attempted:
        click.echo(
            f"Webhooks: delivered {hooks.delivered}, failed {hooks.failed}, "
            f"{hooks.retrying} to be retried."
        )
    if not settings.enabled:
        click.echo("Email is off (FORUM_MAIL_SERVER is not set); nothing to send.")
        return
    lock_path = Path(current_app.instance_path) / "notifications-send.lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            click.echo("Another `notifications send` is running; this run skips.")
            return
        queued = mail.queue_due_notifications(links)
        report = mail.send_outgoing(settings, limit=limit)
    click.echo(
        f"Queued {count_of(queued.immediate, 'notification email')} and "
        f"{count_of(queued.digests, 'digest')}. "
        f"Sent {report.sent}, failed {report.failed} (gave up on {report.gave_up}), "
        f"{report.waiting} waiting to be retried."
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_database(path: Path):
    """Back up the database to PATH, online (the site may keep serving).

    SQLite: the sqlite3 backup API (a consistent copy of a database in use). PostgreSQL:
    pg_dump in custom format (restore with `flask --app forum restore` or pg_restore)."""
    engine = db.engine
    db.session.remove()  # no transaction of this command holds a lock during the copy
    try:
        method = backup.method_for(engine)
        click.echo(f"Backing up with {method} to {path}")
        last = [-1]

        def progress(done: int, total: int) -> None:
            percent = 100 * done // total if total else 100
            if percent // 10 != last[0] // 10:  # a line every tenth, not every step
                click.echo(f"  {percent:3d} % ({done}/{total} pages)" if total > 1 else "  done")
                last[0] = percent

        result = backup.backup(engine, path, progress=progress)
    except backup.BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Backup written: {result.path} ({result.size} bytes)")
    click.echo(f"SHA-256: {result.sha256}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the content of a database that has tables.")
def restore_database(path: Path, force: bool):
    """Restore the backup at PATH into the configured database, which must be empty."""
    engine = db.engine
    db.session.remove()
    click.echo(f"Restoring {path} (SHA-256 {backup.sha256_of(path)})")
    try:
        method = backup.restore(engine, path, force=force)
    except backup.BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Restored with {method}.")
    # Pages and versions cached in Redis describe the database as it was: a restored one
    # reuses article and version numbers for other content.
    try:
        cleared = page_cache.forget_derived(current_app)
    except redis.RedisError as exc:
        click.echo(
            f"Warning: could not clear the pages and versions kept in Redis ({exc}); clear the "
            "keys forum:page:* and forum:version:* before starting the app.",
            err=True,
        )
    else:
        if cleared is not None:
            click.echo(f"Cleared {cleared} cached pages and versions from Redis.")
    click.echo("Check it: flask --app forum db current")


def register(app: Flask) -> None:
    """Attach the command groups to the app's ``flask`` CLI."""
    app.cli.add_command(users_cli)
    app.cli.add_command(articles_cli)
    app.cli.add_command(comments_cli)
    app.cli.add_command(demo)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(backup_database)
    app.cli.add_command(restore_database)
    # Imports from other comment systems, the export, and imported authors.
    from forum.importing import cli as importing_cli

    importing_cli.register(app)
