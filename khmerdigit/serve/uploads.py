"""Multipart uploads read as they arrive: the size limit holds before the whole body is in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import HTTPException
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

FIELD = "file"  # the form field that carries the images
UNNAMED = "<image>"  # the "file" of an upload without a file name, as for any image given as bytes


@dataclass
class Upload:
    """One uploaded image: the client's file name (never opened, only echoed) and its bytes."""

    filename: str
    data: bytes


@dataclass
class Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


class PartCollector:
    """python-multipart callbacks that keep the parts named `file`, at most `max_files` of them."""

    def __init__(self, max_files: int):
        self.max_files = max_files
        self.uploads: list[Upload] = []
        self.part = Part()
        self.header_name, self.header_value = b"", b""
        self.complete = False  # the closing boundary arrived

    def callbacks(self) -> dict:
        return {"on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end, "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
                "on_end": self.on_end}

    def on_part_begin(self) -> None:
        self.part = Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_name.lower()] = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.part.data += data[start:end]

    def on_part_end(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if options.get(b"name") != FIELD.encode():
            return
        if len(self.uploads) == self.max_files:
            raise HTTPException(413, f"too many files: at most {self.max_files} per request")
        filename = options.get(b"filename", b"").decode("utf-8", "replace") or UNNAMED
        self.uploads.append(Upload(filename, bytes(self.part.data)))

    def on_end(self) -> None:
        self.complete = True


def boundary_of(request: Request) -> bytes:
    """The multipart boundary of the request; 415 for any other content type."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data":
        sent = f"not {kind.decode('latin-1')}" if kind else "the request has no Content-Type"
        raise HTTPException(415, f"send the images as multipart/form-data ({sent})")
    if not options.get(b"boundary"):
        raise HTTPException(400, "malformed multipart body: no boundary in the Content-Type header")
    return options[b"boundary"]


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request larger than {limit / 2**20:.3g} MiB")


async def limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The body's chunks; 413 as soon as more than `limit` bytes have arrived."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        yield chunk


async def read_uploads(request: Request, limit: int, max_files: int) -> list[Upload]:
    """The images of a multipart request, in upload order; 413, 415, 400 or 422 when it has none to give."""
    boundary = boundary_of(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refused before a byte of the body is read
        raise too_large(limit)
    collector = PartCollector(max_files)
    parser = MultipartParser(boundary, collector.callbacks())
    try:
        async for chunk in limited(request.stream(), limit):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise HTTPException(400, "malformed multipart body") from None
    except ClientDisconnect:
        raise HTTPException(400, "the client went away before the body was complete") from None
    if not collector.complete:
        raise HTTPException(400, "malformed multipart body: it ends before its closing boundary")
    if not collector.uploads:
        raise HTTPException(422, f"no '{FIELD}' part: send each image as a form field named '{FIELD}'")
    return collector.uploads
