"""`khmerdigit serve`: the API through a real ASGI client (every endpoint, the schema, every error status,
the key, CORS, the page and the docs), the command itself, and a real uvicorn process."""

from __future__ import annotations

import hashlib
import io
import json
import re
import select
import socket
import subprocess
import sys
import threading
import warnings
from contextlib import contextmanager

import httpx
import numpy as np
import pytest
from PIL import Image

from khmerdigit import KHMER_GLYPHS, __version__
from khmerdigit.cli.serve import is_loopback
from khmerdigit.runtime.registry import NETWORKS
from khmerdigit.serve import ServeSettings, create_app
from khmerdigit.serve.engine import Models
from khmerdigit.serve.schemas import ModelInfo, PredictResponse, ReadResponse
from tests.helpers import compose, digit_image, run
from tests.live_server import healthy, live_server

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # newer starlette prefers httpx2; httpx works the same
    from fastapi.testclient import TestClient

BOUNDARY = "khmerdigit-test-boundary"


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def number_png(labels: list[int], seed: int = 0) -> bytes:
    gray, _ = compose(labels, [14] * (len(labels) - 1), seed)
    return png(Image.fromarray(np.round(gray * 255).astype(np.uint8)))


DIGIT = png(digit_image(3, 5))
NUMBER = number_png([1, 2, 3])
WHITE = png(Image.new("L", (60, 40), 255))
NOT_AN_IMAGE = b"hello, not an image\n"
BOMB = png(Image.new("1", (20000, 20000)))  # 400 million pixels in a few kB


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = BOUNDARY) -> bytes:
    """A multipart/form-data body from (field, file name or None, data) parts."""
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def files(*named: tuple[str, bytes]) -> list:
    return [("file", (name, data, "application/octet-stream")) for name, data in named]


@pytest.fixture(scope="module")
def models() -> Models:
    return Models(ServeSettings(copies=1))


@pytest.fixture(scope="module")
def make_client(models):
    """A context manager: a TestClient of an app with these settings, sharing the loaded models."""

    @contextmanager
    def make(**settings):
        with TestClient(create_app(ServeSettings(copies=1, **settings), models)) as client:
            yield client

    return make


@pytest.fixture(scope="module")
def client(make_client):
    with make_client() as client:
        yield client


def assert_error(response, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    assert fragment in body["error"], body


# ---- endpoints ----

def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200


def test_model_info(client, models):
    info = client.get("/v1/model").json()
    assert ModelInfo.model_validate(info)
    assert info["version"] == __version__
    assert [c["glyph"] for c in info["classes"]] == list(KHMER_GLYPHS) and [c["digit"] for c in info["classes"]] == list(
        range(10))
    assert info["preprocess"] == {"size": 32, "method": "normalized", "version": 2}
    bundled = {network.task: network.bundled for network in NETWORKS.values()}
    assert [m["task"] for m in info["models"]] == list(bundled)
    for entry in info["models"]:
        assert entry["file"] == bundled[entry["task"]].name
        assert entry["sha256"] == hashlib.sha256(bundled[entry["task"]].read_bytes()).hexdigest()
    assert info["limits"] == {"max_upload_bytes": 10 * 2**20, "max_files": 64}


@pytest.mark.parametrize("top_k", [1, 3])
def test_predict_returns_exactly_the_cli_records(client, tmp_path, top_k):
    (tmp_path / "three.png").write_bytes(DIGIT)
    (tmp_path / "broken.png").write_bytes(NOT_AN_IMAGE)
    cli = run("predict", tmp_path / "three.png", tmp_path / "broken.png", "--json", "--top-k", top_k)
    expected = json.loads(cli.stdout)
    response = client.post(f"/v1/predict?top_k={top_k}",
                           files=files((str(tmp_path / "three.png"), DIGIT), (str(tmp_path / "broken.png"), NOT_AN_IMAGE)))
    assert response.status_code == 200, response.text
    assert response.json() == {"results": expected}
    assert expected[0]["digit"] == 3 and "error" in expected[1]
    assert PredictResponse.model_validate(response.json())


def test_read_returns_exactly_the_cli_records(client, tmp_path):
    for name, data in (("number.png", NUMBER), ("white.png", WHITE), ("broken.png", NOT_AN_IMAGE)):
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / "number.png", tmp_path / "white.png", tmp_path / "broken.png"]
    expected = json.loads(run("read", *paths, "--json").stdout)
    response = client.post("/v1/read", files=files(*((str(path), path.read_bytes()) for path in paths)))
    assert response.status_code == 200, response.text
    assert response.json() == {"results": expected}
    number, white, broken = response.json()["results"]
    assert number["arabic"] == "123" and number["khmer"] == "១២៣" and len(number["digits"]) == 3
    assert set(number["digits"][0]) >= {"digit", "glyph", "confidence", "box", "uncertain"}
    assert white == {"file": str(paths[1]), "error": "no digits found"} and set(broken) == {"file", "error"}
    assert ReadResponse.model_validate(response.json())


