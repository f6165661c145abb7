"""The re-analysis view file's writer (issue 14, per-sample cost): the fast dataclass-to-dict and
indented-JSON helpers write exactly what dataclasses.asdict and json.dumps(sort_keys=True,
indent=1) wrote before, so kb_view.json files keep their bytes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.batch import pipeline
from erbb2_tki.naming.model import AlleleName, ProteinChange

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_indented_json_is_json_dumps(value: Any) -> None:
    assert pipeline._json_indented(value) == json.dumps(value, sort_keys=True, indent=1)


def test_indented_json_of_other_key_types_and_nan_is_json_dumps() -> None:
    for value in ({"a": {1: "x", 2: [float("nan"), 1.5]}}, [{True: None}], {"é": "ü\n"}):
        assert pipeline._json_indented(value) == json.dumps(value, sort_keys=True, indent=1)


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
