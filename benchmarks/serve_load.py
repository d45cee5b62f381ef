"""Load benchmark of `khmerdigit serve`: throughput and latency under concurrent clients, memory over 10,000
requests, then the fuzz corpus (fuzz/corpus.py) and malformed requests sent over HTTP.

    python benchmarks/serve_load.py [--clients 16] [--duration 20] [--workers 1] [--scale 10]

Starts `python -m khmerdigit serve` on a free loopback port. The clients are asyncio connections with
keep-alive that send prepared bytes, so they take little of the CPU the server needs. Targets on 2 cores:
/v1/predict >= 300 requests/s with p99 <= 100 ms, /v1/read >= 20 requests/s, no errors, no 5xx and no
traceback on the fuzz corpus, /healthz still answering, memory growth under 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for fuzz when run as a script

from fuzz.corpus import make_corpus
from khmerdigit.cli.console import out, simple_table
from khmerdigit.data.strokes import render_digit

BOUNDARY = b"khmerdigit-load-boundary"
MEMORY_REQUESTS = 10_000


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def number_image(digits: str, rng: np.random.Generator, size: int = 96) -> Image.Image:
    """Generated digits side by side, dark ink on white."""
    canvas = Image.new("L", (size // 2 + len(digits) * size, size + size // 4), 255)
    for index, digit in enumerate(digits):
        glyph = render_digit(int(digit), rng, size)
        canvas.paste(glyph, (size // 8 + index * int(size * 0.9), int(rng.integers(0, size // 8))),
                     Image.eval(glyph, lambda v: 255 - v))
    return canvas


def multipart(parts: list[tuple[str, bytes | str, bytes]]) -> bytes:
    """A multipart/form-data body from (field, file name, data) parts."""
    body = b""
    for field, filename, data in parts:
        name = filename if isinstance(filename, bytes) else filename.encode()
        body += (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="' + field.encode()
                 + b'"; filename="' + name + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
    return body + b"--" + BOUNDARY + b"--\r\n"


def raw_request(path: str, body: bytes, content_type: bytes = b"multipart/form-data; boundary=" + BOUNDARY,
                method: str = "POST") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n".encode()
    return head + b"Content-Type: " + content_type + b"\r\n\r\n" + body


# ---- the server ----

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def start_server(port: int, workers: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "khmerdigit", "serve", "--port", str(port),
                                   "--workers", str(workers)], stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not healthy(port):
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return server


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB (Linux /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        pending += [int(child) for child in children]
    return total / 1024


# ---- load ----

async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive connection: status and body."""
    writer.write(request)  # no drain: a server that refuses a big body answers before it has read it all
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return int(head[9:12]), await reader.readexactly(length)