def test_many_files_keep_their_order_and_a_bad_one_gets_its_own_error(client):
    uploads = [("one.png", png(digit_image(1, 2))), ("bad.jpg", NOT_AN_IMAGE), ("seven.png", png(digit_image(7, 2))),
               ("empty.png", b""), ("bomb.png", BOMB)]
    results = client.post("/v1/predict", files=files(*uploads)).json()["results"]
    assert [r["file"] for r in results] == [name for name, _ in uploads]
    assert [r["digit"] for r in results] == [1, None, 7, None, None]
    assert "not an image" in results[1]["error"] and "too large" in results[4]["error"]
    assert results[3]["error"] == "empty file (0 bytes)"  # as the command line says


def test_an_upload_without_a_file_name_is_answered(client):
    response = client.post("/v1/predict", content=multipart([("file", None, DIGIT)]), headers=MULTIPART)
    assert response.json()["results"][0]["file"] == "<image>"


def test_file_names_are_only_echoed_never_opened(client, tmp_path):
    (tmp_path / "real.png").write_bytes(DIGIT)
    uploads = files((str(tmp_path / "real.png"), NOT_AN_IMAGE), ("/etc/passwd", DIGIT), ("../../x.png", DIGIT))
    results = client.post("/v1/predict", files=uploads).json()["results"]
    assert "not an image" in results[0]["error"]
    assert [(r["file"], r["digit"]) for r in results[1:]] == [("/etc/passwd", 3), ("../../x.png", 3)]


def test_64_files_are_answered(client):
    response = client.post("/v1/predict", files=files(*[(f"{n}.png", DIGIT) for n in range(64)]))
    assert response.status_code == 200 and len(response.json()["results"]) == 64


# ---- errors ----

def test_an_unreadable_image_alone_is_400(client):
    assert_error(client.post("/v1/predict", files=files(("notes.png", NOT_AN_IMAGE))), 400,
                 "notes.png: not an image")
    assert_error(client.post("/v1/read", files=files(("bomb.png", BOMB))), 400, "bomb.png: image too large")
    assert_error(client.post("/v1/read", files=files(("white.png", WHITE))), 400, "white.png: no digits found")
    assert_error(client.post("/v1/predict", files=files(("a.png", b""), ("b.png", NOT_AN_IMAGE))), 400,
                 "none of the 2 images could be read")


@pytest.mark.parametrize("body, headers", [
    (b"no boundary here", {"content-type": "multipart/form-data"}),
    (b"garbage that is no multipart body", MULTIPART),
    (multipart([("file", "a.png", DIGIT)])[:-30], MULTIPART),  # cut before the closing boundary
], ids=["no boundary", "garbage", "truncated"])
def test_a_malformed_body_is_400(client, body, headers):
    assert_error(client.post("/v1/predict", content=body, headers=headers), 400, "malformed multipart body")


def test_the_size_limit_is_413_whether_declared_or_streamed(make_client):
    with make_client(max_upload_bytes=4096) as client:
        big = multipart([("file", "big.png", bytes(5000))])
        assert_error(client.post("/v1/predict", content=big, headers=MULTIPART), 413, "larger than")
        streamed = (big[i : i + 512] for i in range(0, len(big), 512))  # chunked: no Content-Length to trust
        assert_error(client.post("/v1/read", content=streamed, headers=MULTIPART), 413, "larger than")
        small = png(digit_image(2, 0, size=28))
        assert len(multipart([("file", "small.png", small)])) < 4096
        assert client.post("/v1/predict", files=files(("small.png", small))).status_code == 200


def test_more_than_64_files_is_413(client):
    assert_error(client.post("/v1/predict", files=files(*[(f"{n}.png", b"x") for n in range(65)])), 413,
                 "at most 64")


