"""Absolute URLs for emails, built from ``BASE_URL``: right in CLI commands, where there is no
request, and never steered by a request's Host header."""

from urllib.parse import urlsplit

from flask import Flask

from forum.models import User
from forum.services import tokens
from forum.services.tokens import TokenSettings


class EmailLinks:
    """The ``Links`` the mail service asks for, for one app."""

    def __init__(self, app: Flask, base_url: str, token_settings: TokenSettings) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"FORUM_BASE_URL must be an absolute http(s) URL, not {base_url!r}")
        self.tokens = token_settings
        self._urls = app.url_map.bind(
            parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
        )

    @classmethod
    def for_app(cls, app: Flask) -> "EmailLinks":
        return cls(app, app.config["BASE_URL"], TokenSettings.from_config(app.config))

    def _url(self, endpoint: str, **values) -> str:
        return self._urls.build(endpoint, values, force_external=True)

    def comment(self, comment_id: int) -> str:
        return self._url("discussion.permalink", comment_id=comment_id)

    def article(self, slug: str) -> str:
        return self._url("site.article", slug=slug)

    def account(self) -> str:
        return self._url("auth.account")

    def forgot_password(self) -> str:
        return self._url("mailing.forgot_password")

    def unsubscribe(self, user: User) -> str:
        return self._url("mailing.unsubscribe", token=tokens.for_unsubscribe(self.tokens, user))

    def confirm_email(self, user: User) -> str:
        return self._url("mailing.confirm_email", token=tokens.for_confirmation(self.tokens, user))

    def reset_password(self, user: User) -> str:
        token = tokens.for_password_reset(self.tokens, user)
        return self._url("mailing.reset_password", token=token)
