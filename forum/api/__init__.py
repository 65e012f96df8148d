"""The versioned JSON API, mounted at /api/v1 (issue #14).

``bp`` lives in ``forum.api.core``; each module below adds its operations to it when
imported. A new area of the API is a module here, imported in the list below."""

from forum.api import (  # noqa: F401  (each adds its routes to bp)
    articles,
    callers,
    comments,
    docs,
    moderation,
    notifications,
)
from forum.api.core import bp

__all__ = ["bp"]
