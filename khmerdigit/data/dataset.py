"""Reading labelled image folders and writing a clean, split, prepared dataset."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError, __version__
from khmerdigit.fileio import IMAGE_SUFFIXES, atomic_path, current_umask, display_path, read_json, write_json
from khmerdigit.progress import Track, no_track
from khmerdigit.runtime.preprocess import BadImageError, PreprocessConfig, open_image, preprocess, to_gray

SPLITS = ("train", "valid", "test")
NEAR_DUPLICATE_CONFIG = PreprocessConfig(size=24)
NEAR_DUPLICATE_TOLERANCE = 0.012  # mean absolute difference of 12x12 normalized images below this: same image
def parse_label(name: str) -> Optional[int]:
    """'7' or '៧' -> 7; anything else -> None."""
    if len(name) == 1 and name in "0123456789":
        return int(name)
    if len(name) == 1 and name in KHMER_GLYPHS:
        return KHMER_GLYPHS.index(name)
    return None


@dataclass(frozen=True)
class Sample:
    """One labelled image file; `split` is set when the file sits under train/valid/test."""

    path: Path
    label: int
    split: Optional[str] = None


@dataclass
class Reject:
    """A file that was skipped, and why."""

    path: Path
    reason: str


@dataclass
class ScanResult:
    samples: list[Sample] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def scan_folder(root: Path) -> ScanResult:
    """Find labelled images under `root`: any file whose nearest label folder is 0-9 or ០-៩."""
    root = Path(root)
    if not root.is_dir():
        raise KhmerDigitError(f"{root} is not a folder")
    result = ScanResult()
    for folder, dirs, files in os.walk(root, onerror=lambda error: result.rejects.append(
            Reject(Path(error.filename or root), f"cannot list folder ({error.strerror})"))):
        dirs.sort()
        relative = Path(folder).relative_to(root)
        labels = [parse_label(part) for part in relative.parts]
        label = next((value for value in reversed(labels) if value is not None), None)
        split = next((part for part in relative.parts if part in SPLITS), None)
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or name.lower() in ("readme.md", "readme.txt", "license"):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                result.rejects.append(Reject(path, f"not an image file type ({path.suffix or 'no extension'})"))
            elif label is None:
                result.rejects.append(Reject(path, "not inside a label folder (0-9 or ០-៩)"))
            else:
                result.samples.append(Sample(path, label, split))
    return result


def stratified_split(labels: list[int], fractions: tuple[float, float, float], seed: int) -> list[str]:
    """Assign each index a split, per class, with the given train/valid/test fractions."""
    rng = np.random.default_rng(seed)
    splits = [""] * len(labels)
    for label in sorted(set(labels)):
        indices = [i for i, value in enumerate(labels) if value == label]
        rng.shuffle(indices)
        n_valid = round(len(indices) * fractions[1])
        n_test = round(len(indices) * fractions[2])
        for position, index in enumerate(indices):
            splits[index] = "valid" if position < n_valid else "test" if position < n_valid + n_test else "train"
    return splits


def parse_fractions(text: str) -> tuple[float, float, float]:
    """'69/20/11' or '0.7,0.2,0.1' -> fractions summing to 1."""
    parts = [p for p in text.replace(",", "/").split("/") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 0 or values[0] == 0:
        raise KhmerDigitError(f"--split must be three numbers train/valid/test such as 69/20/11, got {text!r}")
    total = sum(values)
    if not (abs(total - 100) <= 0.5 or abs(total - 1) <= 0.005):
        raise KhmerDigitError(f"--split percentages must add up to 100 (or fractions to 1), got {text!r} ({total:g})")
    return (values[0] / total, values[1] / total, values[2] / total)


class LookIndex:
    """Finds images that look the same once normalized (re-encoded or recompressed copies)."""

    def __init__(self, tolerance: float = NEAR_DUPLICATE_TOLERANCE):
        self.tolerance = tolerance
        self.looks = np.zeros((0, 144), np.float32)
        self.owners: list[Sample] = []

    def find_or_add(self, normalized: np.ndarray, sample: Sample) -> Optional[Sample]:
        """The earlier sample that looks like `normalized` (preprocessed with NEAR_DUPLICATE_CONFIG), or None."""
        look = normalized[..., 0].reshape(12, 2, 12, 2).mean(axis=(1, 3)).ravel()
        if self.owners:
            distances = np.abs(self.looks[: len(self.owners)] - look).mean(axis=1)
            nearest = int(distances.argmin())
            if distances[nearest] < self.tolerance:
                return self.owners[nearest]
        if len(self.owners) == len(self.looks):
            self.looks = np.concatenate([self.looks, np.zeros((max(64, len(self.looks)), 144), np.float32)])
        self.looks[len(self.owners)] = look
        self.owners.append(sample)
        return None


@dataclass
class PrepareResult:
    out_dir: Path
    counts: dict[str, Counter]
    rejects: list[Reject]
    duplicates: list[Reject]
    augmented: int


def rotate_gray(gray: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate a grayscale image, filling the corners with its background level."""
    background = float(np.median(gray))
    image = Image.fromarray(gray.astype(np.float32), "F")
    image = image.rotate(degrees, Image.Resampling.BILINEAR, expand=True, fillcolor=background)
    return np.asarray(image)


