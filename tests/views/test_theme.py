"""The site's name, logo and accent colour from settings (forum/theme.py)."""

import re

import pytest

from forum import create_app
from forum.theme import (
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    SiteTheme,
    ThemeSettingError,
    _rgb,
    contrast,
    readable_on,
    text_on,
)
from tests.conftest import base_config, make_article


def test_defaults_name_the_site_forum(client, app):
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"<title>[^<]*Forum</title>", page)
    assert "<span>Forum</span>" in page
    assert "theme.css" not in page  # site.css's own accent


def test_site_name_and_logo(app_factory):
    app = app_factory(SITE_NAME="The Daily Ledger", LOGO_URL="/static/favicon.svg")
    with app.app_context():
        article = make_article(title="On Ledgers")
        page = app.test_client().get(f"/articles/{article.slug}")
    html = page.get_data(as_text=True)
    assert "<title>On Ledgers · The Daily Ledger</title>" in html
    assert '<img class="brand-logo" src="/static/favicon.svg" alt="">' in html
    assert "The Daily Ledger — discussions for articles." in html
    assert "img-src 'self';" in page.headers["Content-Security-Policy"]


def test_a_logo_on_another_site_is_allowed_by_the_csp(app_factory):
    app = app_factory(LOGO_URL="https://cdn.example.com/brand/logo.svg")
    response = app.test_client().get("/")
    assert "img-src 'self' https://cdn.example.com;" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ACCENT_COLOR", "red"),
        ("ACCENT_COLOR", "#12345"),
        ("ACCENT_COLOR", "url(javascript:1)"),
        ("LOGO_URL", "http://cdn.example.com/logo.svg"),
        ("LOGO_URL", "javascript:alert(1)"),
        ("LOGO_URL", "logo.svg"),
        ("SITE_NAME", " "),
        ("SITE_NAME", "x" * 61),
    ],
)
def test_bad_settings_stop_the_app_with_a_clear_message(tmp_path, setting, value):
    with pytest.raises(ThemeSettingError) as refused:
        create_app({**base_config(tmp_path), setting: value})
    assert f"FORUM_{setting}" in str(refused.value)


def test_accent_colour_stylesheet(app_factory):
    app = app_factory(ACCENT_COLOR="#e8b400")  # a yellow too light for text on white
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    theme = app.extensions["forum_theme"]
    assert f'href="/theme.css?v={theme.stylesheet_version}"' in page

    response = client.get(f"/theme.css?v={theme.stylesheet_version}")
    assert response.mimetype == "text/css"
    assert "immutable" in response.headers["Cache-Control"]
    css = response.get_data(as_text=True)
    light, dark = re.search(r"--accent: light-dark\((#\w+), (#\w+)\)", css).groups()
    assert contrast(_rgb(light), _rgb(LIGHT_BACKGROUND)) >= 4.5
    assert contrast(_rgb(dark), _rgb(DARK_BACKGROUND)) >= 4.5
    assert light != "#e8b400"  # darkened to be readable on the light background
    fills = re.search(r"--accent-fg: light-dark\((#\w+), (#\w+)\)", css).groups()
    assert fills == (text_on(light), text_on(dark))

    again = client.get(
        f"/theme.css?v={theme.stylesheet_version}",
        headers={"If-None-Match": f'"{theme.stylesheet_version}"'},
    )
    assert again.status_code == 304
    stale = client.get("/theme.css?v=old")
    assert stale.headers["Cache-Control"] == "public, no-cache"


@pytest.mark.parametrize(
    "colour", ["#ffffff", "#000000", "#ff0000", "#00ff00", "#0000ff", "#777", "#1f5fbf"]
)
def test_every_accent_is_shaded_to_be_readable_on_both_backgrounds(colour):
    for background in (LIGHT_BACKGROUND, DARK_BACKGROUND):
        shaded = readable_on(_rgb(colour), background)
        assert contrast(_rgb(shaded), _rgb(background)) >= 4.5
        assert contrast(_rgb(text_on(shaded)), _rgb(shaded)) >= 4.5


def test_theme_from_config_keeps_a_valid_accent():
    theme = SiteTheme.from_config({"ACCENT_COLOR": "#1F5FBF", "SITE_NAME": "Ledger"})
    assert (theme.name, theme.accent, theme.logo_url, theme.logo_origin) == (
        "Ledger",
        "#1F5FBF",
        None,
        None,
    )


def test_anonymous_readers_see_the_comments_feed(client, app):
    article = make_article()
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert f'<a href="/articles/{article.slug}/comments.atom">Comments feed</a>' in page
