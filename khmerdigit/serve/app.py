"""The FastAPI app: the API under /v1, the page at /, offline docs at /docs; every error is {"error": "one line"}."""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

from khmerdigit import __version__, defaults
from khmerdigit.fonts import bundled_font
from khmerdigit.serve.engine import Models
from khmerdigit.serve.errors import HANDLED, documented, error_response
from khmerdigit.serve.schemas import Health, ModelInfo, PredictResponse, ReadResponse
from khmerdigit.serve.settings import ServeSettings
from khmerdigit.serve.uploads import FIELD, read_uploads

STATIC = Path(__file__).resolve().parent / "static"
DESCRIPTION = """Read handwritten Khmer digits (០-៩) and numbers.

Send images as `multipart/form-data`, one part named `file` per image (up to 64). Each result is exactly
the record `khmerdigit predict --json` or `read --json` prints, with the uploaded file name as `file`.
A bad image among good ones gets its own result with an `error`; when no image can be answered the
request fails with 400. Errors are `{"error": "one line"}`."""
PAGE_POLICY = ("default-src 'self'; img-src 'self' blob: data:; font-src 'self'; script-src 'self'; style-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="The server's API key.")
BEARER = HTTPBearer(auto_error=False, description="The server's API key as a bearer token.")
SAFE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD],
    "properties": {FIELD: {"type": "array", "items": {"type": "string", "format": "binary"},
                           "description": "The images (PNG, JPEG, GIF, WebP, TIFF, BMP ...), one part each."}}}}}}}


class SafeHeaders:
    """ASGI middleware: no content sniffing, no referrer leaks, on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SAFE_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def key_check(expected: str):
    """A dependency that answers 401 unless the request carries `expected` (X-API-Key or Bearer)."""

    async def check(key: Annotated[str | None, Security(KEY_HEADER)] = None,
                    token: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None) -> None:
        given = key or (token.credentials if token else "")
        if not given:
            raise HTTPException(401, "missing API key: send it in the X-API-Key header", {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(401, "wrong API key", {"WWW-Authenticate": "Bearer"})

    return check


def answer(records: list[dict]) -> JSONResponse:
    """200 with the results, unless not one image could be answered: then 400."""
    failed = [record for record in records if record.get("error")]
    if len(failed) < len(records):
        return JSONResponse({"results": records})
    reason = f"{failed[0]['file']}: {failed[0]['error']}"
    raise HTTPException(400, reason if len(records) == 1 else f"none of the {len(records)} images could be read ({reason})")


THRESHOLD_QUERY = Query(defaults.THRESHOLD, ge=0.0, le=1.0, description="Digits (and numbers) read with less "
                        "confidence are marked uncertain, as with the command line's --threshold.")


def api_router(settings: ServeSettings) -> APIRouter:
    """/v1: predict, read and model, behind the API key when there is one."""
    secured = bool(settings.api_key)
    router = APIRouter(prefix="/v1", tags=["API"], dependencies=[Depends(key_check(settings.api_key))] if secured else [],
                       responses=documented(401) if secured else {})
    upload_errors = documented(400, 413, 415, 422)

    @router.post("/predict", summary="Classify images of single digits", openapi_extra=UPLOAD_BODY,
                 responses={200: {"model": PredictResponse}, **upload_errors})
    async def predict(request: Request, top_k: int = Query(1, ge=1, le=10, description="How many likely digits to list."),
                      threshold: float = THRESHOLD_QUERY) -> JSONResponse:
        """Each image's digit, glyph and confidence (and with `top_k` > 1 the most likely digits)."""
        uploads = await read_uploads(request, settings.max_upload_bytes, settings.max_files)
        return answer(await run_in_threadpool(request.app.state.models.predict, uploads, top_k, threshold))

    @router.post("/read", summary="Read images of whole numbers", openapi_extra=UPLOAD_BODY,
                 responses={200: {"model": ReadResponse}, **upload_errors})
    async def read(request: Request, threshold: float = THRESHOLD_QUERY) -> JSONResponse:
        """Each image's number in Khmer and Arabic digits, with each digit's confidence, box and uncertainty."""
        uploads = await read_uploads(request, settings.max_upload_bytes, settings.max_files)
        return answer(await run_in_threadpool(request.app.state.models.read, uploads, threshold))

    @router.get("/model", summary="The models and their preprocessing", response_model=ModelInfo)
    async def model(request: Request) -> JSONResponse:
        """Version, classes, preprocessing, threshold, each model file's sha256 and the upload limits."""
        return JSONResponse(request.app.state.models.info)

    return router


def add_page_and_docs(app: FastAPI) -> None:
    """The page at / with its files, the Khmer font, and Swagger UI at /docs, all served locally."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs/assets", StaticFiles(directory=Path(swagger_ui_path)), name="docs-assets")
    font = bundled_font()

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/font/khmer.ttf", include_in_schema=False)
    async def khmer_font() -> FileResponse:
        if font is None:
            raise HTTPException(404, "no bundled Khmer font")
        return FileResponse(font, media_type="font/ttf")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=root + app.openapi_url, title="khmerdigit API",
                                   swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/static/icon.svg")


def create_app(settings: ServeSettings | None = None, models: Models | None = None) -> FastAPI:
    """The app (default settings unless given); its models are loaded at start-up, in a worker thread, unless given."""
    settings = settings or ServeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.models = models if models is not None else await run_in_threadpool(Models, settings)
        yield

    app = FastAPI(title="khmerdigit", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    for error in HANDLED:
        app.add_exception_handler(error, error_response)
    app.add_middleware(SafeHeaders)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Authorization"])

    @app.get("/healthz", tags=["Server"], summary="Is the server up", response_model=Health)
    async def healthz() -> dict:
        return {"status": "ok"}

    app.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)

    app.include_router(api_router(settings))
    add_page_and_docs(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app of each `--workers` process, with the settings the command put in the environment."""
    return create_app(ServeSettings.from_env())
