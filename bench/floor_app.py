"""The benchmark's floor: a bare Flask app that answers with bytes captured from the forum.

``GET /<name>`` returns the file ``$BENCH_FLOOR_DIR/<name>`` as text/html, read once at
start; ``/<name>`` where the file is empty answers ``304 Not Modified`` (the floor of a
revalidation). Served by gunicorn with the forum's settings, it is the fastest any page of
the same size can be on this machine: the rest is the forum's own work."""

import os
from pathlib import Path

from flask import Flask, Response, abort


def create() -> Flask:
    folder = Path(os.environ["BENCH_FLOOR_DIR"])
    pages = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    app = Flask(__name__)

    @app.get("/<name>")
    def page(name: str) -> Response:
        if name not in pages:
            abort(404)
        body = pages[name]
        if not body:
            return Response(status=304)
        return Response(body, mimetype="text/html")

    return app
