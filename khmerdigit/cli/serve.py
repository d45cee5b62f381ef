"""The serve command: the HTTP API and the draw-or-photograph page."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import List, Optional

import typer

from khmerdigit.cli.app import ModelOption, command, fail
from khmerdigit.cli.console import err


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def cannot_listen(host: str, port: int) -> Optional[str]:
    """Why the server could not listen on host:port (the port taken, an unknown host), or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            return error.strerror or str(error)
    return None


@command("Serving")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on; anything but loopback should have --api-key."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    model: Optional[Path] = ModelOption,
    workers: int = typer.Option(1, min=1, max=64, help="Server processes; each loads its own models."),
    max_upload_mb: float = typer.Option(10.0, min=0.001, max=1024.0, help="Largest request body, in MiB."),
    api_key: Optional[str] = typer.Option(None, envvar="KHMERDIGIT_API_KEY", show_envvar=True,
                                          help="Require this key on /v1/ (X-API-Key header or Bearer token)."),
    cors_origin: List[str] = typer.Option([], help="Let pages from this origin call the API (repeatable)."),
) -> None:
    """Serve the HTTP API (/v1/predict, /v1/read, /docs) and the page to write or photograph digits on."""
    try:
        import uvicorn

        from khmerdigit.serve.app import create_app
        from khmerdigit.serve.engine import Models
        from khmerdigit.serve.settings import ENV, MIB, ServeSettings
    except ImportError as error:
        fail(f"serve needs the serve extra ({error.name} is missing): pip install 'khmerdigit[serve]'")

    reason = cannot_listen(host, port)
    if reason:
        fail(f"cannot listen on {host}:{port}: {reason}")
    cores = os.cpu_count() or 1
    settings = ServeSettings(model=str(model) if model else None, max_upload_bytes=int(max_upload_mb * MIB),
                             api_key=api_key or None, cors_origins=tuple(cors_origin), copies=max(1, cores // workers))
    if not is_loopback(host) and not settings.api_key:
        err.print(f"warning: serving on {host} without --api-key: anyone who can reach this machine can use the API",
                  highlight=False)
    models = Models(settings)  # a bad --model fails here, in one line, before any worker starts
    shown = f"[{host}]" if ":" in host else host
    err.print(f"khmerdigit serve: the page at http://{shown}:{port}/, the API docs at http://{shown}:{port}/docs",
              highlight=False, soft_wrap=True)
    if workers == 1:
        uvicorn.run(create_app(settings, models), host=host, port=port, server_header=False)
    else:
        os.environ[ENV] = settings.to_env()
        uvicorn.run("khmerdigit.serve.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    server_header=False)
