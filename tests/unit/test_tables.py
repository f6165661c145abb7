"""Batch tables from synthetic per-sample tables: summary, drug matrix, MultiQC, Excel."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from erbb2_tki.outputs import multiqc, tables, xlsx


def frame(rows: list[dict[str, str]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).fillna("")


STATUS = frame(
    [
        {
            "sample": "P2",
            "status": "ok",
            "build": "GRCh38",
            "tumour_type": "BRCA",
            "tumour_sample": "TUMOR",
            "kb_version": "1.0.0",
            "vcf": "p2.vcf.gz",
        },
        {
            "sample": "P1",
            "status": "ok",
            "build": "GRCh37",
            "tumour_type": "LUAD",
            "tumour_sample": "P1",
            "kb_version": "1.0.0",
            "vcf": "p1.vcf",
        },
        {
            "sample": "P3",
            "status": "failed",
            "reason": "sample P3, file p3.vcf: empty Fix: x",
            "kb_version": "1.0.0",
            "vcf": "p3.vcf",
        },
    ],
    ["sample", "status", "reason", "build", "tumour_type", "tumour_sample", "kb_version", "vcf"],
)
ALLELES = frame(
    [
        {
            "sample": "P2",
            "hgvsp_short": "p.L869R",
            "oncogenicity": "oncogenic",
            "used_for_verdict": "yes",
        },
        {
            "sample": "P2",
            "hgvsp_short": "p.T798I",
            "oncogenicity": "likely_oncogenic",
            "used_for_verdict": "yes",
        },
        {
            "sample": "P2",
            "hgvsp_short": "",
            "hgvsc": "NM_004448.4:c.2308-5C>T",
            "oncogenicity": "",
            "used_for_verdict": "no:filtered",
        },
        {
            "sample": "P1",
            "hgvsp_short": "p.Y772_A775dup",
            "oncogenicity": "oncogenic",
            "used_for_verdict": "yes",
        },
    ],
    ["sample", "hgvsp_short", "hgvsc", "oncogenicity", "used_for_verdict"],
)
EVIDENCE = frame(
    [
        {"sample": "P2", "drug": "neratinib", "response": "sensitive"},
        {"sample": "P2", "drug": "neratinib", "response": "resistant"},
        {"sample": "P2", "drug": "afatinib", "response": "sensitive"},
        {"sample": "P1", "drug": "poziotinib", "response": "sensitive"},
    ],
    ["sample", "drug", "response"],
)
VERDICTS = frame(
    [
        {"sample": "P2", "drug": "neratinib", "verdict": "resistant"},
        {"sample": "P2", "drug": "afatinib", "verdict": "sensitive"},
        {"sample": "P2", "drug": "lapatinib", "verdict": "conflicting"},
        {"sample": "P1", "drug": "poziotinib", "verdict": "sensitive"},
    ],
    ["sample", "drug", "verdict"],
)
STRUCTURAL = frame(
    [{"sample": "P1", "event": "possible_amplification", "svtype": "DUP"}],
    ["sample", "event", "svtype"],
)


@pytest.fixture
def summary() -> pd.DataFrame:
    return tables.build_summary(STATUS, ALLELES, EVIDENCE, VERDICTS, STRUCTURAL)


def test_summary_has_every_sample_sorted_with_its_answers(summary: pd.DataFrame) -> None:
    assert list(summary.columns) == tables.SUMMARY_COLUMNS
    assert list(summary["sample"]) == ["P1", "P2", "P3"]
    p2 = summary.set_index("sample").loc["P2"]
    assert p2["alleles"] == "p.L869R;p.T798I"
    assert p2["oncogenic_alleles"] == "p.L869R;p.T798I"
    assert p2["n_alleles"] == "3"
    assert p2["alleles_not_used"] == "NM_004448.4:c.2308-5C>T (filtered)"
    assert p2["drugs_sensitive_evidence"] == "afatinib;neratinib"
    assert p2["drugs_resistant_evidence"] == "neratinib"
    assert (p2["verdict_sensitive"], p2["verdict_resistant"], p2["verdict_conflicting"]) == (
        "afatinib",
        "neratinib",
        "lapatinib",
    )
    p1 = summary.set_index("sample").loc["P1"]
    assert p1["structural_events"] == "possible_amplification"
    p3 = summary.set_index("sample").loc["P3"]
    assert (p3["status"], p3["n_alleles"], p3["alleles"]) == ("failed", "", "")
    assert p3["reason"].startswith("sample P3, file p3.vcf")


def test_sample_without_calls_is_ok_with_zero_alleles() -> None:
    status = frame([{"sample": "Q", "status": "ok"}], ["sample", "status"])
    empty = pd.DataFrame()
    summary = tables.build_summary(status, empty, empty, empty, empty)
    row = summary.iloc[0]
    assert (row["status"], row["n_alleles"], row["alleles"], row["verdict_sensitive"]) == (
        "ok",
        "0",
        "",
        "",
    )


def test_drug_matrix(summary: pd.DataFrame) -> None:
    matrix = tables.drug_matrix(summary, VERDICTS)
    assert list(matrix.columns) == ["sample", "afatinib", "lapatinib", "neratinib", "poziotinib"]
    by_sample = matrix.set_index("sample")
    assert by_sample.loc["P2", "neratinib"] == "resistant"
    assert by_sample.loc["P1", "neratinib"] == "no_evidence"
    assert set(by_sample.loc["P3"]) == {"failed"}


def test_multiqc_header_is_yaml_and_rows_are_samples(summary: pd.DataFrame) -> None:
    text = multiqc.multiqc_text(summary, "1.0.0")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    config = yaml.safe_load(header)
    assert config["id"] == "erbb2_tki"
    assert config["section_name"] == "ERBB2 TKI"
    assert config["plot_type"] == "table"
    assert "1.0.0" in config["description"]
    absent = {c for c in multiqc.MQC_OPTIONAL if c not in summary.columns}
    assert set(config["headers"]) == set(multiqc.MQC_COLUMNS) - absent
    assert config["headers"]["verdict_resistant"]["title"] == "Resistant"
    body = pd.read_csv(io.StringIO(text), sep="\t", comment="#", dtype=str, keep_default_na=False)
    assert list(body["Sample"]) == ["P1", "P2", "P3"]
    assert body.set_index("Sample").loc["P3", "status"] == "failed"
    assert body.set_index("Sample").loc["P1", "verdict_conflicting"] == "-"


def test_excel_sheets_frozen_filtered_and_sized(tmp_path: Path, summary: pd.DataFrame) -> None:
    path = tmp_path / "summary.xlsx"
    matrix = tables.drug_matrix(summary, VERDICTS)
    xlsx.write_excel(
        {"summary": summary, "alleles": ALLELES, "drug matrix": matrix, "verdicts": VERDICTS},
        path,
    )
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "alleles", "drug matrix", "verdicts"]
    sheet = book["summary"]
    assert sheet.freeze_panes == "A2"
    last = get_column_letter(len(tables.SUMMARY_COLUMNS))
    assert sheet.auto_filter.ref == f"A1:{last}{len(summary) + 1}"
    assert [c.value for c in sheet[1]][:3] == ["sample", "status", "reason"]
    assert sheet["A2"].value == "P1"
    assert sheet["H3"].value == 3  # n_alleles of P2, stored as a number
    widths = {k: v.width for k, v in sheet.column_dimensions.items()}
    assert widths["A"] == 8  # 'sample' + 2, at least 8
    assert widths["C"] == len("sample P3, file p3.vcf: empty Fix: x") + 2
    assert max(widths.values()) <= xlsx.MAX_COLUMN_WIDTH
    assert book["drug matrix"]["B1"].value == "afatinib"


def test_excel_is_byte_identical_across_writes(tmp_path: Path, summary: pd.DataFrame) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    xlsx.write_excel({"summary": summary}, first)
    xlsx.write_excel({"summary": summary}, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert xlsx.FIXED_DOC_TIME in core
        assert {i.date_time for i in archive.infolist()} == {xlsx.FIXED_ZIP_TIME}


def test_tsv_round_trip_keeps_text_exactly(tmp_path: Path) -> None:
    original = frame(
        [{"a": "0.300", "b": "", "c": "NA"}, {"a": "1e5", "b": "x y", "c": "0/1"}],
        ["a", "b", "c"],
    )
    path = tmp_path / "t.tsv"
    tables.write_tsv(original, path)
    assert path.read_text() == "a\tb\tc\n0.300\t\tNA\n1e5\tx y\t0/1\n"
    pd.testing.assert_frame_equal(tables.read_tsv(path), original)


def test_atomic_write_leaves_old_file_and_no_temp_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.tsv"
    path.write_text("old\n")

    with pytest.raises(TypeError):
        tables.atomic_write_bytes(path, 12345)  # type: ignore[arg-type]
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]


def test_concat_of_nothing_has_the_columns() -> None:
    empty = tables.concat([], ["sample", "drug"])
    assert list(empty.columns) == ["sample", "drug"]
    assert len(empty) == 0


def test_tsv_cells_with_quotes_are_written_as_they_are(tmp_path: Path) -> None:
    # A knowledge-base note in quotes: quoting it on write (and not on read) doubled its quotes
    # at every step, '"mild response"' became '"""""""mild response"""""""' in the batch table.
    original = frame([{"note": '"mild response"', "n": "1"}], ["note", "n"])
    path = tmp_path / "t.tsv"
    tables.write_tsv(original, path)
    assert path.read_text() == 'note\tn\n"mild response"\t1\n'
    assert tables.read_tsv(path).equals(original)
    assert tables.read_records(path) == [{"note": '"mild response"', "n": "1"}]


def test_read_by_sample_groups_lines_in_the_batch_columns(tmp_path: Path) -> None:
    first = tmp_path / "a.tsv"
    first.write_text("sample\tdrug\tverdict\nP2\tneratinib\tresistant\nP1\tafatinib\n\n")
    second = tmp_path / "b.tsv"  # other column order, one column the batch lacks, one it adds
    second.write_bytes(b"verdict\tsample\textra\r\nsensitive\tP2\tx\r\n")  # Windows line ends
    grouped = tables.read_by_sample([first, second], ["sample", "drug", "verdict"])
    assert grouped == {
        "P2": ["P2\tneratinib\tresistant", "P2\t\tsensitive"],
        "P1": ["P1\tafatinib\t"],  # padded
    }
    records = tables.SampleRecords(["sample", "drug", "verdict"], grouped)
    assert records["P1"] == [{"sample": "P1", "drug": "afatinib", "verdict": ""}]
    assert records.get("P9", []) == []
    assert tables.read_header(second) == ["verdict", "sample", "extra"]


@given(
    st.lists(
        st.tuples(st.sampled_from(["P1", "P2", "P3", "-P4", "OLD"]), st.text("abc", max_size=3)),
        max_size=12,
    ),
    st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_shard_index_gives_each_sample_its_lines_as_read_by_sample(
    rows: list[tuple[str, str]], crlf: bool
) -> None:
    """The streaming summarize reads each sample's rows back from byte spans: the same lines, in
    the same order, as read_by_sample, whatever the order of the samples in the files (a sample
    split over several places, other columns, padding, blank lines, Windows line ends)."""
    columns = ["sample", "drug", "verdict"]
    end = "\r\n" if crlf else "\n"
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "a.tsv", Path(folder) / "b.tsv"
        half = len(rows) // 2
        body = "".join(f"{tables._cell(s, 'sample')}\t{v}\t{v}x{end}" for s, v in rows[:half])
        first.write_bytes(f"sample\tdrug\tverdict{end}{body}{end}".encode())
        body = "".join(f"{v}\t{tables._cell(s, 'sample')}{end}" for s, v in rows[half:])
        second.write_bytes(f"verdict\tsample{end}{body}".encode())
        wanted = {"P1", "P2", "P3", "-P4"}
        seen: list[tuple[str, str]] = []
        index = tables.ShardIndex(
            [first, second], columns, wanted, lambda s, row: seen.append((s, row["verdict"]))
        )
        grouped = tables.read_by_sample([first, second], columns)
        for sample in wanted:
            assert index.lines(sample) == grouped.get(sample, []), sample
        assert sorted(seen) == sorted(
            [(s, f"{v}x") for s, v in rows[:half] if s in wanted]
            + [(s, v) for s, v in rows[half:] if s in wanted]
        )
        index.close()


def test_tsv_writer_is_atomic_and_file_table_streams_it(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    writer = tables.TsvWriter(path, ["sample", "n"])
    writer.write_record({"sample": "=A", "n": 1})
    writer.write("B\t2")
    assert not path.exists()  # nothing in place before commit
    writer.commit()
    writer.discard()  # after commit: nothing to remove, the file stays
    assert path.read_text() == "sample\tn\n'=A\t1\nB\t2\n"
    table = tables.FileTable(path)
    assert (table.columns, table.n_rows) == (["sample", "n"], 2)
    assert list(table.records()) == [{"sample": "=A", "n": "1"}, {"sample": "B", "n": "2"}]
    assert list(table.rows()) == list(table.rows())  # every pass reads the file again
    failed = tables.TsvWriter(tmp_path / "u.tsv", ["x"])
    failed.write("1")
    failed.discard()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_summary_records_match_the_dataframe_summary(summary: pd.DataFrame) -> None:
    def grouped(table: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {}
        for record in table.to_dict("records"):
            out.setdefault(record["sample"], []).append(record)
        return out

    rows = tables.summary_records(
        STATUS.to_dict("records"),
        grouped(ALLELES),
        grouped(EVIDENCE),
        grouped(VERDICTS),
        grouped(STRUCTURAL),
    )
    assert rows == summary.to_dict("records")
    matrix = tables.drug_matrix_table(rows, VERDICTS.to_dict("records"))
    assert matrix.lines[1] == "P2\tsensitive\tconflicting\tresistant\tno_evidence"
    assert list(matrix.records()) == tables.drug_matrix(summary, VERDICTS).to_dict("records")
    assert multiqc.multiqc_text(rows, "1.0.0") == multiqc.multiqc_text(summary, "1.0.0")


def test_excel_keeps_text_that_xml_must_escape(tmp_path: Path) -> None:
    texts = [
        "a & b <c> \"d\" 'e'",
        " leading and trailing ",
        "tab\x01control",
        "_x0041_ literal",
        "0.036",
        "-12",
        "1e5",
        "007",
        "ü → ✓",
        "",
    ]
    table = tables.Table(["text", "n"], [f"{t}\t{i}" for i, t in enumerate(texts)])
    path = tmp_path / "t.xlsx"
    xlsx.write_excel({"odd 'sheet' & name": table}, path)
    sheet = load_workbook(path)["odd 'sheet' & name"]
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [
        "a & b <c> \"d\" 'e'",
        " leading and trailing ",
        "tab_x0001_control",  # Excel shows these two as written; openpyxl reads the escapes
        "_x005F_x0041_ literal",
        0.036,
        -12,
        "1e5",
        7,
        "ü → ✓",
        None,
    ]
    assert sheet.auto_filter.ref == "A1:B11"
    assert sheet["A1"].font.b and not sheet["A2"].font.b


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), max_size=12),
            min_size=3,
            max_size=3,
        ),
        max_size=8,
    )
)
def test_excel_cells_read_back_as_written(rows: list[list[str]]) -> None:
    table = tables.Table(["a", "b", "c"], ["\t".join(r) for r in rows])
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        xlsx.write_excel({"t": table}, path)
        buffer.write(path.read_bytes())
    sheet = load_workbook(buffer)["t"]
    read = [list(r) for r in sheet.iter_rows(min_row=2, max_col=3, values_only=True)]
    expected = [[xlsx._excel_value(t) if t else None for t in r] for r in rows]
    # Rows whose cells are all empty have no cells to read back.
    assert [r for r in read if any(v is not None for v in r)] == [
        r for r in expected if any(v is not None for v in r)
    ]
