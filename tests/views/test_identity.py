"""Identity in the browser's terms: editing one's profile, avatars served by the forum (and
no picture from anywhere else), look-alike names refused with a clear message, and names,
titles and bodies marked ``dir="auto"`` for right-to-left text."""

import io
import random
import re

import lxml.html
import pytest
from PIL import Image

from forum.extensions import db
from forum.models import DisplayNameChange, Role, User
from forum.services import avatars, sanctions, threads, your_data
from tests.avatar_support import bomb_png, jpeg_with_exif, png_bytes
from tests.conftest import PASSWORD, client_as, make_article, make_user

NAME_TAKEN = "That name looks too much like @theo's. Please choose another."


def doc_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def upload(client, data: bytes, name="me.png"):
    return client.post("/account/avatar", data={"avatar": (io.BytesIO(data), name)})


# --- editing the profile ----------------------------------------------------------------------


def test_the_profile_editor_is_reached_from_the_account_page_and_ones_own_profile(app):
    ada = make_user("ada")
    client = client_as(app, ada)
    assert doc_of(client.get("/account")).xpath('//a[@href="/account/profile"]')
    assert doc_of(client.get("/users/ada")).xpath('//a[@href="/account/profile"]')
    assert not doc_of(client_as(app, make_user("bea")).get("/users/ada")).xpath(
        '//a[@href="/account/profile"]'
    )
    assert client.get("/account/profile").status_code == 200


def test_the_profile_editor_needs_a_login(app):
    response = client_as(app).get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_new_display_name_is_logged_and_its_history_shown_on_the_profile(app):
    ada = make_user("ada", display_name="Ada")
    client = client_as(app, ada)
    response = client.post("/account/profile", data={"display_name": "Countess", "bio": ""})
    assert response.status_code == 302
    db.session.expire_all()
    changes = db.session.execute(db.select(DisplayNameChange)).scalars().all()
    assert [(c.old_name, c.new_name) for c in changes] == [("Ada", "Countess")]
    assert changes[0].changed_at is not None
    doc = doc_of(client_as(app).get("/users/ada"))
    assert doc.xpath("//h1")[0].text_content().startswith("Countess")
    history = doc.xpath('//details[@class="name-history"]')[0].text_content()
    assert "Ada" in history and "until" in history


def test_saving_an_unchanged_name_logs_nothing(app):
    ada = make_user("ada", display_name="Ada")
    client_as(app, ada).post("/account/profile", data={"display_name": "Ada", "bio": "Hi."})
    assert db.session.execute(db.select(DisplayNameChange)).first() is None


def test_a_look_alike_display_name_is_refused_and_the_form_kept(app):
    make_user("theo", role=Role.MODERATOR)
    ada = make_user("ada")
    response = client_as(app, ada).post(
        "/account/profile", data={"display_name": "Theo (mod)", "bio": "My *own* words."}
    )
    assert response.status_code == 400
    doc = doc_of(response)
    assert doc.xpath('//p[@id="display_name-error"]')[0].text_content() == NAME_TAKEN
    assert doc.xpath('//input[@name="display_name"]/@value') == ["Theo (mod)"]
    assert doc.xpath('//textarea[@name="bio"]')[0].text_content().strip() == "My *own* words."
    db.session.expire_all()
    assert db.session.get(User, ada.id).display_name is None


def test_registration_refuses_a_look_alike_display_name_beside_the_field(app):
    make_user("theo")
    response = client_as(app).post(
        "/register",
        data={
            "username": "newcomer",
            "display_name": "The0",
            "email": "",
            "password": "a long enough passphrase",
            "confirm": "a long enough passphrase",
        },
    )
    assert response.status_code == 400
    assert doc_of(response).xpath('//p[@id="display_name-error"]')[0].text_content() == NAME_TAKEN


