"""synth: labelled synthetic digits and the labelled preview sheet."""

import json

import numpy as np
from PIL import Image

from khmerdigit.data import synth
from khmerdigit.data.strokes import styles


def test_synth_writes_digits_and_a_labelled_preview(tmp_path):
    result = synth.synthesize(tmp_path / "out", per_class=6, seed=1, use_fonts=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == [str(d) for d in range(10)]
    assert result.counts["strokes"] == 60
    preview = Image.open(result.preview)
    row_h = synth.TILE + synth.CAPTION_H + 6
    assert preview.size == (synth.HEADER_W + 6 * synth.TILE_W, synth.TITLE_H + 10 * row_h)
    sheet = np.asarray(preview.convert("RGB")).astype(int)
    blue = (np.abs(sheet - synth.STROKE_COLOUR).sum(-1) < 60)
    for digit in range(10):
        top = synth.TITLE_H + digit * row_h
        header = sheet[top + 2 : top + row_h - 2, : synth.HEADER_W]
        assert (header.sum(-1) < 200).sum() > 40, digit  # glyph and number written in the row head
        captions = blue[top + 3 + synth.TILE : top + row_h, synth.HEADER_W :]
        assert captions.sum() > 6 * 10, digit  # a caption under every tile
    info = json.loads((tmp_path / "out" / "synth.json").read_text())
    assert sum(info["stroke_styles"].values()) == 60
    assert all(key.split(" ", 1)[1] in styles(int(key[0])) for key in info["stroke_styles"])


def test_preview_shows_every_style_and_font_before_repeats():
    tile = np.zeros((synth.TILE, synth.TILE))
    pool = [("tick", False, tile)] * 10 + [("oval", False, tile), ("Mondulkiri-R", True, tile)] * 3
    pool += [("boxy", False, tile), ("KhmerOSsys", True, tile)]
    chosen = synth.choose_preview_tiles(pool, columns=8)
    labels = [label for label, *_ in chosen]
    assert len(chosen) == 8
    assert {"tick", "oval", "boxy", "Mondulkiri-R", "KhmerOSsys"} <= set(labels)
    assert labels[:2] == sorted(labels[:2]) and all(t[1] for t in chosen[:2])  # fonts first, grouped by name
    assert synth.short_font_name("KhmerOSsiemreap") == "OS siemreap"
    assert synth.short_font_name("NotoSansKhmer[wdth,wght]") == "Noto Khmer"
