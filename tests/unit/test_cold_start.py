"""Cold start: what the command line imports, and the on-disk cache of the parsed knowledge base.

Behaviour only (which modules a fresh interpreter imports, which cache entries are used); the
timings are in benchmarks/bench_cli.py, never asserted here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from erbb2_tki import diskcache, knowledge
from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import loading as kb_loading
from erbb2_tki.paths import annotations_dir

HEAVY = ("pandas", "numpy", "matplotlib")

VCF = textwrap.dedent(
    """\
    ##fileformat=VCFv4.2
    ##FILTER=<ID=PASS,Description="All filters passed">
    ##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
    ##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
    ##contig=<ID=17,length=81195210>
    ##reference=file:///references/GRCh37/human_g1k_v37.fasta
    #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT
    17\t37880220\t.\tT\tC\t60\tPASS\t.\tGT:AD\t0/1:62,38
    """
)


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    """The top-level modules a fresh interpreter has imported after running `code`."""
    probe = (
        "import json, sys\n"
        + code
        + "\nprint(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    env = dict(os.environ, ERBB2_TKI_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _main(args: list[str]) -> str:
    return (
        f"from erbb2_tki import cli\ntry:\n    cli.main({args!r})\nexcept SystemExit:\n    pass\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["annotate", "--help"],
        ["kb", "--help"],
        ["diff", "--help"],
        ["run", "--help"],
        ["kb", "concordance", "--help"],
    ],
)
def test_help_imports_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    loaded = _modules_after(_main(args), tmp_path)
    assert not loaded & {*HEAVY, "yaml", "jsonschema", "cyvcf2", "pysam"}


def test_kb_commands_import_no_pandas_numpy_matplotlib(tmp_path: Path) -> None:
    for args in (["kb", "validate"], ["kb", "show", "L755S"], ["kb", "hash"]):
        loaded = _modules_after(_main(args), tmp_path)
        assert not loaded & set(HEAVY), args


def test_warm_kb_load_parses_nothing(tmp_path: Path) -> None:
    code = "from erbb2_tki import knowledge; knowledge.load_knowledge()"
    _modules_after(code, tmp_path)  # cold: parses, validates and writes the cache entry
    assert list((tmp_path / "cache").glob("kb-*.pickle"))
    loaded = _modules_after(code, tmp_path)  # warm: no YAML, no schema validation
    assert not loaded & {"jsonschema", "yaml", *HEAVY}


def test_annotate_imports_no_pandas_or_matplotlib(tmp_path: Path) -> None:
    # numpy still comes with cyvcf2, the VCF reader (compiled against it): see benchmarks/README
    (tmp_path / "s.vcf").write_text(VCF)
    args = ["annotate", "s.vcf", "--out-tsv", "a.tsv", "--out-verdicts", "v.tsv"]
    cold = _modules_after(_main(args), tmp_path)
    assert (tmp_path / "v.tsv").is_file()
    warm = _modules_after(_main(args), tmp_path)  # the knowledge base now comes from the cache
    assert not (cold | warm) & {"pandas", "matplotlib"}
    assert not warm & {"jsonschema", "yaml"}  # knowledge base and transcript model from the cache


def test_diff_imports_no_pandas(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "batch").mkdir(parents=True)
    (run / "batch" / "summary.tsv").write_text("sample\tstatus\nP1\tok\n")
    (run / "batch" / "verdicts.tsv").write_text("sample\tdrug\tverdict\nP1\tneratinib\tsensitive\n")
    loaded = _modules_after(_main(["diff", "--quiet", str(run), str(run)]), tmp_path)
    assert not loaded & set(HEAVY)


def test_shard_job_modules_import_no_pandas(tmp_path: Path) -> None:
    code = "from erbb2_tki.batch import pipeline, samples, shards; from erbb2_tki import annotate, knowledge; from erbb2_tki.outputs import tables"
    assert not _modules_after(code, tmp_path) & {"pandas", "matplotlib"}


# --------------------------------------------------------------------------------------------
# the on-disk cache


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "annotations"
    shutil.copytree(annotations_dir(), target)
    return target / "knowledge"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(knowledge.CACHE_ENV, str(folder))
    kb_loading._CACHE.clear()
    return folder


def _fresh_load(base: Path) -> knowledge.KnowledgeBase:
    kb_loading._CACHE.clear()  # the in-process cache would answer first
    return knowledge.load_knowledge(base)


def test_cache_entry_is_used_and_equal_to_a_parse(kb_copy: Path, cache: Path, monkeypatch) -> None:
    first = _fresh_load(kb_copy)
    assert len(list(cache.glob("kb-*.pickle"))) == 1
    calls = []
    real = kb_loading._load
    monkeypatch.setattr(kb_loading, "_load", lambda *a, **k: calls.append(a) or real(*a, **k))
    second = _fresh_load(kb_copy)
    assert calls == []  # served from the cache
    assert second.content_hash == first.content_hash
    assert second.evidence == first.evidence and second.drugs == first.drugs
    assert second.directory == kb_copy


@pytest.mark.parametrize("name", [*knowledge.DATA_FILES, knowledge.METADATA_FILE])
def test_cache_is_invalidated_when_any_kb_file_changes(
    kb_copy: Path, cache: Path, name: str
) -> None:
    _fresh_load(kb_copy)
    path = kb_copy / name
    path.write_text(path.read_text() + "\n# an edit\n")
    if name == knowledge.METADATA_FILE:
        kb = _fresh_load(kb_copy)  # a comment in metadata.yaml: valid, but a new entry
    else:
        # the hash check still runs: an edited data file fails until a version is cut
        with pytest.raises(InputError, match="was changed after knowledge-base version"):
            _fresh_load(kb_copy)
        knowledge.write_hashes(kb_copy)
        kb = _fresh_load(kb_copy)
    assert kb.file_hashes == knowledge.compute_hashes(kb_copy)[0]
    assert len(list(cache.glob("kb-*.pickle"))) == 2


def test_edited_file_fails_even_with_a_cache_entry(kb_copy: Path, cache: Path) -> None:
    _fresh_load(kb_copy)
    evidence = kb_copy / knowledge.EVIDENCE_FILE
    evidence.write_text(evidence.read_text().replace("PMID:", "PMID: ", 1))
    with pytest.raises(InputError, match="was changed after"):
        _fresh_load(kb_copy)


def test_corrupt_or_foreign_cache_file_is_ignored(kb_copy: Path, cache: Path) -> None:
    good = _fresh_load(kb_copy)
    (entry,) = cache.glob("kb-*.pickle")
    for content in (b"", b"not a pickle", entry.read_bytes()[:100], b"\x80\x05N."):
        entry.write_bytes(content)
        kb = _fresh_load(kb_copy)
        assert kb.content_hash == good.content_hash and kb.evidence == good.evidence
    # an entry of another knowledge base under this key is not trusted either
    import pickle

    entry.write_bytes(pickle.dumps({"key": "x", "version": "0", "kb": good}))
    assert _fresh_load(kb_copy).evidence == good.evidence


def test_unwritable_or_disabled_cache_only_costs_the_parse(
    kb_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(knowledge.CACHE_ENV, str(blocker / "cache"))  # cannot be created
    assert _fresh_load(kb_copy).evidence
    monkeypatch.setenv(knowledge.CACHE_ENV, "off")
    assert diskcache.cache_dir() is None
    assert _fresh_load(kb_copy).evidence


def test_cache_dir_default_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(knowledge.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert diskcache.cache_dir() == tmp_path / "xdg" / "erbb2-tki"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert diskcache.cache_dir() == tmp_path / "home" / ".cache" / "erbb2-tki"


def test_transcript_model_is_cached_by_its_bytes(tmp_path: Path, cache: Path) -> None:
    from erbb2_tki.naming import transcript

    annotations = tmp_path / "ann"
    shutil.copytree(annotations_dir() / "transcripts", annotations / "transcripts")
    model = annotations / transcript.TRANSCRIPT_FILE
    load = transcript._load.__wrapped__  # past the in-process cache, which other tests rely on
    first = load(str(model))
    (entry,) = cache.glob("transcript-*.pickle")
    assert load(str(model)) == first
    entry.write_bytes(b"garbage")  # ignored: parsed again
    assert load(str(model)) == first
    model.write_text(model.read_text() + "\n# a comment\n")  # other bytes: another entry
    assert load(str(model)) == first
    assert len(list(cache.glob("transcript-*.pickle"))) == 2
