"""Every error the server answers, expected or not, as {"error": "one line"} with its status."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from khmerdigit.serve.schemas import Error

HANDLED = (HTTPException, RequestValidationError, Exception)  # what `error_response` is registered for


def documented(*statuses: int) -> dict:
    """OpenAPI `responses` for these error statuses."""
    return {status: {"model": Error} for status in statuses}


def one_line(text: str) -> str:
    return " ".join(str(text).split())


async def error_response(request: Request, error: Exception) -> JSONResponse:
    """Every error, expected or not, as {"error": "one line"} with its status; never a traceback."""
    headers = None
    if isinstance(error, RequestValidationError):
        status = 422
        message = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'request'}: {e['msg']}" for e in error.errors())
    elif isinstance(error, HTTPException):
        status, headers = error.status_code, error.headers
        path = request.url.path
        message = {404: f"not found: {path}", 405: f"{request.method} not allowed on {path}"}.get(status, error.detail)
    else:  # a bug: the server logs the traceback, the client gets one line
        status, message = 500, "internal server error"
    return JSONResponse({"error": one_line(message)}, status, headers=headers)
