"""Re-analysis: after a knowledge-base update, annotate keeps exactly the samples it cannot touch.

The bar is a fresh full run with the new knowledge base: every sample's tables must be what that
run writes (a kept sample's tables differ only in the knowledge-base version they name, which is
the version its verdicts were computed with; its status row says so).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erbb2_tki import knowledge
from erbb2_tki.batch import pipeline
from erbb2_tki.knowledge import loading as kb_loading
from erbb2_tki.outputs import tables
from erbb2_tki.paths import annotations_dir

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17,length=83257441>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
)
BODIES = {
    "L755S": "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n",
    "YVMA": "chr17\t39724730\t.\tC\tCATACGTGATGGC\t50\tPASS\t.\tGT\t0/1\n",
    "BOTH": "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n"
    "chr17\t39724730\t.\tC\tCATACGTGATGGC\t50\tPASS\t.\tGT\t0/1\n",
    "NONE": "",
}
TUMOUR = {"L755S": "BRCA", "YVMA": "LUAD", "BOTH": "", "NONE": "BRCA"}
TABLES = ("alleles", "tki", "verdicts", "structural")


@pytest.fixture
def batch(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "vcfs").mkdir()
    lines = ["sample\tvcf\ttumor_type"]
    for name, body in BODIES.items():
        (tmp_path / "vcfs" / f"{name}.vcf").write_text(HEADER + body)
        lines.append(f"{name}\tvcfs/{name}.vcf\t{TUMOUR[name]}")
    (tmp_path / "samples.tsv").write_text("\n".join(lines) + "\n")
    config = {
        "samples": str(tmp_path / "samples.tsv"),
        "input_dir": "",
        "build": "",
        "tumour_type": "",
        "shard_size": 50,
        "n_shards": 0,
    }
    manifest = tmp_path / "batch" / "samples.tsv"
    pipeline.write_manifest(config, str(manifest))
    extract_dir = tmp_path / "extract"
    pipeline.extract_shard(pipeline.read_manifest(manifest, 0), extract_dir)
    annotations = tmp_path / "annotations"
    shutil.copytree(annotations_dir(), annotations)
    return {"root": tmp_path, "manifest": manifest, "extract": extract_dir, "ann": annotations}


def _annotate(batch: dict[str, Path], out: str, annotations: Path, **kw) -> dict[str, dict]:
    root = batch["root"] / out
    kb_loading._CACHE.clear()
    status = pipeline.annotate_shard(
        pipeline.read_manifest(batch["manifest"], 0),
        batch["extract"],
        root / "shard",
        annotations=str(annotations),
        annotated_dir=str(root / "annotated"),
        tables_dir=str(root / "tables"),
        **kw,
    )
    return {r["sample"]: r for r in status}


def _cut(annotations: Path, edit) -> str:
    """Apply edit(folder) to the knowledge base and cut a new version (as a curator would)."""
    folder = annotations / "knowledge"
    edit(folder)
    metadata = folder / "metadata.yaml"
    text = metadata.read_text()
    old = knowledge.load_knowledge(folder, check_hash=False).version
    major, minor, patch = old.split(".")
    new = f"{major}.{minor}.{int(patch) + 1}"
    metadata.write_text(text.replace(f"version: {old}", f"version: {new}", 1))
    knowledge.write_hashes(folder)
    return new


def _set_response(alteration: str, drug: str, old: str, new: str):
    def edit(folder: Path) -> None:
        path = folder / "evidence.tsv"
        lines = path.read_text().split("\n")
        header = next(x for x in lines if x and not x.startswith("#")).split("\t")
        col = {name: i for i, name in enumerate(header)}
        for i, line in enumerate(lines):
            cells = line.split("\t")
            if (
                line
                and not line.startswith("#")
                and cells[col["alteration"]] == alteration
                and cells[col["drug"]] == drug
                and cells[col["response"]] == old
            ):
                cells[col["response"]] = new
                lines[i] = "\t".join(cells)
                break
        else:
            raise AssertionError(f"no {alteration} x {drug} {old} row")
        path.write_text("\n".join(lines))

    return edit


def _append_comment(name: str):
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_text(path.read_text() + "\n# edited\n")

    return edit


def _tables(batch: dict[str, Path], out: str, sample: str) -> dict[str, bytes]:
    root = batch["root"] / out
    files = {t: root / "tables" / f"{sample}.{t}.tsv" for t in TABLES}
    files["shard_verdicts"] = root / "shard" / "verdicts.tsv"
    return {t: p.read_bytes() for t, p in files.items() if t != "shard_verdicts"}


def _without_version(data: bytes, version: str, content_hash: str) -> bytes:
    return (
        data.replace(content_hash.encode(), b"<hash>")
        .replace(f"knowledge base {version}".encode(), b"knowledge base <v>")
        .replace(f"\t{version}\t".encode(), b"\t<v>\t")
    )


def _check_against_fresh(batch, reused: dict, fresh: dict, new_kb, old_kb) -> set[str]:
    """Every sample's tables equal a fresh run's; returns the samples that were kept."""
    kept = set()
    for sample, row in fresh.items():
        assert reused[sample]["status"] == row["status"] == "ok"
        mine, theirs = _tables(batch, "run", sample), _tables(batch, "fresh", sample)
        if reused[sample]["kb_version"] == new_kb.version:
            assert mine == theirs, sample
        else:
            kept.add(sample)
            assert reused[sample]["kb_version"] == old_kb.version
            assert reused[sample]["kb_hash"] == old_kb.content_hash
            for name in TABLES:
                assert _without_version(mine[name], old_kb.version, old_kb.content_hash) == (
                    _without_version(theirs[name], new_kb.version, new_kb.content_hash)
                ), (sample, name)
    # the shard's verdict table is the samples' tables put together, whichever way they came
    shard = tables.read_records(batch["root"] / "run" / "shard" / "verdicts.tsv")
    per_sample = [
        r
        for s in reused
        for r in tables.read_records(batch["root"] / "run" / "tables" / f"{s}.verdicts.tsv")
    ]
    assert shard == per_sample
    return kept


def test_one_evidence_row_reannotates_only_the_samples_it_matches(batch) -> None:
    old_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    first = _annotate(batch, "run", batch["ann"])
    assert {r["kb_version"] for r in first.values()} == {old_kb.version}
    # L755S x lapatinib: resistant -> sensitive touches L755S and BOTH, not YVMA or NONE
    _cut(batch["ann"], _set_response("L755S", "lapatinib", "resistant", "sensitive"))
    new_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    second = _annotate(batch, "run", batch["ann"])
    fresh = _annotate(batch, "fresh", batch["ann"])
    kept = _check_against_fresh(batch, second, fresh, new_kb, old_kb)
    assert kept == {"YVMA", "NONE"}
    verdicts = tables.read_records(batch["root"] / "run" / "tables" / "L755S.verdicts.tsv")
    assert {r["drug"]: r["verdict"] for r in verdicts}["lapatinib"] != "resistant"
    # a third run with nothing changed keeps every sample, under the versions they came from
    third = _annotate(batch, "run", batch["ann"])
    assert {s: r["kb_version"] for s, r in third.items()} == {
        s: r["kb_version"] for s, r in second.items()
    }


@pytest.mark.parametrize(
    "name",
    [
        "verdict_rules.yaml",
        "levels.yaml",
        "oncotree.tsv",
        "drugs.tsv",
        "classes.tsv",
        "germline.tsv",
    ],
)
def test_a_change_outside_evidence_rows_reannotates_every_sample(batch, name: str) -> None:
    old_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    _annotate(batch, "run", batch["ann"])
    _cut(batch["ann"], _append_comment(name))
    new_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    second = _annotate(batch, "run", batch["ann"])
    fresh = _annotate(batch, "fresh", batch["ann"])
    assert _check_against_fresh(batch, second, fresh, new_kb, old_kb) == set()


def test_a_class_row_touches_the_class_members_only(batch) -> None:
    old_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    _annotate(batch, "run", batch["ann"])
    evidence = (batch["ann"] / "knowledge" / "evidence.tsv").read_text().split("\n")
    header = next(x for x in evidence if x and not x.startswith("#")).split("\t")
    col = {n: i for i, n in enumerate(header)}
    row = next(
        x.split("\t")
        for x in evidence
        if x and not x.startswith("#") and x.split("\t")[col["alteration"]] == "exon20_insertion"
    )
    _cut(
        batch["ann"],
        _set_response("exon20_insertion", row[col["drug"]], row[col["response"]], "unclear"),
    )
    new_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    second = _annotate(batch, "run", batch["ann"])
    fresh = _annotate(batch, "fresh", batch["ann"])
    assert _check_against_fresh(batch, second, fresh, new_kb, old_kb) == {"L755S", "NONE"}


def test_changed_sample_inputs_or_outputs_are_never_kept(batch) -> None:
    _annotate(batch, "run", batch["ann"])
    _cut(batch["ann"], _set_response("L755S", "lapatinib", "resistant", "sensitive"))
    new_kb = knowledge.load_knowledge(batch["ann"] / "knowledge")
    # an edited output and a view file that cannot be read: both samples are annotated again
    tables_dir = batch["root"] / "run" / "tables"
    (tables_dir / "YVMA.verdicts.tsv").write_text("sample\tdrug\nYVMA\tedited\n")
    (tables_dir / f"NONE{pipeline.KB_VIEW_SUFFIX}").write_text("{not json")
    second = _annotate(batch, "run", batch["ann"])
    assert {r["kb_version"] for r in second.values()} == {new_kb.version}
    # --no-reuse annotates everything
    again = _annotate(batch, "run", batch["ann"], reuse=False)
    assert {r["kb_version"] for r in again.values()} == {new_kb.version}
    # the same knowledge base, another tumour type for one sample: only that one is redone
    _annotate(batch, "run", batch["ann"])
    sheet = batch["root"] / "samples.tsv"
    sheet.write_text(
        sheet.read_text().replace("YVMA\tvcfs/YVMA.vcf\tLUAD", "YVMA\tvcfs/YVMA.vcf\tBRCA")
    )
    config = {
        "samples": str(sheet),
        "input_dir": "",
        "build": "",
        "tumour_type": "",
        "shard_size": 50,
        "n_shards": 0,
    }
    pipeline.write_manifest(config, str(batch["manifest"]))
    log = batch["root"] / "job.log"
    with pipeline.open_log(str(log)) as job_log:
        status = _annotate(batch, "run", batch["ann"], log=job_log)
    text = log.read_text()
    assert "ok annotate YVMA: 1 alleles" in text
    assert "ok annotate L755S: kept" in text and "ok annotate YVMA: kept" not in text
    assert status["YVMA"]["tumour_type"] == "BRCA"
