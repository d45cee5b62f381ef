"""The one preprocessing path: any image in, the model's input tensor out.

Every command (prepare, train, evaluate, predict, read, synth) goes through `preprocess`.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Optional, Union

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from khmerdigit import KhmerDigitError
from khmerdigit.runtime.ruling import remove_ruling

PREPROCESS_VERSION = 2
METHODS = ("normalized", "paper")
MAX_FILE_BYTES = 64 * 1024 * 1024  # larger files are rejected before decoding
MAX_PIXELS = 50_000_000  # declared sizes above this are decompression bombs
WORKING_SIDE = 512  # large photos are shrunk to this before any pixel work
INK_THRESHOLD = 0.25  # normalized ink above this counts for the bounding box
SPECK_FRACTION = 0.02  # components with less than this share of the ink are specks
DIGIT_FILL = 0.75  # the digit's longer side fills this share of the output
FAINT_INK = 0.5  # ink is measured against its neighbourhood's darkest, but at least this share of the image's

ImageSource = Union[str, Path, bytes, BinaryIO, Image.Image, np.ndarray]


class BadImageError(KhmerDigitError):
    """The input cannot be read as an image."""


@dataclass(frozen=True)
class PreprocessConfig:
    """How images become model inputs; stored with every model."""

    size: int = 32
    method: str = "normalized"
    version: int = PREPROCESS_VERSION

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise KhmerDigitError(f"unknown preprocessing method {self.method!r}; choose from {', '.join(METHODS)}")
        if not 8 <= self.size <= 256:
            raise KhmerDigitError(f"input size {self.size} is outside 8..256")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PreprocessConfig":
        config = cls(size=int(data["size"]), method=str(data["method"]), version=int(data["version"]))
        if config.version != PREPROCESS_VERSION:
            raise KhmerDigitError(
                f"model uses preprocessing version {config.version}, this khmerdigit has {PREPROCESS_VERSION}"
            )
        return config


def open_image(path: Union[str, Path, bytes]) -> Image.Image:
    """Open a file (or bytes) as a PIL image, refusing huge, broken and non-image inputs."""
    if isinstance(path, bytes):
        data = path
        if not data:
            raise BadImageError("empty file (0 bytes)")
    else:
        path = Path(path)
        if not path.is_file():
            if path.is_symlink():
                raise BadImageError("broken or looping symbolic link")
            raise BadImageError("not a file" if path.exists() else "file not found")
        if path.stat().st_size == 0:
            raise BadImageError("empty file (0 bytes)")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BadImageError(f"file larger than {MAX_FILE_BYTES // 2**20} MiB")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise BadImageError(f"cannot read file ({error.strerror or error})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise BadImageError(f"image too large ({image.width}x{image.height} pixels)")
            image.draft("L", (WORKING_SIDE, WORKING_SIDE))
            image.load()
            return ImageOps.exif_transpose(image)
    except BadImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImageError("image too large (decompression bomb)") from None
    except Image.UnidentifiedImageError:
        raise BadImageError("not an image (unknown or damaged format)") from None
    except Exception as error:  # decoders raise many types for broken files
        raise BadImageError(f"truncated or corrupt image ({error})") from None


def shrunk(image: Image.Image) -> Image.Image:
    """The image, or a copy of a larger one shrunk to WORKING_SIDE on its longer side."""
    if max(image.size) <= WORKING_SIDE:
        return image
    image = image.copy()
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BOX)
    return image


def to_gray(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> float32 grayscale in 0..1 (1 = white); transparency sits on white. A 1-bit image
    (a scan or fax dithered to black and white dots) is blurred back to shades of gray."""
    if image.mode == "1":
        gray = np.asarray(shrunk(image.convert("L")), dtype=np.float32) / 255.0
        return ndimage.gaussian_filter(gray, 1.0).astype(np.float32)
    image = shrunk(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1.0)
        return np.clip(values / top, 0.0, 1.0)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        gray = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32) / 255.0
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        if np.ptp(gray) < 0.1 and np.ptp(alpha) >= 0.1:  # light ink on a transparent canvas
            return 1.0 - alpha
        return gray
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def as_gray(source: ImageSource) -> np.ndarray:
    """Load a path, bytes, an open file, a PIL image or an array as float32 grayscale in 0..1."""
    if isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or 0 in source.shape or (source.ndim == 3 and source.shape[2] not in (1, 3, 4)):
            raise BadImageError(f"an image array is rows x columns (x 1, 3 or 4 channels), not of shape {source.shape}")
        gray = source.astype(np.float32)
        if not np.isfinite(gray).all():
            raise BadImageError("the image array holds NaN or infinite values")
        if gray.ndim == 3:
            gray = gray.mean(axis=2)
        gray = gray / 255.0 if source.dtype == np.uint8 else gray
        if max(gray.shape) > WORKING_SIDE:  # as a file of this size is (`to_gray`)
            gray = np.asarray(shrunk(Image.fromarray(gray, "F")), dtype=np.float32)
        return gray
    if isinstance(source, Image.Image):
        return to_gray(source)
    if hasattr(source, "read"):  # an open file or io.BytesIO, e.g. an upload in a web app
        source = source.read()
    if not isinstance(source, (str, Path, bytes)):
        raise BadImageError(f"cannot read a {type(source).__name__} as an image: give a path, bytes, a file object, "
                            "a PIL image or an array")
    return to_gray(open_image(source))


