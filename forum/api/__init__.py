"""The versioned JSON API, mounted at /api/v1 (issue #14).

``bp`` lives in ``forum.api.core``; each module below adds its operations to it when
imported. A new area of the API is a module here, imported in the list below."""

from forum.api import articles, callers, docs, moderation  # noqa: F401  (they add their routes to bp)
from forum.api.core import bp

__all__ = ["bp"]
