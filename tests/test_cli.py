"""The operator's commands: accounts, article import and the demo."""

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum import demo
from forum.extensions import db
from forum.models import Article, Role, Series, User
from forum.services import accounts
from tests.conftest import make_user

STRONG = "a strong enough passphrase"


def run(runner, *args: str, input: str | None = None):
    return runner.invoke(args=list(args), input=input)


def count(model) -> int:
    """Rows of ``model`` as committed, read in a transaction that ends here (on SQLite an
    open one would hold the write lock a migration in the next command needs)."""
    db.session.expire_all()
    rows = db.session.execute(select(func.count(model.id))).scalar_one()
    db.session.rollback()
    return rows


# --- users ------------------------------------------------------------------------------


def test_users_create_with_role_email_and_password_from_stdin(runner, app):
    result = run(
        runner,
        "users", "create", "theo", "--role", "moderator", "--email", "theo@example.org",
        "--password-stdin",
        input=STRONG + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created moderator theo." in result.output
    theo = accounts.find_user("theo")
    assert theo.role is Role.MODERATOR
    assert theo.email == "theo@example.org"
    assert accounts.authenticate("theo", STRONG) is not None
    assert STRONG not in result.output


def test_users_create_prompts_twice_without_password_stdin(runner, app):
    result = run(runner, "users", "create", "ada", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert accounts.find_user("ada").role is Role.READER
    assert accounts.authenticate("ada", STRONG) is not None


@pytest.mark.parametrize("name", ["theo", "THEO", "Theo"])
def test_users_create_refuses_a_taken_name_in_any_letter_case(runner, app, name):
    make_user("theo")
    result = run(runner, "users", "create", name, "--password-stdin", input=STRONG + "\n")
    assert result.exit_code != 0
    assert "That username is taken." in result.output
    assert count(User) == 1


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("ada", "short", "at least 10 characters"),
        ("adalovelace", "AdaLovelace", "can't be your username"),
        ("\u0430da", STRONG, "3 to 30 characters"),
    ],
)
def test_users_create_refuses_bad_names_and_weak_passwords(runner, app, name, password, message):
    result = run(runner, "users", "create", name, "--password-stdin", input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0


def test_users_set_role(runner, app):
    make_user("theo")
    result = run(runner, "users", "set-role", "THEO", "admin")
    assert result.exit_code == 0, result.output
    assert "theo is now admin." in result.output
    db.session.expire_all()
    assert accounts.find_user("theo").role is Role.ADMIN


def test_users_set_role_rejects_an_unknown_role(runner, app):
    make_user("theo")
    result = run(runner, "users", "set-role", "theo", "overlord")
    assert result.exit_code != 0
    assert "overlord" in result.output
    db.session.expire_all()
    assert accounts.find_user("theo").role is Role.READER


def test_users_set_role_names_an_unknown_account(runner, app):
    result = run(runner, "users", "set-role", "nobody", "admin")
    assert result.exit_code != 0
    assert "No account is named 'nobody'" in result.output


# --- articles import --------------------------------------------------------------------


def article_text(
    *,
    title: str = "First Light",
    slug: str = "first-light",
    series: str | None = "How Cells Talk",
    position: int | None = 1,
    author: str = "mara",
    published: str = "2026-10-01",
    summary: str = "Where it starts.",
    body: str = "Cells talk *all the time*.",
) -> str:
    lines = ["---", f"title: {title}", f"slug: {slug}"]
    if series is not None:
        lines.append(f"series: {series}")
    if position is not None:
        lines.append(f"position: {position}")
    lines += [f"author: {author}", f"published: {published}", f"summary: {summary}", "---", body]
    return "\n".join(lines) + "\n"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mara(app):
    return make_user("mara", role=Role.AUTHOR)


def test_articles_import_of_a_good_file(runner, mara, tmp_path):
    path = write(tmp_path, "first.md", article_text())
    result = run(runner, "articles", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Created first-light: First Light" in result.output
    article = db.session.execute(select(Article)).scalar_one()
    assert article.title == "First Light"
    assert article.summary == "Where it starts."
    assert article.author.username == "mara"
    assert article.series.title == "How Cells Talk"
    assert article.series.slug == "how-cells-talk"
    assert article.position == 1
    assert (article.published_at.year, article.published_at.month, article.published_at.day) == (
        2026,
        10,
        1,
    )
    assert "<em>all the time</em>" in article.body_html


def test_articles_reimport_updates_in_place(runner, mara, tmp_path):
    path = write(tmp_path, "first.md", article_text())
    assert run(runner, "articles", "import", str(path)).exit_code == 0
    first_id = db.session.execute(select(Article.id)).scalar_one()

    write(tmp_path, "first.md", article_text(title="First Light, Revised"))
    result = run(runner, "articles", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Updated first-light" in result.output
    db.session.expire_all()
    article = db.session.execute(select(Article)).scalar_one()
    assert article.id == first_id
    assert article.title == "First Light, Revised"
    assert count(Series) == 1


def test_articles_import_of_a_directory(runner, mara, tmp_path):
    folder = tmp_path / "articles"
    write(folder, "01.md", article_text())
    write(folder, "02.md", article_text(title="Second", slug="second", position=2))
    write(folder, "notes.txt", "not an article")
    result = run(runner, "articles", "import", str(folder))
    assert result.exit_code == 0, result.output
    assert "2 articles imported." in result.output
    series = db.session.execute(select(Series)).scalar_one()
    assert [a.slug for a in series.articles] == ["first-light", "second"]


# The importer and the editor share one check (article_rules.check_article) and one slug
# maker; where the importer's own copies had drifted, the shared rule now holds for both.


def test_the_importer_refuses_what_the_editor_refuses_at_the_key_s_line(runner, mara, tmp_path):
    path = write(tmp_path, "long.md", article_text(title="T" * 201, slug="new"))
    result = run(runner, "articles", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}:2: title: Titles can be at most 200 characters." in result.output
    assert f"{path}:3: slug: “new” is the address of a page" in result.output  # every problem
    assert count(Article) == 0


def test_an_imported_series_slug_is_made_like_an_article_slug(runner, mara, tmp_path):
    path = write(tmp_path, "a.md", article_text(series="Cafés & Cells"))
    assert run(runner, "articles", "import", str(path)).exit_code == 0
    assert db.session.execute(select(Series.slug)).scalar_one() == "cafes-cells"


def test_an_imported_article_without_a_position_goes_after_the_series_last(runner, mara, tmp_path):
    folder = tmp_path / "batch"
    write(folder, "a.md", article_text())
    write(folder, "b.md", article_text(title="Later", slug="later", position=None))
    assert run(runner, "articles", "import", str(folder)).exit_code == 0
    later = db.session.execute(select(Article).where(Article.slug == "later")).scalar_one()
    assert later.position == 2


# Each case: files written (a good file sorts first, so it would be written first), the bad
# file, the line the report must point at, and words from the message.
BAD_IMPORTS = {
    "missing-front-matter": (
        {"b.md": "# Just a heading\n\nNo front matter.\n"},
        "b.md", 1, "must start with a '---'", None,
    ),
    "unclosed-front-matter": (
        {"b.md": "---\ntitle: Open\nslug: open\n\nBody, but the block never ends.\n"},
        "b.md", 1, "never closed", None,
    ),
    "invalid-yaml": (
        {"b.md": article_text(slug="bad", summary="a: b: c")},
        "b.md", 8, "not valid YAML", None,
    ),
    "missing-title": (
        {"b.md": article_text(slug="bad").replace("title: First Light\n", "")},
        "b.md", 8, "missing 'title'", None,
    ),
    "bad-slug": (
        {"b.md": article_text(slug="Not A Slug")},
        "b.md", 3, "slug", None,
    ),
    "bad-date": (
        {"b.md": article_text(slug="bad", published="next tuesday")},
        "b.md", 7, "published", None,
    ),
    "unknown-author": (
        {"b.md": article_text(slug="bad", position=2, author="nobody")},
        "b.md", 6, "nobody", None,
    ),
    "duplicate-position": (
        {"b.md": article_text(slug="other", position=1)},
        "b.md", 5, "position 1", None,
    ),
    "duplicate-slug": (
        {"b.md": article_text(title="Same Slug", position=2)},
        "b.md", 3, "first-light", None,
    ),
}  # fmt: skip
GOOD_FIRST = {"a.md": article_text()}


def case_with_known_bug(files, bad, line, message, known_bug):
    """The case as a pytest param, expected to fail (strictly) while ``known_bug`` stands."""
    marks = [pytest.mark.xfail(strict=True, reason=known_bug)] if known_bug else []
    return pytest.param(files, bad, line, message, marks=marks)


def import_files(runner, tmp_path, files: dict[str, str]):
    folder = tmp_path / "batch"
    paths = [write(folder, name, text) for name, text in {**GOOD_FIRST, **files}.items()]
    return run(runner, "articles", "import", *map(str, paths)), folder


@pytest.mark.parametrize(
    ("files", "bad", "line", "message"),
    [case[:4] for case in BAD_IMPORTS.values()],
    ids=list(BAD_IMPORTS),
)
def test_a_bad_file_is_named_and_nothing_is_imported(
    runner, mara, tmp_path, files, bad, line, message
):
    result, folder = import_files(runner, tmp_path, files)
    assert result.exit_code != 0
    assert str(folder / bad) in result.output
    assert message in result.output
    assert "Nothing was imported." in result.output
    assert "Traceback" not in result.output
    assert count(Article) == 0
    assert count(Series) == 0


@pytest.mark.parametrize(
    ("files", "bad", "line", "message"),
    [case_with_known_bug(*case) for case in BAD_IMPORTS.values()],
    ids=list(BAD_IMPORTS),
)
def test_a_bad_file_is_reported_with_its_line_number(
    runner, mara, tmp_path, files, bad, line, message
):
    result, folder = import_files(runner, tmp_path, files)
    assert result.exit_code != 0
    assert f"{folder / bad}:{line}:" in result.output


def test_an_impossible_date_is_reported_not_crashed_on(runner, mara, tmp_path):
    result, folder = import_files(
        runner, tmp_path, {"b.md": article_text(slug="b", published="2026-02-30")}
    )
    assert result.exit_code == 1
    assert f"{folder / 'b.md'}:7:" in result.output
    assert count(Article) == 0


def test_a_clash_with_an_article_already_imported_rolls_back_the_whole_batch(
    runner, mara, tmp_path
):
    """The check against the database runs while writing: what came before must not stay."""
    first = write(tmp_path, "a.md", article_text())
    assert run(runner, "articles", "import", str(first)).exit_code == 0
    folder = tmp_path / "later"
    good = write(folder, "a.md", article_text(title="New", slug="fresh", series="Other Series"))
    clash = write(folder, "b.md", article_text(title="Clash", slug="clash", position=1))
    result = run(runner, "articles", "import", str(good), str(clash))
    assert result.exit_code != 0
    assert str(clash) in result.output
    assert "first-light" in result.output
    assert count(Article) == 1
    assert count(Series) == 1
    assert db.session.execute(select(Article.slug)).scalar_one() == "first-light"


# --- demo -------------------------------------------------------------------------------


@pytest.fixture
def empty_database(app):
    """The demo migrates the database itself, so it starts from no tables at all."""
    db.drop_all()
    yield
    db.session.remove()


@pytest.fixture
def keep_loggers_enabled():
    """Running migrations in-process disables every existing logger (alembic.ini's
    fileConfig); put them back so later tests still log."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    enabled = [logger for logger in loggers if not logger.disabled]
    yield
    for logger in enabled:
        logger.disabled = False


def test_demo_loads_everything_once_and_prints_passwords_once(
    runner, app, empty_database, keep_loggers_enabled
):
    first = run(runner, "demo", "--no-serve")
    assert first.exit_code == 0, first.output
    shown = dict(re.findall(r"^\s+(\w+)\s+\w+\s+(\S+)$", first.output, flags=re.MULTILINE))
    assert set(shown) == {name for name, _, _ in demo.DEMO_USERS}
    for name, password in shown.items():
        assert accounts.authenticate(name, password) is not None, name
    assert f"/articles/{demo.FEATURED_SLUG}" in first.output
    assert db.session.execute(
        select(Article).where(Article.slug == demo.FEATURED_SLUG)
    ).scalar_one()
    counts = (count(User), count(Series), count(Article))
    assert counts[0] == len(demo.DEMO_USERS)
    assert counts[1] == 1
    assert counts[2] == len(list(demo.CONTENT_DIR.glob("*.md")))

    second = run(runner, "demo", "--no-serve")
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    for password in shown.values():
        assert password not in second.output
    assert (count(User), count(Series), count(Article)) == counts
