"""What a server is started with: its model, limits, API key and CORS origins."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENV = "KHMERDIGIT_SERVE_SETTINGS"  # how `--workers N` hands the settings to its worker processes
MAX_FILES = 64  # images per request
MIB = 2**20


@dataclass(frozen=True)
class ServeSettings:
    """A server's settings; the defaults are the safe ones."""

    model: str | None = None  # the digit classifier file; None: the bundled model
    max_upload_bytes: int = 10 * MIB  # the largest request body, checked while it arrives
    max_files: int = MAX_FILES
    api_key: str | None = None  # when set, every /v1/ request must carry it
    cors_origins: tuple[str, ...] = ()  # browser origins other than the server's own allowed to call the API
    copies: int = os.cpu_count() or 1  # copies of each model per process: how many images are worked on at once

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeSettings:
        data = json.loads(os.environ[ENV])
        return cls(**{**data, "cors_origins": tuple(data["cors_origins"])})
