"""fileio: one atomic writer for every output, its temporary names, leftovers and a full disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erbb2_tki import annotate, fileio
from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import hashes as kb_hashes
from erbb2_tki.knowledge import kb_cli
from erbb2_tki.outputs import plots, reanalysis, tables
from erbb2_tki.vcf import extract
from erbb2_tki.vcf import writer as vcf_writer


def test_atomic_write_gives_0644_under_umask_022_and_leaves_no_temp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = fileio.atomic_write_bytes(tmp_path / "sub" / "out.tsv", b"a\tb\n")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"a\tb\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.tsv"]


def test_every_writer_goes_through_fileio(tmp_path: Path, monkeypatch) -> None:
    """The seven former helpers delegate: each write is seen by fileio (one temp-name form)."""
    seen: list[str] = []
    real = fileio.atomic_write_bytes

    def spy(path, data):
        seen.append(Path(path).name)
        return real(path, data)

    monkeypatch.setattr(fileio, "atomic_write_bytes", spy)
    tables.atomic_write_bytes(tmp_path / "t.tsv", b"x\n")
    plots.atomic_write_bytes(tmp_path / "p.svg", b"<svg/>")
    kb_hashes._atomic_write(tmp_path / "m.yaml", "a: 1\n")
    kb_cli._write_tsv(tmp_path / "d.tsv", [("changed", "E1", "level", "A", "B")])
    annotate.write_table([{"sample": "S"}], ["sample"], tmp_path / "a.tsv")
    import pandas as pd

    reanalysis.write_diff_tsv(pd.DataFrame({"sample": ["S"]}), tmp_path / "r.tsv")
    assert seen == ["t.tsv", "p.svg", "m.yaml", "d.tsv", "a.tsv", "r.tsv"]
    assert (tmp_path / "m.yaml").stat().st_mode & 0o077 != 0  # no longer mkstemp's 0600
    _, temp = vcf_writer._atomic_target(tmp_path / "x.vcf.gz")
    assert "x.vcf.gz" in fileio.temp_targets(temp.name)


@given(st.from_regex(r"[A-Za-z0-9_-]{1,12}(\.[a-z]{1,4}){0,3}", fullmatch=True))
def test_every_temp_name_maps_back_to_its_target(name: str) -> None:
    for suffix in ("", ".vcf.gz", ".vcf.gz.tbi", ".vcf.gz.gz"):
        temp = fileio.temp_name(Path("/x") / name, suffix)
        assert name in fileio.temp_targets(temp.name)
    assert fileio.temp_targets(name) == []  # an output itself is never a leftover


def test_leftovers_of_every_writer_form_are_found(tmp_path: Path) -> None:
    names = [
        ".S.alleles.tsv.123.deadbeef.tmp",  # fileio (tables, annotate, ...)
        ".S.erbb2.annotated.vcf.gz.123.deadbeef.tmp.vcf.gz",  # annotate's VCF
        ".S.erbb2.annotated.vcf.gz.123.deadbeef.tmp.vcf.gz.tbi",
        ".S.erbb2.annotated.vcf.gz.123.deadbeef.tmp.vcf.gz.gz",  # tabix on a cut file
        ".S.erbb2.vcf.gz.k2j_h4l5.tmp.vcf.gz",  # extract before fileio (mkstemp)
        ".lollipop.svg.123.tmp",  # plots/reanalysis before fileio
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "S.alleles.tsv").write_text("keep")
    found = fileio.leftovers([tmp_path])
    assert len(found[(tmp_path, "S.erbb2.annotated.vcf.gz")]) == 3
    assert fileio.remove_leftovers(tmp_path, ["S.alleles.tsv", "lollipop.svg"]) == 2
    assert fileio.remove_leftovers(tmp_path) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["S.alleles.tsv"]


def test_disk_full_is_one_line_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    target = tmp_path / "out" / "summary.tsv"
    with pytest.raises(fileio.DiskFullError) as caught:
        tables.atomic_write_bytes(target, b"x")
    assert isinstance(caught.value, InputError)
    assert f"no space left on device while writing {target}" in str(caught.value)
    assert not list(target.parent.iterdir())  # no temporary file left


def test_htslib_error_minus_one_on_a_full_file_system_is_disk_full(
    tmp_path: Path, monkeypatch
) -> None:
    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(os, "statvfs", lambda path: Full())
    problem = fileio.write_error(tmp_path / "a.vcf.gz", OSError("error -1 when writing"))
    assert isinstance(problem, fileio.DiskFullError)
    assert fileio.write_error(tmp_path / "a", ValueError("x")) is None


def test_extract_on_a_full_disk_names_the_extract(tmp_path: Path, monkeypatch) -> None:
    from erbb2_tki.vcf import bgzf

    source = tmp_path / "in.vcf"
    source.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr17,length=83257441>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr17\t39723967\t.\tT\tC\t50\tPASS\t.\n"
    )

    def full(path, data, level=6):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bgzf, "write_bgzf", full)
    out = tmp_path / "ex" / "S.erbb2.vcf.gz"
    with pytest.raises(InputError, match="no space left on device while writing"):
        extract.extract_sample(source, out, build="GRCh38", sample="S")
    assert not out.exists() and not [p for p in out.parent.iterdir()]
