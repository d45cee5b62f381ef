"""The API's JSON, described for the OpenAPI docs; the records themselves come from `to_dict()` unchanged."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class DigitClass(BaseModel):
    digit: int
    glyph: str


class TopDigit(DigitClass):
    confidence: float


class DigitResult(Record):
    """One image's `predict --json` record; `digit`, `glyph` and `confidence` are null when `error` is set."""

    file: str = Field(description="The uploaded file name.")
    digit: int | None = Field(description="The digit 0-9.")
    glyph: str | None = Field(description="The Khmer digit ០-៩.")
    confidence: float | None
    uncertain: bool | None = Field(None, description="Confidence below `threshold`.")
    threshold: float | None = None
    top: list[TopDigit] | None = Field(None, description="The `top_k` most likely digits, when top_k > 1.")
    warning: str | None = Field(None, description="Set when the image looks like several digits side by side (use read).")
    error: str | None = Field(None, description="Why this image could not be read.")


class Box(BaseModel):
    x: int
    y: int
    width: int
    height: int


class NumberDigit(Record):
    digit: int
    glyph: str
    confidence: float
    box: Box = Field(description="In the pixels of `image_size` (the image shrunk to at most 512 px a side).")
    uncertain: bool = Field(description="Confidence below `threshold`.")


class NumberResult(Record):
    """One image's `read --json` record, or {"file", "error"} when it could not be read or holds no digits."""

    file: str = Field(description="The uploaded file name.")
    khmer: str | None = Field(None, description="The number in Khmer digits.")
    arabic: str | None = Field(None, description="The number in Arabic digits.")
    uncertain: bool | None = Field(None, description="Number confidence below `threshold`, the line reader reads "
                                   "other digits, or a `warning`.")
    threshold: float | None = None
    line_reader: str | None = Field(None, description="The line reader's own reading (Arabic digits), null without it.")
    warning: str | None = Field(None, description="What makes the reading doubtful (several lines of writing, an empty "
                                                   "printed box, slashes left out), or null.")
    image_size: list[int] | None = Field(None, description="Width and height the boxes refer to.")
    digits: list[NumberDigit] | None = None
    error: str | None = Field(None, description="Why this image could not be read.")


class PredictResponse(BaseModel):
    results: list[DigitResult] = Field(description="One per uploaded file, in upload order.")


class ReadResponse(BaseModel):
    results: list[NumberResult] = Field(description="One per uploaded file, in upload order.")


class ModelFile(BaseModel):
    task: str = Field(description="digits, whole-digit or line.")
    file: str
    sha256: str


class Limits(BaseModel):
    max_upload_bytes: int
    max_files: int


class ModelInfo(BaseModel):
    version: str
    classes: list[DigitClass] = Field(description="The ten classes: each digit and its Khmer glyph.")
    preprocess: dict = Field(description="The preprocessing the digit classifier was trained with.")
    threshold: float = Field(description="Digits read with less confidence are marked uncertain.")
    models: list[ModelFile]
    limits: Limits


class Health(BaseModel):
    status: str = "ok"


class Error(BaseModel):
    error: str = Field(description="One line saying what went wrong.")