UNEVEN_BACKGROUND = 0.12  # paper brighter in one part than another by more than this gets flattened


def paper_estimate(gray: np.ndarray, dark_ink: bool) -> np.ndarray:
    """The paper (or screen) alone, strokes removed: a grey closing (opening for light ink) a third of the
    image's height high and a third of its width wide, on a copy 32 pixels on its shorter side (256 at
    most on the longer), smoothed and enlarged back. Beyond the edges the paper goes on as at the edge,
    so a shadow darkening the top of a wide image of a number is followed to the edge, not taken for ink."""
    scale = min(32 / min(gray.shape), 256 / max(gray.shape))
    size = (max(2, round(gray.shape[1] * scale)), max(2, round(gray.shape[0] * scale)))
    small = np.asarray(Image.fromarray(gray.astype(np.float32), "F").resize(size, Image.Resampling.BOX))
    window = (max(3, small.shape[0] // 3), max(3, small.shape[1] // 3))
    operation = ndimage.grey_closing if dark_ink else ndimage.grey_opening
    thin_lines_gone = operation(small, size=(3, 3), mode="nearest")  # e.g. a form's frame along the edge
    padded = np.pad(thin_lines_gone, [(window[0],) * 2, (window[1],) * 2], mode="edge")
    paper = ndimage.gaussian_filter(operation(padded, size=window), 2)[window[0]:-window[0], window[1]:-window[1]]
    return np.asarray(Image.fromarray(paper, "F").resize(gray.shape[::-1], Image.Resampling.BILINEAR))


def flatten_background(gray: np.ndarray, background: Optional[float] = None) -> np.ndarray:
    """Even out shadows and uneven light; an evenly lit image is returned unchanged.

    The ink is first taken to be darker than the `background` shade (by default the median; see
    `ink_polarity`) when that is closer to the lightest than to the darkest pixels. When the light is
    uneven, the ink's polarity is the one whose paper estimate fits most pixels (the smaller median
    departure: ink is sparse, and a shadow can make the mean departure mislead). Dark ink: the image is
    divided by the paper estimate (shading multiplies); light ink on a screen: the estimate is subtracted.
    """
    if min(gray.shape) < 8:
        return gray
    background = float(np.median(gray)) if background is None else background
    if (np.abs(gray - background) > 0.5 * float(np.ptp(gray))).mean() > 0.5:
        return gray  # mostly ink, far from the background (bold writing cropped tightly): no paper to estimate
    first = background >= 0.5 * (float(gray.min()) + float(gray.max()))  # dark ink, most likely
    paper = paper_estimate(gray, first)
    if np.ptp(paper) < UNEVEN_BACKGROUND:  # the common case: evenly lit, one estimate is enough
        return gray
    other = paper_estimate(gray, not first)
    if np.median(np.abs(gray - other)) < np.median(np.abs(gray - paper)):
        first, paper = not first, other
        if np.ptp(paper) < UNEVEN_BACKGROUND:
            return gray
    dark_ink = first
    level = float(np.median(paper))
    if dark_ink:  # light falling on paper multiplies: divide it out, which also restores the ink's contrast
        return (gray * (level / np.maximum(paper, 0.02))).astype(np.float32)
    return (gray - paper + level).astype(np.float32)


def ink_polarity(gray: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """The background shade, the ink's sign (1: darker than the background, -1: lighter), its strongest
    contrast with the background, and the image smoothed by 2x2 means (extremes that single noisy pixels
    cannot fake, however little ink there is). The background is the median shade, unless the image's
    corners are as light as its lightest marks: then bold dark writing cropped tightly covers most of
    the image, and the corners are the paper."""
    background = float(np.median(gray))
    smooth = (gray[:-1, :-1] + gray[1:, :-1] + gray[:-1, 1:] + gray[1:, 1:]) / 4 if min(gray.shape) > 1 else gray
    dark, light = background - float(smooth.min()), float(smooth.max()) - background
    if light > dark:
        rows, cols = max(1, gray.shape[0] // 6), max(1, gray.shape[1] // 6)
        corners = float(np.median(np.concatenate([gray[:rows, :cols], gray[:rows, -cols:],
                                                  gray[-rows:, :cols], gray[-rows:, -cols:]], axis=None)))
        if corners - background >= 0.5 * light:
            background = corners
            dark, light = background - float(smooth.min()), float(smooth.max()) - background
    return background, 1.0 if dark >= light else -1.0, max(dark, light), smooth


SURROUNDINGS_EDGE = 0.5  # a table: ink-coloured, along this share of a side of the image or more,
SURROUNDINGS_WIDTH = 3  # this many times thicker than the strokes, and holding no marks darker than...
SURROUNDINGS_TEXTURE = 0.2  # ...around them by this share of the ink's contrast (faint writing in a shadow)
PAGE_SHARE = 0.1  # a page on a table covers at least this share of the photo
EDGE_STEP = 0.25  # a table's or page's edge is a step in shade by this share of the ink's contrast; a shadow slopes


def without_surroundings(gray: np.ndarray, polarity: Optional[tuple] = None) -> np.ndarray:
    """The image with what surrounds the page in a photo painted over in the page's shade. A table along
    an edge: ink-coloured regions that run along much of a side of the image, are far thicker than the
    strokes of the writing (which lie apart from the edges) and hold no writing themselves. A photo
    mostly of the table, whose shade is then the image's commonest, so that the page looks like light
    ink: all around the page (`the_page`). Either only where the shade steps at the region's border
    (`stepped_border`): a shadow falling across the page slopes. Any other image is returned unchanged
    (a digit cropped tightly, its strokes at the edge, keeps them). `polarity`: the image's
    `ink_polarity`, if known."""
    background, sign, peak, _ = polarity or ink_polarity(gray)
    if peak < 0.05:
        return gray
    strength = sign * (background - ndimage.gaussian_filter(gray, 1.0)) / peak
    components, count = ndimage.label(strength >= 0.3)
    if count == 0:
        return gray
    area = np.bincount(components.ravel(), minlength=count + 1)[1:]
    sides = (components[0], components[-1], components[:, 0], components[:, -1])
    along_edge = np.max([np.bincount(side, minlength=count + 1)[1:] / side.size for side in sides], axis=0)
    if area.max() < PAGE_SHARE * gray.size and (along_edge < SURROUNDINGS_EDGE).all():
        return gray  # the common case: nothing large enough to be a page, nothing along an edge
    radius = inscribed_radii(components, count)
    page = the_page(components, area, radius)
    if page is not None and stepped_border(page, gray, peak):
        return np.where(page, gray, float(np.median(gray[page]))).astype(np.float32)
    strokes = (along_edge == 0) & stroke_like(longest_sides(components), radius, gray.shape)
    if not strokes.any():
        return gray
    thick = (along_edge >= SURROUNDINGS_EDGE) & (radius > SURROUNDINGS_WIDTH * radius[strokes].max()) & (radius >= 4)
    if not thick.any():
        return gray

    def plain(c: int) -> bool:
        """Region c holds no writing, faint writing too (no marks darker than the region's shade around them,
        the region's own edge aside: a wedge's tip is darker than the page around it), and its border steps."""
        region = components == c
        own_shade = np.where(region, gray, np.median(gray[region]))
        marks = sign * (ndimage.median_filter(own_shade, size=9) - gray) >= SURROUNDINGS_TEXTURE * peak
        return marks[region].mean() <= 0.005 and stepped_border(region, gray, peak)

    surroundings = [c for c in np.flatnonzero(thick) + 1 if plain(c)]
    if not surroundings:
        return gray
    # a page lying askew shows the table along the other sides too, in wedges as thin as strokes
    surroundings += [c for c in np.flatnonzero((along_edge >= SURROUNDINGS_EDGE) & ~thick) + 1 if plain(c)]
    covered = np.isin(components, surroundings)
    covered |= ndimage.binary_dilation(covered, iterations=3) & (strength >= 0.1)  # its blurred fringe
    return np.where(covered, np.median(gray[~covered]), gray).astype(np.float32)


def stepped_border(region: np.ndarray, gray: np.ndarray, peak: float) -> bool:
    """Whether the shade steps at the region's border, as at a table's or a page's edge, rather than sloping
    into it, as into a shadow: the median shades 2-5 px inside and outside it differ by EDGE_STEP of the
    ink's contrast `peak` or more."""
    inside = ndimage.binary_erosion(region, iterations=2) & ~ndimage.binary_erosion(region, iterations=5)
    outside = ndimage.binary_dilation(region, iterations=5) & ~ndimage.binary_dilation(region, iterations=2)
    if not inside.any() or not outside.any():
        return True
    return abs(float(np.median(gray[inside])) - float(np.median(gray[outside]))) >= EDGE_STEP * peak


def inscribed_radii(labels: np.ndarray, count: int) -> np.ndarray:
    """The radius of the largest disc inside each of the regions 1..count of `labels` (the largest
    distance to outside them, gathered as `ndimage.maximum` would, without its sort)."""
    inside = labels > 0
    largest = np.zeros(count + 1)
    np.maximum.at(largest, labels[inside], ndimage.distance_transform_edt(inside)[inside])
    return largest[1:]


def longest_sides(labels: np.ndarray) -> np.ndarray:
    """The longer side of each labelled region's bounding box."""
    return np.array([max(s.stop - s.start for s in region) for region in ndimage.find_objects(labels)])


def stroke_like(extent: np.ndarray, radius: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which regions, of these longest sides and inscribed radii, are long and thin enough to be writing."""
    return (extent >= 6 * radius) & (extent >= 0.03 * min(shape))


def the_page(components: np.ndarray, area: np.ndarray, radius: np.ndarray) -> Optional[np.ndarray]:
    """In a photo mostly of the table, the page on it (the largest of the regions `components` labels,
    less its blurred edge), if that region is a sheet holding writing: it fills most of its bounding
    box (not the paper around a bold digit), covers PAGE_SHARE of the photo or more, holds long thin
    marks in the table's colour, far thinner than itself, and is mostly bare paper. None otherwise.
    `area`, `radius`: each region's pixel count and inscribed radius."""
    if area.max() < PAGE_SHARE * components.size:
        return None
    biggest = int(np.argmax(area)) + 1
    page = ndimage.binary_fill_holes(components == biggest)
    marks, count = ndimage.label(page & (components != biggest))
    bounds = ndimage.find_objects(page.astype(int))[0]
    if count == 0 or area.max() < 0.8 * page.sum() or page[bounds].mean() < 0.85:
        return None
    mark_radius = inscribed_radii(marks, count)
    writing = stroke_like(longest_sides(marks), mark_radius, components.shape)
    if not writing.any() or radius[biggest - 1] <= SURROUNDINGS_WIDTH * mark_radius[writing].max():
        return None
    return ndimage.binary_erosion(page, iterations=3)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Grayscale -> ink strength in 0..1 (1 = full ink), whatever the polarity, contrast and digit size,
    after what surrounds the page in a photo is painted out and uneven light flattened.

    Ink is measured against the darkest ink within one image height to either side (and at least
    FAINT_INK of the whole image's): in an image no wider than tall (one digit) that is the whole
    image's darkest; along a number, each digit's neighbourhood's, so a digit written or lit more
    faintly than the others is not lost below the ink threshold."""
    polarity = ink_polarity(gray)
    cleaned = flatten_background(without_surroundings(gray, polarity), polarity[0])
    if cleaned is not gray:  # most images come back as they were, and so does their polarity
        gray, polarity = cleaned, ink_polarity(cleaned)
    background, sign, peak, smooth = polarity
    if peak < 0.05:
        return np.zeros_like(gray, dtype=np.float32)
    column_peaks = np.pad((sign * (background - smooth)).max(axis=0), (0, gray.shape[1] - smooth.shape[1]), mode="edge")
    nearby = ndimage.maximum_filter1d(column_peaks, 2 * gray.shape[0] + 1, mode="nearest")
    ink = sign * (background - gray) / np.maximum(nearby, FAINT_INK * peak)
    return np.clip((ink - 0.15) / 0.85, 0.0, 1.0).astype(np.float32)


def remove_specks(ink: np.ndarray) -> np.ndarray:
    """Zero connected ink components too small to be part of a digit."""
    labels, count = ndimage.label(ink > INK_THRESHOLD)
    if count <= 1:
        return ink
    mass = ndimage.sum(ink, labels, index=np.arange(1, count + 1))
    specks = np.flatnonzero(mass < SPECK_FRACTION * mass.sum()) + 1
    return np.where(np.isin(labels, specks), 0.0, ink)


def centre_on_canvas(ink: np.ndarray, size: int) -> np.ndarray:
    """Crop to the ink's bounding box, pad to a square and centre it on a size x size canvas."""
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if rows.size == 0:
        return np.zeros((size, size), np.float32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = max(crop.shape)
    square = np.zeros((side, side), np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    inner = max(1, round(size * DIGIT_FILL))
    scaled = np.asarray(Image.fromarray(square, "F").resize((inner, inner), Image.Resampling.LANCZOS))
    canvas = np.zeros((size, size), np.float32)
    offset = (size - inner) // 2
    canvas[offset : offset + inner, offset : offset + inner] = np.clip(scaled, 0.0, 1.0)
    return canvas


def digit_ink(gray: np.ndarray) -> np.ndarray:
    """The ink of a grayscale image without a box or line drawn around, under or over it, and without specks:
    what the `normalized` method centres."""
    ink = ink_map(gray)
    return remove_specks(remove_ruling(ink, ink > INK_THRESHOLD, paper=False))


def preprocess_ink(ink: np.ndarray, config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """An ink map (1 = ink, as `ink_map` makes it, e.g. one digit cut out of a number) -> what `preprocess`
    makes of an image with that ink (its ink is not mapped a second time)."""
    return preprocess(1.0 - ink, config, ink=remove_specks(ink))


def preprocess(source: ImageSource, config: PreprocessConfig = PreprocessConfig(),
               ink: Optional[np.ndarray] = None) -> np.ndarray:
    """Any image -> float32 array (size, size, 1) in 0..1 with bright ink on black. `ink`: the image's
    `digit_ink`, when the caller has already computed it."""
    gray = as_gray(source)
    if config.method == "paper":  # the paper: resize to the input size, invert
        image = Image.fromarray(gray.astype(np.float32), "F").resize((config.size, config.size), Image.Resampling.BILINEAR)
        out = 1.0 - np.clip(np.asarray(image), 0.0, 1.0)
    else:
        out = centre_on_canvas(digit_ink(gray) if ink is None else ink, config.size)
    return out.astype(np.float32)[..., None]
