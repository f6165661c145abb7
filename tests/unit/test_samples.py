"""The sample sheet and input_dir: names, paths, validation messages that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erbb2_tki.batch import samples
from erbb2_tki.errors import InputError


def write_sheet(folder: Path, text: str, name: str = "samples.tsv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sheet_resolves_relative_vcf_against_its_folder(tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path,
        "# a comment line\n"
        "sample\tvcf\ttumor_sample\tnormal_sample\ttumor_type\tbuild\n"
        "\n"
        "P1\tvcfs/p1.vcf.gz\tTUMOR\tNORMAL\tBRCA\tGRCh38\n"
        "P2\t/data/p2.vcf\t\t\t\t\n",
    )
    rows = samples.read_sheet(sheet)
    assert [r.sample for r in rows] == ["P1", "P2"]
    assert rows[0].vcf == str(tmp_path / "vcfs" / "p1.vcf.gz")
    assert rows[0].vcf_as_given == "vcfs/p1.vcf.gz"
    assert (rows[0].tumor_sample, rows[0].normal_sample) == ("TUMOR", "NORMAL")
    assert (rows[0].tumor_type, rows[0].build) == ("BRCA", "GRCh38")
    assert rows[1].vcf == "/data/p2.vcf"
    assert rows[0].source == f"{sheet} line 4"


def test_sheet_defaults_fill_empty_cells_only(tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path, "sample\tvcf\ttumor_type\tbuild\nA\ta.vcf\t\t\nB\tb.vcf\tLUAD\thg19\n"
    )
    a, b = samples.read_sheet(sheet, default_build="GRCh38", default_tumour_type="NSCLC")
    assert (a.build, a.tumor_type) == ("GRCh38", "NSCLC")
    assert (b.build, b.tumor_type) == ("GRCh37", "LUAD")  # hg19 is an alias


def test_british_column_spellings_are_accepted(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tvcf\ttumour_sample\ttumour_type\nA\ta.vcf\tT1\tBRCA\n")
    (row,) = samples.read_sheet(sheet)
    assert (row.tumor_sample, row.tumor_type) == ("T1", "BRCA")


def test_crlf_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "s.tsv"
    path.write_bytes("\ufeffsample\tvcf\r\nA\ta.vcf\r\n".encode())
    (row,) = samples.read_sheet(path)
    assert row.sample == "A"
    assert row.vcf.endswith("a.vcf")


@pytest.mark.parametrize("name", ["../x", "a b", "x/y", ".", "..", "tumour;rm", "Ä1"])
def test_unsafe_sample_name_is_an_error_naming_the_line(tmp_path: Path, name: str) -> None:
    sheet = write_sheet(tmp_path, f"sample\tvcf\nok1\ta.vcf\n{name}\tb.vcf\n")
    with pytest.raises(InputError) as caught:
        samples.read_sheet(sheet)
    text = str(caught.value)
    assert "line 3" in text
    assert str(sheet) in text
    assert "Fix:" in text


def test_duplicate_sample_names_name_both_lines(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tvcf\nA\ta.vcf\nB\tb.vcf\nA\tc.vcf\n")
    with pytest.raises(InputError, match=r"record line 4.*first on line 2"):
        samples.read_sheet(sheet)


def test_missing_required_column(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tpath\nA\ta.vcf\n")
    with pytest.raises(InputError, match="no column 'vcf'"):
        samples.read_sheet(sheet)


def test_missing_vcf_cell_names_the_line(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tvcf\nA\t\n")
    with pytest.raises(InputError, match="line 2"):
        samples.read_sheet(sheet)


def test_bad_build_value_names_the_field(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tvcf\tbuild\nA\ta.vcf\thg18\n")
    with pytest.raises(InputError) as caught:
        samples.read_sheet(sheet)
    assert caught.value.field == "build"
    assert caught.value.record == "line 2"


@pytest.mark.parametrize(
    ("column", "bad"), [("build", "hg18"), ("tumor_type", "BR CA"), ("sample", "..")]
)
def test_each_row_is_validated_after_many_valid_ones(tmp_path: Path, column: str, bad: str) -> None:
    """Plainly valid rows skip jsonschema (a 10,000-row sheet is read at every Snakemake start):
    a bad value after valid rows is still found, on its own line and column."""
    good = {"sample": "S{}", "vcf": "s{}.vcf", "build": "GRCh38", "tumor_type": "BRCA"}
    lines = ["\t".join(good)]
    lines += ["\t".join(v.format(i) for v in good.values()) for i in range(50)]
    row = {**{k: v.format(50) for k, v in good.items()}, column: bad}
    lines.append("\t".join(row.values()))
    sheet = write_sheet(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        samples.read_sheet(sheet)
    assert caught.value.record == "line 52"
    if column != "sample":  # (sample names are checked first, with their own message)
        assert caught.value.field == column


def test_too_many_fields(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample\tvcf\nA\ta.vcf\textra\n")
    with pytest.raises(InputError, match="3 fields but the header has 2"):
        samples.read_sheet(sheet)


@pytest.mark.parametrize(
    "text", ["", "# only comments\n", "sample\tvcf\n"], ids=["empty", "comments", "header"]
)
def test_sheet_without_samples(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="sample sheet"):
        samples.read_sheet(write_sheet(tmp_path, text))


def test_missing_sheet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        samples.read_sheet(tmp_path / "nope.tsv")


def test_input_dir_names_samples_after_their_files(tmp_path: Path) -> None:
    for name in ["b.vcf.gz", "a.vcf", "c.bcf", "a.vcf.gz.tbi", "notes.txt", ".hidden.vcf"]:
        (tmp_path / name).write_text("x")
    rows = samples.scan_input_dir(tmp_path, default_build="GRCh37", default_tumour_type="BRCA")
    assert [(r.sample, Path(r.vcf).name) for r in rows] == [
        ("a", "a.vcf"),
        ("b", "b.vcf.gz"),
        ("c", "c.bcf"),
    ]
    assert {r.build for r in rows} == {"GRCh37"}
    assert {r.tumor_type for r in rows} == {"BRCA"}


def test_input_dir_two_files_one_sample(tmp_path: Path) -> None:
    (tmp_path / "a.vcf").write_text("x")
    (tmp_path / "a.vcf.gz").write_text("x")
    with pytest.raises(InputError, match="both be sample 'a'"):
        samples.scan_input_dir(tmp_path)


def test_input_dir_unsafe_file_name(tmp_path: Path) -> None:
    (tmp_path / "tumour one.vcf").write_text("x")
    with pytest.raises(InputError, match="not allowed"):
        samples.scan_input_dir(tmp_path)


def test_load_samples_prefers_input_dir(tmp_path: Path) -> None:
    (tmp_path / "x.vcf").write_text("x")
    config = {"samples": str(tmp_path / "absent.tsv"), "input_dir": str(tmp_path)}
    assert [r.sample for r in samples.load_samples(config)] == ["x"]


@given(st.from_regex(r"[A-Za-z0-9._-]{1,30}", fullmatch=True))
def test_every_safe_name_is_accepted(name: str) -> None:
    if name in (".", ".."):
        with pytest.raises(InputError):
            samples.check_sample_name(name)
    else:
        samples.check_sample_name(name)


@given(st.text(min_size=1, max_size=20))
def test_names_with_other_characters_are_rejected(name: str) -> None:
    safe = all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    if safe and name not in (".", ".."):
        samples.check_sample_name(name)
    else:
        with pytest.raises(InputError):
            samples.check_sample_name(name)


def test_digest_changes_with_any_field() -> None:
    row = {"sample": "A", "vcf": "/a.vcf", "build": ""}
    assert samples.digest([row]) == samples.digest([dict(row)])
    assert samples.digest([row]) != samples.digest([{**row, "build": "GRCh38"}])
