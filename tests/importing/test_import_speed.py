"""A big Disqus export imports quickly and renders right (bench/import_disqus.py times the
full 100,000 comments; this runs a twentieth of it, on the parallel rendering path)."""

import json

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.importing import bodies
from forum.models import Article, Comment, Role
from tests.conftest import make_user
from tests.importing.disqus_generator import write_disqus_export

COMMENTS = 5_000


@pytest.mark.slow
def test_five_thousand_comments(app, runner, client, tmp_path):
    assert COMMENTS >= bodies.PARALLEL_FROM  # the worker processes are part of what is tested
    make_user("editor", role=Role.ADMIN)
    export = tmp_path / "big.xml"
    write_disqus_export(export, COMMENTS, seed=3)
    result = runner.invoke(args=["import", "disqus", str(export), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["comments"] == COMMENTS
    assert db.session.execute(select(func.count(Comment.id))).scalar() == COMMENTS
    biggest = db.session.execute(
        select(Article).order_by(Article.comment_count.desc()).limit(1)
    ).scalar_one()
    visible = db.session.execute(
        select(func.count(Comment.id)).where(Comment.article_id == biggest.id, Comment.is_visible)
    ).scalar()
    assert biggest.comment_count == visible
    slug = biggest.slug
    db.session.remove()
    page = client.get(f"/articles/{slug}")
    assert page.status_code == 200
    assert "badge-imported" in page.get_data(as_text=True)
