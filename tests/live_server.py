"""A real `khmerdigit serve` process on a free loopback port, for the tests that need one."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def live_server(log: Path, *args: str, timeout: float = 90) -> Iterator[LiveServer]:
    """Start `khmerdigit serve --port <free> *args`, wait until /healthz answers, stop it with Ctrl+C after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "khmerdigit", "serve", "--port", str(port), *args],
                                   stdout=sink, stderr=subprocess.STDOUT)
    server = LiveServer(url, port, process, log)
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"khmerdigit serve did not start:\n{server.output()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