async def load(port: int, request: bytes, clients: int, duration: float = 0, count: int = 0) -> dict:
    """`clients` connections sending `request` for `duration` seconds or until `count` requests are answered."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + duration if duration else float("inf")

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline and (not count or len(latencies) + errors < count):
            sent = time.perf_counter()
            try:
                status, _ = await exchange(reader, writer, request)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status == 200:
                latencies.append(time.perf_counter() - sent)
            else:
                errors += 1
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) * 1000 if latencies else (float("nan"),) * 3
    return {"requests": len(latencies) + errors, "rate": len(latencies) / elapsed, "p50": p50, "p95": p95,
            "p99": p99, "errors": errors}


# ---- fuzz ----

def fuzz_requests(root: Path, scale: int) -> list[tuple[str, bytes]]:
    """Every readable file of the fuzz corpus to /v1/predict and /v1/read, and malformed requests."""
    kinds = make_corpus(root, scale=scale)
    requests = []
    for paths in kinds.values():
        for path in paths:
            if path.is_file():
                body = multipart([("file", os.fsencode(path.name), path.read_bytes())])
                requests += [(f"{path.name[:40]} -> {endpoint}", raw_request(endpoint, body))
                             for endpoint in ("/v1/predict", "/v1/read")]
    good = png(render_digit(3, np.random.default_rng(0), 48))
    one = multipart([("file", "a.png", good)])
    requests += [
        ("garbage body", raw_request("/v1/predict", b"\x00\xff" * 500)),
        ("no boundary", raw_request("/v1/predict", one, b"multipart/form-data")),
        ("truncated body", raw_request("/v1/read", one[: len(one) // 2])),
        ("JSON body", raw_request("/v1/predict", b'{"file": "/etc/passwd"}', b"application/json")),
        ("no file part", raw_request("/v1/read", multipart([("image", "a.png", good)]))),
        ("65 files", raw_request("/v1/predict", multipart([("file", f"{n}.png", good) for n in range(65)]))),
        ("11 MiB body", raw_request("/v1/predict", multipart([("file", "big.png", bytes(11 * 2**20))]))),
        ("top_k=abc", raw_request("/v1/predict?top_k=abc", one)),
        ("path in file name", raw_request("/v1/read", multipart([("file", "../../../../etc/passwd", good)]))),
        ("non-UTF-8 file name", raw_request("/v1/predict", multipart([("file", b"\xff\xfe.png", good)]))),
        ("header-only part", raw_request("/v1/predict", b"--" + BOUNDARY + b"\r\n\r\n")),
        ("unknown path", raw_request("/v1/../../etc/passwd", b"", b"text/plain", "GET")),
        ("wrong method", raw_request("/v1/read", b"", b"text/plain", "PUT")),
    ]
    return requests


async def send_fuzz(port: int, requests: list[tuple[str, bytes]]) -> tuple[dict, list[str]]:
    """Each request on its own connection: counts by status class, tracebacks in the answers, and what went wrong."""
    counts = {"2xx": 0, "4xx": 0, "5xx": 0, "no answer": 0, "tracebacks": 0}
    problems = []
    for name, request in requests:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            status, body = await exchange(reader, writer, request)
        except (OSError, asyncio.IncompleteReadError):
            counts["no answer"] += 1
            problems.append(f"{name}: no answer")
            continue
        finally:
            writer.close()
        counts[f"{status // 100}xx"] += 1
        counts["tracebacks"] += b"Traceback" in body
        if status >= 500 or status < 200:
            problems.append(f"{name}: {status} {body[:100]!r}")
    return counts, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of load for each endpoint.")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (serve --workers).")
    parser.add_argument("--scale", type=int, default=10, help="Fuzz corpus size (1: about 55 inputs, 10: about 540).")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    predict = raw_request("/v1/predict", multipart([("file", "digit.png", png(render_digit(4, rng, 64)))]))
    read = raw_request("/v1/read", multipart([("file", "number.png", png(number_image("2025", rng)))]))

    with tempfile.TemporaryDirectory() as folder:
        port, log = free_port(), Path(folder) / "serve.log"
        server = start_server(port, args.workers, log)
        try:
            asyncio.run(load(port, predict, args.clients, count=500))  # warm-up
            asyncio.run(load(port, read, args.clients, count=50))
            before = rss_mib(server.pid)
            rows = []
            for name, request, target in (("/v1/predict", predict, ">= 300/s, p99 <= 100 ms"),
                                          ("/v1/read", read, ">= 20/s")):
                result = asyncio.run(load(port, request, args.clients, duration=args.duration))
                rows.append([name, f"{result['requests']:,}", f"{result['rate']:.0f}", f"{result['p50']:.1f}",
                             f"{result['p95']:.1f}", f"{result['p99']:.1f}", str(result["errors"]), target])
            soak = asyncio.run(load(port, predict, args.clients, count=MEMORY_REQUESTS))
            after = rss_mib(server.pid)
            fuzz, problems = asyncio.run(send_fuzz(port, fuzz_requests(Path(folder) / "corpus", args.scale)))
            still_up = healthy(port)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        logged = log.read_text(errors="replace").count("Traceback")

    title = f"Load: {args.clients} clients on loopback, {args.duration:g} s per endpoint, {args.workers} worker(s)"
    out.print(simple_table(title, ["endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                                   "target"], rows))
    out.print(simple_table(f"Server memory over {MEMORY_REQUESTS:,} more requests (after the timed load)",
                           ["before", "after", "growth", "errors"],
                           [[f"{before:.0f} MiB", f"{after:.0f} MiB", f"{(after - before) / before:+.1%}",
                             str(soak["errors"])]]))
    out.print(simple_table("Fuzz corpus and malformed requests over HTTP",
                           ["requests", "2xx", "4xx", "5xx", "no answer", "tracebacks (answers + server log)",
                            "/healthz after"],
                           [[str(sum(fuzz[k] for k in ("2xx", "4xx", "5xx", "no answer"))), str(fuzz["2xx"]),
                             str(fuzz["4xx"]), str(fuzz["5xx"]), str(fuzz["no answer"]),
                             str(fuzz["tracebacks"] + logged), "200" if still_up else "no answer"]]))
    for problem in problems:
        out.print(f"  {problem}", highlight=False, markup=False)

if __name__ == "__main__":
    main()