def test_the_bio_is_sanitized_markdown_without_links_until_trusted(app):
    ada = make_user("ada")
    bio = "I like **cells**. See https://example.org and <script>alert(1)</script>"
    client_as(app, ada).post("/account/profile", data={"display_name": "", "bio": bio})
    page = client_as(app).get("/users/ada").get_data(as_text=True)
    bio_div = lxml.html.fromstring(page).xpath('//div[@class="profile-bio prose"][@dir="auto"]')
    assert "<strong>cells</strong>" in page
    assert "<script>alert" not in page
    assert not bio_div[0].xpath(".//a")

    ada = db.session.get(User, ada.id)
    ada.trusted = True
    db.session.commit()
    client_as(app, ada).post("/account/profile", data={"display_name": "", "bio": bio})
    bio_div = doc_of(client_as(app).get("/users/ada")).xpath('//div[@class="profile-bio prose"]')
    assert bio_div[0].xpath('.//a[@href="https://example.org"][@rel="nofollow ugc noopener"]')


def test_a_bio_over_the_limit_is_refused_and_kept(app):
    ada = make_user("ada")
    long_bio = "word " * 120
    response = client_as(app, ada).post(
        "/account/profile", data={"display_name": "", "bio": long_bio}
    )
    assert response.status_code == 400
    assert doc_of(response).xpath('//p[@id="bio-error"]')
    assert doc_of(response).xpath('//textarea[@name="bio"]')[0].text_content().strip()


# --- avatars ------------------------------------------------------------------------------------


def test_the_generated_avatar_is_served_as_svg_with_nosniff(app):
    make_user("ada")
    response = client_as(app).get("/avatars/ada.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"]
    assert client_as(app).get("/avatars/nobody.svg").status_code == 404


def test_an_upload_is_served_from_its_content_hash_with_fixed_type_and_long_cache(app):
    ada = make_user("ada")
    client = client_as(app, ada)
    response = upload(client, jpeg_with_exif(), "holiday.jpg")
    assert response.status_code == 302
    db.session.expire_all()
    digest = db.session.get(User, ada.id).avatar_hash
    url = f"/avatars/ada/{digest}.webp"
    assert url in client_as(app).get("/users/ada").get_data(as_text=True)
    served = client_as(app).get(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "WEBP" and not image.getexif()
    assert client_as(app).get(f"/avatars/ada/{'0' * 64}.webp").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "me.png", 400, "isn't a picture"),
        (bomb_png(6000), "big.png", 400, "too large"),
        (b"", "empty.png", 400, "choose a picture"),
    ],
    ids=["not-an-image", "decompression-bomb", "empty"],
)
def test_bad_uploads_answer_with_the_form_and_a_message(app, data, name, status, message):
    ada = make_user("ada")
    response = upload(client_as(app, ada), data, name)
    assert response.status_code == status
    error = doc_of(response).xpath('//p[@id="avatar-error"]')
    assert error and message in error[0].text_content()
    db.session.expire_all()
    assert db.session.get(User, ada.id).avatar_hash is None


def test_a_file_over_the_limit_gets_413_with_the_form(app_factory):
    app = app_factory(AVATAR_MAX_BYTES=50_000)
    with app.app_context():
        ada = make_user("ada")
        noise = Image.frombytes("RGB", (150, 150), random.Random(1).randbytes(150 * 150 * 3))
        out = io.BytesIO()
        noise.save(out, format="PNG")
        assert 50_000 < len(out.getvalue()) < 100_000
        response = upload(client_as(app, ada), out.getvalue())
        assert response.status_code == 413
        assert (
            "Please upload a picture of at most"
            in doc_of(response).xpath('//p[@id="avatar-error"]')[0].text_content()
        )


def test_a_request_far_over_the_limit_gets_the_413_page(app_factory):
    app = app_factory(AVATAR_MAX_BYTES=10_000)
    with app.app_context():
        ada = make_user("ada")
        response = upload(client_as(app, ada), b"\x89PNG" + b"0" * 200_000)
        assert response.status_code == 413