def save_gray(gray: np.ndarray, path: Path) -> None:
    """Write a 0..1 grayscale array as an 8-bit PNG."""
    Image.fromarray(np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8), "L").save(path)


def prepare(
    raw_dir: Path,
    out_dir: Path,
    fractions: tuple[float, float, float] = (0.69, 0.20, 0.11),
    seed: int = 0,
    rotations: int = 0,
    rotate_eval: bool = False,
    keep_split: bool = False,
    overwrite: bool = False,
    track: Track = no_track,
) -> PrepareResult:
    """Clean, deduplicate, split and (optionally) augment `raw_dir` into `out_dir`; never touches `raw_dir`."""
    raw_dir, out_dir = Path(raw_dir).resolve(), Path(out_dir).resolve()
    if out_dir == raw_dir or raw_dir in out_dir.parents:
        raise KhmerDigitError(f"--out {out_dir} is inside RAW_DIR; choose a folder outside it")
    if out_dir in raw_dir.parents:
        raise KhmerDigitError(f"--out {out_dir} holds RAW_DIR; choose a folder outside it")
    if out_dir.exists() and not overwrite:
        raise KhmerDigitError(f"{out_dir} already exists; pass --overwrite to replace it")
    if out_dir.exists() and not (is_prepared(out_dir) or (out_dir.is_dir() and not any(out_dir.iterdir()))):
        raise KhmerDigitError(f"{out_dir} was not written by prepare; --overwrite replaces only a prepared "
                              "dataset: choose another --out")
    scan = scan_folder(raw_dir)
    rejects, duplicates = list(scan.rejects), []
    kept: list[tuple[Sample, np.ndarray, str]] = []
    by_hash: dict[str, Sample] = {}
    looks = LookIndex()
    for sample in track(scan.samples, "Checking images"):
        try:
            gray = to_gray(open_image(sample.path))
            digest = hashlib.sha256(sample.path.read_bytes()).hexdigest()
        except (BadImageError, OSError) as error:
            rejects.append(Reject(sample.path, str(error)))
            continue
        original = by_hash.get(digest)
        kind = "exact"
        if original is None:
            normalized = preprocess(gray, NEAR_DUPLICATE_CONFIG)
            if not normalized.any():
                rejects.append(Reject(sample.path, "no ink found (blank image)"))
                continue
            original, kind = looks.find_or_add(normalized, sample), "near"
        if original is not None:
            conflict = f", labelled {original.label} there" if original.label != sample.label else ""
            where = display_path(original.path.relative_to(raw_dir))
            duplicates.append(Reject(sample.path, f"{kind} duplicate of {where}{conflict}"))
            continue
        by_hash[digest] = sample
        kept.append((sample, gray, digest))
    if not kept:
        raise KhmerDigitError(f"no usable labelled images in {raw_dir}")
    if keep_split and all(sample.split for sample, _, _ in kept):
        splits = [sample.split for sample, _, _ in kept]
    else:
        splits = stratified_split([sample.label for sample, _, _ in kept], fractions, seed)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes an owner-only folder
    try:
        rows, counts, augmented = [], {s: Counter() for s in SPLITS}, 0
        for (sample, gray, digest), split in track(list(zip(kept, splits)), "Writing dataset"):
            angles = [0] + (list(range(1, rotations + 1)) if split == "train" or rotate_eval else [])
            for angle in angles:
                name = f"{split}/{sample.label}/{digest[:16]}" + (f"_r{angle:02d}" if angle else "") + ".png"
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                save_gray(rotate_gray(gray, angle) if angle else gray, staging / name)
                rows.append([name, display_path(sample.path.relative_to(raw_dir)), digest, sample.label, split, angle])
                counts[split][sample.label] += 1
                augmented += bool(angle)
        write_csv(staging / "manifest.csv", ["file", "source", "sha256", "label", "split", "rotation"], rows)
        write_csv(staging / "rejects.csv", ["source", "reason"],
                  [[display_path(r.path), r.reason] for r in rejects + duplicates])
        write_json(staging / "dataset.json", {
            "khmerdigit": __version__, "raw_dir": display_path(raw_dir), "seed": seed, "fractions": fractions,
            "rotations": rotations, "rotate_eval": rotate_eval, "keep_split": keep_split,
            "counts": {s: {str(k): v for k, v in sorted(c.items())} for s, c in counts.items()},
            "rejects": len(rejects), "duplicates": len(duplicates),
        })
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PrepareResult(out_dir, counts, rejects, duplicates, augmented)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Write a CSV file atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def is_prepared(folder: Path) -> bool:
    """True if `folder` was written by `prepare`."""
    return (Path(folder) / "manifest.csv").is_file() and (Path(folder) / "dataset.json").is_file()


