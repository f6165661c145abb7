"""The re-analysis view file's writer (issue 14, per-sample cost): the fast dataclass-to-dict
helper gives exactly what dataclasses.asdict gave, so kb_view.json files keep their bytes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.batch import pipeline
from erbb2_tki.naming.model import AlleleName, ProteinChange


def _name(**extra: Any) -> AlleleName:
    base = dict(
        build="GRCh38",
        chrom="chr17",
        pos=39723967,
        ref="T",
        alt="C",
        key_pos=39723967,
        key_ref="T",
        key_alt="C",
        variant_type="snv",
        consequence="missense_variant",
        hgvsg="NC_000017.11:g.39723967T>C",
        hgvsc="NM_004448.4:c.2264T>C",
        hgvsp="p.Leu755Ser",
        hgvsp_short="p.L755S",
    )
    return AlleleName(**{**base, **extra})


def test_plain_is_dataclasses_asdict_for_allele_names() -> None:
    protein = ProteinChange(
        **{
            f.name: (1 if f.type in ("int", int) else "x")
            for f in dataclasses.fields(ProteinChange)
        }
    )
    for name in (
        _name(),
        _name(protein=protein, flags=("a", "b"), exon="20/27"),
        _name(flags=()),
    ):
        assert pipeline._plain(name) == dataclasses.asdict(name)
        assert json.dumps(pipeline._plain(name)) == json.dumps(dataclasses.asdict(name))
    assert pipeline._plain({"k": [(1, 2.5), None]}) == {"k": [(1, 2.5), None]}


# --- per-sample table lines ------------------------------------------------------------------

_cells = st.none() | st.floats() | st.integers() | st.text(alphabet="ab'=+-@\t\r\n; ", max_size=6)
_columns = ["sample", "chrom", "pos", "filter", "hgvsc", "flags", "vaf", "extra"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(_columns), _cells, max_size=len(_columns)), max_size=5)
)
def test_table_lines_are_what_records_tsv_bytes_writes(rows: list[dict[str, Any]]) -> None:
    from erbb2_tki import annotate
    from erbb2_tki.outputs.tables import records_tsv_bytes

    expected = records_tsv_bytes(rows, _columns).decode("utf-8").split("\n")[1:-1]
    assert annotate._tsv_lines(rows, _columns) == expected
    text_rows = [annotate._text_row(r) for r in rows]
    expected = records_tsv_bytes(text_rows, _columns).decode("utf-8").split("\n")[1:-1]
    assert annotate._tsv_lines(text_rows, _columns) == expected


def test_a_name_said_to_survive_json_does_and_others_take_the_round_trip() -> None:
    protein = ProteinChange(
        **{
            f.name: (1 if f.type in ("int", int) else "x")
            for f in dataclasses.fields(ProteinChange)
        }
    )
    for name in (_name(), _name(protein=protein, flags=("a", "b"))):
        plain = pipeline._plain(name)
        assert pipeline._survives_json(plain)
        assert pipeline._names_from_json(json.loads(json.dumps([plain]))) == [name]
    assert not pipeline._survives_json({**pipeline._plain(_name()), "exon": float("nan")})
    assert not pipeline._survives_json({**pipeline._plain(_name()), "exon": ["20/27"]})
    assert not pipeline._survives_json({**pipeline._plain(_name()), "flags": (1,)})