@pytest.mark.parametrize("kwargs", [
    {"json": {"file": "three.png"}},
    {"content": DIGIT, "headers": {"content-type": "image/png"}},
    {"data": {"file": "three.png"}},  # a form without files: urlencoded
    {"content": b""},
], ids=["json", "raw image", "urlencoded", "no content type"])
def test_a_wrong_content_type_is_415(client, kwargs):
    response = client.post("/v1/read", **kwargs)
    assert_error(response, 415, "multipart/form-data")
    if kwargs == {"content": b""}:
        assert "(the request has no Content-Type)" in response.json()["error"]


def test_no_file_part_is_422(client):
    body = multipart([("image", "three.png", DIGIT), ("note", None, b"hello")])
    assert_error(client.post("/v1/predict", content=body, headers=MULTIPART), 422, "no 'file' part")
    assert_error(client.post("/v1/read", content=multipart([]), headers=MULTIPART), 422, "no 'file' part")


@pytest.mark.parametrize("top_k", ["0", "11", "many"])
def test_a_bad_parameter_is_422(client, top_k):
    assert_error(client.post(f"/v1/predict?top_k={top_k}", files=files(("a.png", DIGIT))), 422, "top_k")


def test_the_threshold_is_a_parameter_as_on_the_command_line(client, tmp_path):
    (tmp_path / "three.png").write_bytes(DIGIT)
    (tmp_path / "number.png").write_bytes(NUMBER)
    for endpoint, image in (("predict", "three.png"), ("read", "number.png")):
        cli = json.loads(run(endpoint, tmp_path / image, "--json", "--threshold", "1.0").stdout)
        response = client.post(f"/v1/{endpoint}?threshold=1.0", files=files((str(tmp_path / image), (tmp_path / image).read_bytes())))
        assert response.json() == {"results": cli} and cli[0]["threshold"] == 1.0 and cli[0]["uncertain"], endpoint
        default = client.post(f"/v1/{endpoint}", files=files((image, (tmp_path / image).read_bytes()))).json()
        assert default["results"][0]["threshold"] == 0.9 and not default["results"][0]["uncertain"], endpoint
        assert_error(client.post(f"/v1/{endpoint}?threshold=2", files=files((image, DIGIT))), 422, "threshold")


def test_unknown_paths_and_methods_answer_json(client):
    assert_error(client.get("/v2/predict"), 404, "not found: /v2/predict")
    response = client.get("/v1/predict")
    assert_error(response, 405, "GET not allowed")
    assert response.headers["allow"] == "POST"


def test_a_bug_is_a_one_line_500(models, monkeypatch):
    monkeypatch.setattr(models, "read", lambda uploads: 1 / 0)
    with TestClient(create_app(ServeSettings(copies=1), models), raise_server_exceptions=False) as client:
        assert_error(client.post("/v1/read", files=files(("a.png", NUMBER))), 500, "internal server error")
        assert client.get("/healthz").status_code == 200


def test_the_api_key(make_client):
    with make_client(api_key="s3cret") as client:
        for request in (lambda **kw: client.post("/v1/predict", files=files(("a.png", DIGIT)), **kw),
                        lambda **kw: client.post("/v1/read", files=files(("a.png", NUMBER)), **kw),
                        lambda **kw: client.get("/v1/model", **kw)):
            assert_error(request(), 401, "missing API key")
            assert request().headers["www-authenticate"] == "Bearer"
            assert_error(request(headers={"X-API-Key": "wrong"}), 401, "wrong API key")
            assert_error(request(headers={"Authorization": "Bearer wrong"}), 401, "wrong API key")
            assert request(headers={"X-API-Key": "s3cret"}).status_code == 200
            assert request(headers={"Authorization": "Bearer s3cret"}).status_code == 200
        # the key is checked before the body is read: a huge body without it is still 401
        assert_error(client.post("/v1/predict", content=bytes(11 * 2**20), headers=MULTIPART), 401)
        for open_path in ("/healthz", "/", "/docs", "/openapi.json", "/static/app.js"):
            assert client.get(open_path).status_code == 200, open_path
        assert "APIKeyHeader" in json.dumps(client.get("/openapi.json").json()["components"])


