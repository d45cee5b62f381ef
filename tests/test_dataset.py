import csv
import io

import pytest
from PIL import Image

from khmerdigit import KhmerDigitError
from khmerdigit.data.dataset import labelled_files, parse_fractions, prepare, scan_folder
from tests.helpers import digit_image, make_class_folders, tree_hashes


def manifest(folder):
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_prepare_splits_stratified_without_leakage(raw_dir, tmp_path):
    result = prepare(raw_dir, tmp_path / "out", fractions=(0.5, 0.25, 0.25), seed=1, rotations=3)
    rows = manifest(tmp_path / "out")
    splits_of = {}
    for row in rows:
        splits_of.setdefault(row["sha256"], set()).add(row["split"])
        assert (tmp_path / "out" / row["file"]).is_file()
    assert all(len(splits) == 1 for splits in splits_of.values())
    assert {row["split"] for row in rows if row["rotation"] != "0"} == {"train"}
    originals = [row for row in rows if row["rotation"] == "0"]
    for label in range(10):
        per_split = [sum(1 for r in originals if r["label"] == str(label) and r["split"] == s)
                     for s in ("train", "valid", "test")]
        assert per_split == [2, 2, 2]  # 6 images at 50/25/25 %: 1.5 valid and test each, rounded up
    assert result.augmented == 3 * sum(1 for r in originals if r["split"] == "train")


def test_prepare_is_seeded(raw_dir, tmp_path):
    prepare(raw_dir, tmp_path / "a", seed=3)
    prepare(raw_dir, tmp_path / "b", seed=3)
    prepare(raw_dir, tmp_path / "c", seed=4)
    split = lambda name: [(r["sha256"], r["split"]) for r in manifest(tmp_path / name)]  # noqa: E731
    assert split("a") == split("b") != split("c")


def test_duplicates_and_bad_files_are_removed_and_listed(raw_dir, tmp_path):
    (raw_dir / "3" / "zz_copy.png").write_bytes((raw_dir / "3" / "img_0.png").read_bytes())
    digit_image(3, 0).convert("RGB").save(raw_dir / "3" / "zz_bigger.jpg", quality=70)  # same look, other bytes
    (raw_dir / "3" / "zz_conflict.png").write_bytes((raw_dir / "4" / "img_1.png").read_bytes())
    (raw_dir / "2" / "empty.png").write_bytes(b"")
    (raw_dir / "2" / "notes.png").write_text("hello")
    buffer = io.BytesIO()
    digit_image(2, 99).save(buffer, "JPEG")
    (raw_dir / "2" / "cut.jpg").write_bytes(buffer.getvalue()[:100])
    (raw_dir / "2" / "notes.txt").write_text("hello")
    (raw_dir / "stray.png").write_bytes((raw_dir / "2" / "img_0.png").read_bytes())
    before = tree_hashes(raw_dir)

    result = prepare(raw_dir, tmp_path / "out")

    assert tree_hashes(raw_dir) == before  # RAW_DIR untouched
    reasons = {r.path.name: r.reason for r in result.rejects}
    assert "empty" in reasons["empty.png"] and "not an image" in reasons["notes.png"]
    assert "cut.jpg" in reasons and "notes.txt" in reasons and "label folder" in reasons["stray.png"]
    duplicates = {r.path.name: r.reason for r in result.duplicates}
    assert duplicates["zz_copy.png"].startswith("exact duplicate")
    assert duplicates["zz_bigger.jpg"].startswith("near duplicate")
    conflicts = [r for r in result.duplicates if "labelled" in r.reason]
    assert [(r.path.parent.name, r.path.name) for r in conflicts] == [("4", "img_1.png")]
    assert conflicts[0].reason.endswith("zz_conflict.png, labelled 3 there")
    assert sum(sum(c.values()) for c in result.counts.values()) == 60
    with open(tmp_path / "out" / "rejects.csv", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 1 + len(result.rejects) + len(result.duplicates)


def test_khmer_label_folders_and_existing_split(tmp_path):
    make_class_folders(tmp_path / "raw" / "train", per_class=3, labels=[0, 1])
    make_class_folders(tmp_path / "raw" / "valid", per_class=1, labels=[0, 1], seed=1)
    (tmp_path / "raw" / "train" / "1").rename(tmp_path / "raw" / "train" / "១")
    scan = scan_folder(tmp_path / "raw")
    assert sorted({s.label for s in scan.samples}) == [0, 1] and {s.split for s in scan.samples} == {"train", "valid"}
    prepare(tmp_path / "raw", tmp_path / "out", keep_split=True)
    assert len(labelled_files(tmp_path / "out", "valid").samples) == 2
    assert len(labelled_files(tmp_path / "out", "train").samples) == 6


def test_prepare_refuses_to_overwrite_or_write_inside_raw(raw_dir, tmp_path):
    prepare(raw_dir, tmp_path / "out")
    with pytest.raises(KhmerDigitError, match="already exists"):
        prepare(raw_dir, tmp_path / "out")
    prepare(raw_dir, tmp_path / "out", overwrite=True)
    with pytest.raises(KhmerDigitError, match="inside RAW_DIR"):
        prepare(raw_dir, raw_dir / "prepared")


def test_overwrite_never_deletes_the_raw_folder_or_a_folder_prepare_did_not_write(raw_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KhmerDigitError, match="holds RAW_DIR"):
        prepare(raw_dir, tmp_path, overwrite=True)  # --out the raw folder's parent
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "draft.docx").write_text("mine")
    with pytest.raises(KhmerDigitError, match="not written by prepare"):
        prepare(raw_dir, tmp_path / "thesis", overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == (tmp_path / "thesis" / "draft.docx").read_text() == "mine"
    assert len(scan_folder(raw_dir).samples) > 0
    (tmp_path / "empty").mkdir()
    prepare(raw_dir, tmp_path / "empty", overwrite=True)  # an empty folder may be filled


def test_parse_fractions():
    assert parse_fractions("69/20/11") == pytest.approx((0.69, 0.20, 0.11))
    assert parse_fractions("0.5,0.25,0.25") == pytest.approx((0.5, 0.25, 0.25))
    for bad in ("70/30", "a/b/c", "0/50/50", "-1/1/1", "60/30/30", "2,1,1"):  # not silently rescaled
        with pytest.raises(KhmerDigitError):
            parse_fractions(bad)


def test_empty_class_folder_gives_warning_not_crash(tmp_path):
    from khmerdigit.data.dataset import class_warnings

    make_class_folders(tmp_path / "raw", per_class=4, labels=[0, 1, 2])
    (tmp_path / "raw" / "5").mkdir()
    result = prepare(tmp_path / "raw", tmp_path / "out")
    assert any("no images of class" in w and "5" in w for w in class_warnings(result.counts))


def test_unlabelled_folder_only_is_a_clear_error(tmp_path):
    (tmp_path / "raw" / "cats").mkdir(parents=True)
    Image.new("L", (10, 10)).save(tmp_path / "raw" / "cats" / "a.png")
    with pytest.raises(KhmerDigitError, match="no usable"):
        prepare(tmp_path / "raw", tmp_path / "out")
