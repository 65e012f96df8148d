"""PostgreSQL for the tests: the server's maintenance connection, and throwaway databases."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


def admin_connection(database_url: str):
    """An autocommit connection to the maintenance database of ``database_url``'s server."""
    import psycopg

    server = make_url(database_url)
    return psycopg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        dbname="postgres",
        autocommit=True,
    )


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``, dropped afterwards; yields its
    SQLAlchemy URL."""
    name = f"forum_srv_{secrets.token_hex(6)}"
    with admin_connection(server_url) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