def test_cors_is_off_unless_an_origin_is_given(client, make_client):
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/predict", headers=preflight).headers
    assert "access-control-allow-origin" not in client.get("/v1/model", headers={"origin": "https://app.example"}).headers
    with make_client(cors_origins=("https://app.example",)) as cors:
        response = cors.options("/v1/predict", headers={**preflight, "access-control-request-headers": "x-api-key"})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = cors.options("/v1/predict", headers={**preflight, "origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# ---- the page and the docs ----

def test_the_page_is_served_from_package_files_only(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.head("/").status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links and all("//" not in link for link in links), links
    for path in ("/static/app.js", "/static/style.css", "/static/icon.svg", "/font/khmer.ttf"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.content) > 200, path
        assert b"https://" not in response.content or path.endswith(".ttf"), path
    assert client.get("/static/../app.py").status_code == 404


def test_the_docs_work_offline(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/healthz", "/v1/predict", "/v1/read", "/v1/model"}
    body = spec["paths"]["/v1/read"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert {"400", "413", "415", "422"} <= set(spec["paths"]["/v1/predict"]["post"]["responses"])


# ---- the command ----

def test_serve_help_imports_neither_fastapi_nor_tensorflow():
    code = ("import sys\nfrom khmerdigit.cli import app\nsys.argv = ['khmerdigit', 'serve', '--help']\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'uvicorn', 'starlette', 'tensorflow'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("[]")
    assert "--max-upload-mb" in result.stdout and "KHMERDIGIT_API_KEY" in result.stdout


def test_serve_without_the_extra_says_how_to_install_it():
    code = ("import sys\nsys.modules['uvicorn'] = None\nfrom khmerdigit.cli import app\n"
            "sys.argv = ['khmerdigit', 'serve']\napp()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "pip install 'khmerdigit[serve]'" in result.stderr and "Traceback" not in result.stderr


def test_serve_with_a_bad_model_fails_in_one_line(tmp_path):
    result = run("serve", "--model", tmp_path / "missing.tflite", "--port", 1)
    assert result.exit_code == 1 and "missing.tflite" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_is_loopback():
    assert all(map(is_loopback, ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.5", "example.org"]))


# ---- a real uvicorn process ----

def send_unbounded_body(port: int, limit: int) -> tuple[bytes, int]:
    """POST a chunked body that never ends; return the server's first answer and how many bytes went out."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                           f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n".encode())
        head = multipart([("file", "endless.png", b"")]).split(b"\r\n--")[0]  # a part that never ends
        connection.sendall(b"%x\r\n" % len(head) + head + b"\r\n")
        chunk, sent = bytes(64 * 1024), len(head)
        while sent < 50 * limit:
            if select.select([connection], [], [], 0)[0]:
                break
            try:
                connection.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        while not answer.endswith(b"}") and (part := connection.recv(4096)):
            answer += part
        return answer, sent


def test_a_real_uvicorn_process(tmp_path):
    with live_server(tmp_path / "serve.log", "--max-upload-mb", "1") as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            response = http.post("/v1/read", files=files(("number.png", NUMBER)))
            assert response.json()["results"][0]["arabic"] == "123"

            images = {(label, seed): png(digit_image(label, seed)) for label in range(1, 9) for seed in range(4)}
            alone = {key: http.post("/v1/predict", files=files(("x.png", image))).json() for key, image in images.items()}
            together: dict = {}

            def predict(label: int):  # eight clients at once: the models must not mix their answers up
                with httpx.Client(base_url=server.url, timeout=60) as own:
                    for seed in range(4):
                        together[label, seed] = own.post("/v1/predict", files=files(("x.png", images[label, seed]))).json()

            threads = [threading.Thread(target=predict, args=(label,)) for label in range(1, 9)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert together == alone
            assert sum(alone[label, seed]["results"][0]["digit"] == label for label, seed in images) >= 24

        answer, sent = send_unbounded_body(server.port, 2**20)
        assert answer.startswith(b"HTTP/1.1 413") and b"larger than 1 MiB" in answer
        assert sent < 20 * 2**20  # refused while the body was still arriving
        assert healthy(server.url)
    assert server.process.returncode == 0
    log = server.output()
    assert "Traceback" not in log and "Application startup complete" in log and "Finished server process" in log


def test_several_workers(tmp_path):
    with live_server(tmp_path / "serve.log", "--workers", "2", "--api-key", "k") as server:
        reply = httpx.post(server.url + "/v1/predict", files=files(("three.png", DIGIT)), headers={"X-API-Key": "k"},
                           timeout=60)
        assert reply.json()["results"][0]["digit"] == 3
        assert httpx.post(server.url + "/v1/predict", files=files(("three.png", DIGIT)), timeout=60).status_code == 401
    assert "Traceback" not in server.output()


def test_a_port_in_use_is_one_line_before_anything_is_announced():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "khmerdigit", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