def test_other_forms_keep_the_small_request_limit(app):
    ada = make_user("ada")
    response = client_as(app, ada).post(
        "/account/profile", data={"display_name": "x", "bio": "y" * 100_000}
    )
    assert response.status_code == 413


def test_removing_the_picture_brings_back_the_generated_one(app):
    ada = make_user("ada")
    client = client_as(app, ada)
    upload(client, png_bytes())
    assert client.post("/account/avatar/remove").status_code == 302
    assert "/avatars/ada.svg" in client_as(app).get("/users/ada").get_data(as_text=True)


def test_a_deleted_accounts_avatar_is_neutral(app):
    ada = make_user("ada")
    article = make_article()
    threads.post_comment(ada, article, "Before I go.")
    avatars.set_uploaded(ada, png_bytes(), max_bytes=10**6, max_pixels=10**6)
    your_data.delete_account(ada, PASSWORD, remove_comments=False)
    page = client_as(app).get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "/static/avatar-deleted.svg" in page
    assert "/avatars/ada" not in page
    assert client_as(app).get("/avatars/ada.svg").status_code == 404


# --- comment cards, and no third-party picture anywhere -----------------------------------


def test_comment_cards_show_the_avatar_the_username_and_dir_auto(app):
    ada = make_user("ada", display_name="Ada L.")
    article = make_article(title="שלום עולם")
    comment = threads.post_comment(ada, article, "مرحبا بالعالم")
    doc = doc_of(client_as(app).get(f"/articles/{article.slug}"))
    card = doc.xpath(f'//article[@data-card="{comment.id}"]')[0]
    avatar = card.xpath('.//img[contains(@class, "avatar")]')[0]
    assert avatar.get("alt") == "" and avatar.get("src") == "/avatars/ada.svg"
    author = card.xpath('.//a[@class="comment-author"]')[0]
    assert author.get("title") == "@ada"
    assert author.xpath('.//bdi[@dir="auto"]')[0].text_content() == "Ada L."
    assert card.xpath('.//span[@class="comment-username"]')[0].text_content() == "@ada"
    assert card.xpath('.//div[contains(@class, "comment-body")]/@dir') == ["auto"]
    assert doc.xpath('//h1[@id="article-title"]/@dir') == ["auto"]


def _image_sources(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    sources = doc.xpath("//img/@src | //img/@srcset | //source/@srcset | //link[@rel='icon']/@href")
    sources += re.findall(r"url\(([^)]*)\)", html)
    return sources


def test_no_rendered_page_asks_another_site_for_a_picture(app):
    """Avatars never trigger a third-party request: every picture on every page a member
    sees is the forum's own (a path on this site)."""
    ada = make_user("ada", display_name="Ada")
    bea = make_user("bea")
    article = make_article(slug="cells")
    first = threads.post_comment(ada, article, "Look: ![pic](https://tracker.example/p.png)")
    threads.post_comment(bea, article, "Hi", parent_id=first.id)
    avatars.set_uploaded(bea, png_bytes(), max_bytes=10**6, max_pixels=10**6)
    pages = ["/", "/articles/cells", "/users/ada", "/users/bea", "/account", "/account/profile"]
    client = client_as(app, ada)
    seen = 0
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        for source in _image_sources(response.get_data(as_text=True)):
            seen += 1
            assert source.startswith("/") and not source.startswith("//"), (path, source)
    assert seen >= 4


def test_a_suspended_member_is_told_why_their_profile_is_frozen(app):
    ada = make_user("ada")
    sanctions.suspend_user(make_user("mod", role=Role.MODERATOR), ada, 3, "Cool off.")
    client = client_as(app, ada)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "While your account is suspended, your name, bio and picture can't be changed." in page
    response = client.post("/account/profile", data={"display_name": "New", "bio": ""})
    assert response.status_code == 403