def labelled_files(folder: Path, split: Optional[str] = None) -> ScanResult:
    """Labelled images of a prepared dataset's split, or of any folder of class folders."""
    folder = Path(folder)
    if is_prepared(folder):
        with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        chosen = [r for r in rows if split is None or r["split"] == split]
        return ScanResult([Sample(folder / r["file"], int(r["label"]), r["split"]) for r in chosen])
    scan = scan_folder(folder)
    if split is not None and any(s.split for s in scan.samples):
        scan.samples = [s for s in scan.samples if s.split == split]
    return scan


def split_samples(folder: Path, split: str) -> list[Sample]:
    """The labelled images of one split of a dataset split into train/valid/test, by `prepare` or by
    hand; a folder that is not split is an error (training would validate on its own training images)."""
    samples = labelled_files(folder, split).samples
    if samples and not any(sample.split for sample in samples):
        raise KhmerDigitError(f"{display_path(folder)} is not split into train/ and valid/: run "
                              f"khmerdigit prepare {display_path(folder)} --out DIR first, and train on DIR")
    return samples


def load_arrays(
    samples: list[Sample], config: PreprocessConfig, track: Track = no_track, description: str = "Loading images"
) -> tuple[np.ndarray, np.ndarray, list[Sample], list[Reject]]:
    """Preprocess samples into (x, y); unreadable files are returned as rejects."""
    images, labels, loaded, rejects = [], [], [], []
    for sample in track(samples, description):
        try:
            images.append(preprocess(sample.path, config))
        except BadImageError as error:
            rejects.append(Reject(sample.path, str(error)))
            continue
        labels.append(sample.label)
        loaded.append(sample)
    x = np.stack(images) if images else np.zeros((0, config.size, config.size, 1), np.float32)
    return x, np.asarray(labels, dtype=np.int64), loaded, rejects


def dataset_info(folder: Path) -> dict:
    """The summary `prepare` wrote."""
    return read_json(Path(folder) / "dataset.json")


def class_warnings(counts: dict[str, Counter], minimum: int = 10) -> list[str]:
    """Warnings for missing or very small classes in a split."""
    messages = []
    for split, counter in counts.items():
        if not sum(counter.values()):
            continue
        missing = [str(label) for label in range(NUM_CLASSES) if counter[label] == 0]
        small = [f"{label} ({counter[label]})" for label in range(NUM_CLASSES) if 0 < counter[label] < minimum]
        if missing:
            messages.append(f"{split}: no images of class {', '.join(missing)}")
        if small:
            messages.append(f"{split}: few images of class {', '.join(small)}")
    return messages
