"""`khmerdigit serve`: the HTTP API and the draw-or-photograph page (needs the `serve` extra).

    settings.py  what a server is started with (limits, key, CORS)
    uploads.py   multipart uploads read as they arrive, with their limits
    engine.py    the models, loaded once, and the JSON records they produce
    errors.py    every error as {"error": "one line"} with its status
    schemas.py   the JSON described for the OpenAPI docs
    app.py       the FastAPI app: routes, the key, CORS, the page and the docs
    static/      the page: HTML, CSS and JavaScript, no CDN
"""

from khmerdigit.serve.app import create_app
from khmerdigit.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
