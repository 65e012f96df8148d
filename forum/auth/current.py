"""Who is acting in this request, as the services want it: a User, or None for anonymous.

Services take the acting user as an argument and never read Flask-Login's proxy; this is the
one place the proxy is unwrapped (``current_user`` itself is a LocalProxy, and an anonymous
visitor is an AnonymousUserMixin, neither of which belongs in a service call or a query)."""

from flask_login import current_user

from forum.models import User


def current_actor() -> User | None:
    """The logged-in user, or None for an anonymous visitor."""
    if not current_user.is_authenticated:
        return None
    return current_user._get_current_object()
