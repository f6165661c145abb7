"""Re-analysis end to end: after a knowledge-base update, the re-run's verdicts equal a fresh run's.

The re-run keeps the outputs of the samples the change cannot touch (pipeline.py, "Re-analysis");
their summary rows name the knowledge-base version their verdicts came from. Whatever was kept,
every sample's verdicts must be those a fresh full run with the new knowledge base gives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from workflow_helpers import PROJECT_DIR, run_snakemake

from erbb2_tki import knowledge
from erbb2_tki.knowledge import loading as kb_loading
from erbb2_tki.outputs import tables

pytestmark = pytest.mark.workflow

# kb_version/kb_hash say which version gave a verdict (and a no_evidence row's reason names it):
# compared separately; every other column must be what the fresh run wrote
VERSION_FIELDS = ("kb_version", "kb_hash")


def _cut(annotations: Path, edit) -> knowledge.KnowledgeBase:
    folder = annotations / "knowledge"
    edit(folder)
    metadata = folder / "metadata.yaml"
    old = knowledge.load_knowledge(folder, check_hash=False).version
    major, minor, patch = old.split(".")
    text = metadata.read_text()
    metadata.write_text(
        text.replace(f"version: {old}", f"version: {major}.{minor}.{int(patch) + 1}")
    )
    knowledge.write_hashes(folder)
    kb_loading._CACHE.clear()
    return knowledge.load_knowledge(folder)


def _lapatinib_l755s_sensitive(folder: Path) -> None:
    path = folder / "evidence.tsv"
    lines = path.read_text().split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith("EV0013\t")]
    assert len(hits) == 1 and "\tresistant\t" in lines[hits[0]]
    lines[hits[0]] = lines[hits[0]].replace("\tresistant\t", "\tsensitive\t", 1)
    path.write_text("\n".join(lines))


def _rules_comment(folder: Path) -> None:
    path = folder / "verdict_rules.yaml"
    path.write_text(path.read_text() + "\n# reviewed\n")


def _verdicts(workdir: Path) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    found: dict[str, list[tuple[tuple[str, str], ...]]] = {}
    for row in tables.read_records(workdir / "results" / "batch" / "verdicts.tsv"):
        version = row["kb_version"]
        cells = tuple(
            (k, v.replace(f"knowledge base {version}", "knowledge base <v>"))
            for k, v in row.items()
            if k not in VERSION_FIELDS
        )
        found.setdefault(row["sample"], []).append(cells)
    return found


def _summary(workdir: Path) -> dict[str, dict[str, str]]:
    return {r["sample"]: r for r in tables.read_records(workdir / "results/batch/summary.tsv")}


@pytest.mark.parametrize(
    ("edit", "touched"),
    [
        (_lapatinib_l755s_sensitive, {"S01", "S02"}),  # L755S x lapatinib: the two L755S samples
        (_rules_comment, {"S01", "S02", "S03", "S04", "S05", "S06"}),  # rules: every sample
    ],
)
def test_rerun_after_kb_change_equals_a_fresh_run(
    example_sheet: Path, tmp_path: Path, edit, touched: set[str]
) -> None:
    annotations = tmp_path / "annotations"
    shutil.copytree(PROJECT_DIR / "annotations", annotations)
    old_kb = knowledge.load_knowledge(annotations / "knowledge")
    config = {"samples": example_sheet, "annotations": annotations, "n_shards": 2}
    workdir = tmp_path / "run"
    first = run_snakemake(workdir, config=config)
    assert first.returncode == 0, first.output[-3000:]

    new_kb = _cut(annotations, edit)
    second = run_snakemake(workdir, config=config)
    assert second.returncode == 0, second.output[-3000:]
    fresh_dir = tmp_path / "fresh"
    fresh = run_snakemake(fresh_dir, config=config)
    assert fresh.returncode == 0, fresh.output[-3000:]

    assert _verdicts(workdir) == _verdicts(fresh_dir)
    summary, fresh_summary = _summary(workdir), _summary(fresh_dir)
    assert set(summary) == set(fresh_summary)
    for sample, row in summary.items():
        expected = new_kb if sample in touched else old_kb
        assert row["kb_version"] == expected.version, sample
        assert fresh_summary[sample]["kb_version"] == new_kb.version
        same = {k: v for k, v in row.items() if k != "kb_version"}
        assert same == {k: v for k, v in fresh_summary[sample].items() if k != "kb_version"}
    for row in tables.read_records(workdir / "results/batch/verdicts.tsv"):
        expected = new_kb if row["sample"] in touched else old_kb
        assert (row["kb_version"], row["kb_hash"]) == (expected.version, expected.content_hash)
