"""Cold start: what the command line imports, and the on-disk cache of the parsed knowledge base.

Behaviour only (which modules a fresh interpreter imports, which cache entries are used); the
timings are in benchmarks/bench_cli.py, never asserted here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki import cli, diskcache, knowledge
from erbb2_tki.batch import samples
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
    return {name.split(".")[0] for name in _all_modules_after(code, tmp_path)}


def _all_modules_after(code: str, tmp_path: Path) -> set[str]:
    """Every module (erbb2_tki.knowledge.kb_cli...) a fresh interpreter has imported after `code`."""
    probe = "import json, sys\n" + code + "\nprint(json.dumps(sorted(sys.modules)))\n"
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


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["bogus"],
        ["annotate"],  # no input: an argument error
        ["annotate", "x.vcf", "--build", "hg19"],
        ["kb", "show"],
        ["diff", "only-one"],
        ["--version", "annotate"],
    ],
)
def test_argument_errors_import_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    loaded = _modules_after(_main(args), tmp_path)
    assert not loaded & {*HEAVY, "yaml", "jsonschema", "cyvcf2", "pysam"}


def test_kb_commands_import_no_pandas_numpy_matplotlib(tmp_path: Path) -> None:
    for args in (["kb", "validate"], ["kb", "show", "L755S"], ["kb", "hash"]):
        loaded = _all_modules_after(_main(args), tmp_path)
        assert not {m.split(".")[0] for m in loaded} & {*HEAVY, "cyvcf2"}, args
        # nor the VCF reader, the annotation code or the other subcommands' modules
        assert not loaded & {
            "erbb2_tki.annotate",
            "erbb2_tki.vcf.reader",
            "erbb2_tki.vcf.extract",
            "erbb2_tki.outputs.reanalysis",
            "erbb2_tki.batch.workflow_cli",
            "subprocess",
        }, args


# --------------------------------------------------------------------------------------------
# the lazy parser: only the chosen subcommand's module is imported, the listing stays the same

SUBCOMMAND_MODULES = {name: module for name, (module, _) in cli.COMMANDS.items()}


def test_lazy_parser_lists_the_subcommands_as_the_full_parser_does() -> None:
    full = cli.build_parser()  # every module imported
    for argv in ([], ["--help"], ["bogus"], *([name] for name in cli.COMMANDS)):
        lazy = cli.build_parser(argv)
        assert lazy.format_help() == full.format_help(), argv
        assert lazy.format_usage() == full.format_usage(), argv
    sub_full = _subparsers(full)
    assert list(sub_full) == list(cli.COMMANDS)  # the order of the listing
    for name in cli.COMMANDS:
        # the chosen subcommand is complete: the same arguments, help and defaults
        sub_lazy = _subparsers(cli.build_parser([name, "--help"]))
        assert sub_lazy[name].format_help() == sub_full[name].format_help(), name
        assert sub_lazy[name].get_default("func") is sub_full[name].get_default("func"), name


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["bogus"], None),
        (["annotate", "x.vcf"], "annotate"),
        (["-h", "kb", "show"], "kb"),
        (["--", "diff", "a", "b"], "diff"),
        (["run", "--", "--dry-run"], "run"),
    ],
)
def test_chosen_command(argv: list[str], command: str | None) -> None:
    assert cli.chosen_command(argv) == command


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_a_subcommand_imports_only_its_own_module(tmp_path: Path, command: str) -> None:
    loaded = _all_modules_after(_main([command, "--help"]), tmp_path)
    others = {m for name, m in SUBCOMMAND_MODULES.items() if name != command}
    assert SUBCOMMAND_MODULES[command] in loaded
    assert not loaded & others
    if command != "kb":  # `kb concordance` is one of kb's subcommands
        assert "erbb2_tki.knowledge.concordance" not in loaded


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
    warm_all = _all_modules_after(_main(args), tmp_path)  # the knowledge base from the cache
    warm = {name.split(".")[0] for name in warm_all}
    assert not (cold | warm) & {"pandas", "matplotlib"}
    assert not warm & {"jsonschema", "yaml"}  # knowledge base and transcript model from the cache
    # nor the other subcommands, the knowledge-base tools, the report page (no --out-report),
    # Snakemake's launcher or the parsing of protein changes written as text
    assert not warm_all & {
        "erbb2_tki.knowledge.kb_cli",
        "erbb2_tki.knowledge.concordance",
        "erbb2_tki.outputs.reanalysis",
        "erbb2_tki.outputs.patient_report",
        "erbb2_tki.batch.workflow_cli",
        "erbb2_tki.batch.pipeline",
        "subprocess",
        "importlib.resources",
    }


def test_diff_imports_no_pandas(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "batch").mkdir(parents=True)
    (run / "batch" / "summary.tsv").write_text("sample\tstatus\nP1\tok\n")
    (run / "batch" / "verdicts.tsv").write_text("sample\tdrug\tverdict\nP1\tneratinib\tsensitive\n")
    loaded = _all_modules_after(_main(["diff", "--quiet", str(run), str(run)]), tmp_path)
    assert not {m.split(".")[0] for m in loaded} & {*HEAVY, "cyvcf2", "pysam", "yaml"}
    assert not loaded & {"erbb2_tki.annotate", "erbb2_tki.knowledge", "erbb2_tki.vcf.reader"}


def _shard_config(tmp_path: Path) -> str:
    (tmp_path / "s.vcf").write_text(VCF)
    (tmp_path / "samples.tsv").write_text(f"sample\tvcf\nS1\t{tmp_path / 's.vcf'}\n")
    return json.dumps({"samples": str(tmp_path / "samples.tsv"), "shard_size": 250})


def _job(args: list[str]) -> str:
    return f"from erbb2_tki.batch import pipeline\nassert pipeline.main({args!r}) == 0\n"


NAMING_ENGINE = {
    "erbb2_tki.naming.consequence",
    "erbb2_tki.naming.protein",
    "erbb2_tki.naming.variants",
    "erbb2_tki.naming.cis",
    "erbb2_tki.calls",
    "erbb2_tki.annotate",
}


def test_extract_job_imports_no_knowledge_base_naming_engine_or_report(tmp_path: Path) -> None:
    config = _shard_config(tmp_path)
    args = ["extract", "--config-json", config, "--shard", "0", "--out-dir", str(tmp_path / "x")]
    _all_modules_after(_job(args), tmp_path)  # cold: the transcript model is parsed and cached
    loaded = _all_modules_after(_job(args), tmp_path)
    assert "S1\tok\t" in (tmp_path / "x" / "status.tsv").read_text()
    tops = {m.split(".")[0] for m in loaded}
    # numpy comes with cyvcf2, which reads the extract back (and, for now, extract.py itself)
    assert not tops & {"pandas", "matplotlib", "jsonschema", "yaml", "pysam"}
    assert not {m for m in loaded if m.startswith("erbb2_tki.knowledge")}
    assert not loaded & NAMING_ENGINE
    assert not loaded & {
        "erbb2_tki.outputs.patient_report",
        "erbb2_tki.outputs.multiqc",
        "erbb2_tki.outputs.xlsx",
        "subprocess",
    }


def test_annotate_job_imports_no_pandas_yaml_or_summary_writers(tmp_path: Path) -> None:
    config = _shard_config(tmp_path)
    extract = ["extract", "--config-json", config, "--shard", "0", "--out-dir", str(tmp_path / "x")]
    assert _all_modules_after(_job(extract), tmp_path)
    args = [
        "annotate",
        "--config-json",
        config,
        "--shard",
        "0",
        "--out-dir",
        str(tmp_path / "a"),
        "--extract-dir",
        str(tmp_path / "x"),
        "--annotated-dir",
        str(tmp_path / "annotated"),
        "--tables-dir",
        str(tmp_path / "tables"),
    ]
    _all_modules_after(_job(args), tmp_path)  # the knowledge base may be parsed here
    (tmp_path / "a" / "status.tsv").unlink()
    loaded = _all_modules_after(_job(args), tmp_path)
    assert "S1\tok\t" in (tmp_path / "a" / "status.tsv").read_text()
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"pandas", "matplotlib", "jsonschema", "yaml"}
    assert not loaded & {
        "erbb2_tki.outputs.multiqc",
        "erbb2_tki.outputs.xlsx",
        "erbb2_tki.knowledge.kb_cli",
        "erbb2_tki.knowledge.concordance",
    }


def test_job_help_imports_nothing_heavy(tmp_path: Path) -> None:
    for stage in ([], ["extract"], ["annotate"], ["summarize"]):
        code = (
            "from erbb2_tki.batch import pipeline\ntry:\n"
            f"    pipeline.main({[*stage, '--help']!r})\nexcept SystemExit:\n    pass\n"
        )
        loaded = _modules_after(code, tmp_path)
        assert not loaded & {*HEAVY, "cyvcf2", "pysam", "yaml", "jsonschema"}, stage


def test_sample_sheet_rows_are_checked_without_jsonschema(tmp_path: Path) -> None:
    (tmp_path / "samples.tsv").write_text(
        "sample\tvcf\ttumor_type\tbuild\nS1\ta.vcf\tBRCA\thg38\nS2\tb.vcf\t\t\n"
    )
    code = f"from erbb2_tki.batch import samples\nsamples.read_sheet({str(tmp_path / 'samples.tsv')!r})"
    assert not _modules_after(code, tmp_path) & {"jsonschema", "yaml"}


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


# --------------------------------------------------------------------------------------------
# the sample sheet's rows: the check without jsonschema accepts only what the schema accepts


def _schema_valid(values: dict[str, object]) -> bool:
    import jsonschema

    return not list(jsonschema.Draft202012Validator(samples._schema()).iter_errors(values))


def test_plain_row_check_is_the_schema_it_stands_for() -> None:
    # _plainly_valid hard-codes these rules: a change to the schema must change it too
    schema = samples._schema()
    props = schema["properties"]
    assert schema["required"] == ["sample", "vcf"]
    assert "additionalProperties" not in schema and schema["type"] == "object"
    assert set(props) == set(samples.SHEET_COLUMNS)
    assert all(p["type"] == "string" for p in props.values())
    assert props["sample"]["pattern"] == "^[A-Za-z0-9._-]+$"
    assert props["sample"]["not"] == {"enum": [".", ".."]}
    assert props["vcf"]["minLength"] == 1
    assert props["tumor_type"]["pattern"] == "^[A-Za-z0-9_/-]+$"
    assert props["build"]["enum"] == ["GRCh37", "GRCh38"]
    assert {k for p in props.values() for k in p} <= {
        "type",
        "description",
        "pattern",
        "not",
        "minLength",
        "enum",
    }


_CELL = st.text(alphabet="aZ09._-/ +\n:é", max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*samples.SHEET_COLUMNS, "extra"]),
        _CELL | st.sampled_from(["GRCh37", "GRCh38", ".", "..", "BRCA", "S1"]),
    )
)
def test_plain_row_check_accepts_only_schema_valid_rows(values: dict[str, str]) -> None:
    if samples._plainly_valid(values):
        assert _schema_valid(values)


@pytest.mark.parametrize(
    "values",
    [
        {"sample": "S1", "vcf": "a.vcf"},
        {"sample": "a.b_c-1", "vcf": "x", "tumor_type": "NSCLC/LUAD", "build": "GRCh37"},
        {"sample": "S1", "vcf": "a.vcf", "tumor_sample": "T 1", "normal_sample": "N"},
    ],
)
def test_plain_row_check_accepts_ordinary_rows(values: dict[str, str]) -> None:
    assert samples._plainly_valid(values) and _schema_valid(values)


@pytest.mark.parametrize(
    "values",
    [
        {"sample": "S1"},
        {"vcf": "a.vcf"},
        {"sample": "..", "vcf": "a.vcf"},
        {"sample": "S 1", "vcf": "a.vcf"},
        {"sample": "S1", "vcf": ""},
        {"sample": "S1", "vcf": "a.vcf", "build": "hg38"},
        {"sample": "S1", "vcf": "a.vcf", "tumor_type": "BR CA"},
    ],
)
def test_rows_the_schema_rejects_still_get_its_message(
    tmp_path: Path, values: dict[str, str]
) -> None:
    assert not samples._plainly_valid(values) and not _schema_valid(values)
    with pytest.raises(InputError, match="invalid value"):
        samples._validate_row(values, tmp_path / "samples.tsv", "line 2")


# --------------------------------------------------------------------------------------------
# numpy's BLAS threads


def _blas_setting(code: str, tmp_path: Path, **env: str) -> str:
    probe = code + "\nimport os\nprint(os.environ.get('OPENBLAS_NUM_THREADS', '-'))\n"
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**base, "ERBB2_TKI_CACHE_DIR": str(tmp_path / "cache"), **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1]


def test_command_line_and_jobs_start_numpy_with_one_blas_thread(tmp_path: Path) -> None:
    assert _blas_setting(_main(["--version"]), tmp_path) == "1"
    job = "from erbb2_tki.batch import pipeline\ntry:\n    pipeline.main(['--help'])\nexcept SystemExit:\n    pass\n"
    assert _blas_setting(job, tmp_path) == "1"
    # a value the user set is kept; importing the package as a library changes nothing
    assert _blas_setting(_main(["--version"]), tmp_path, OPENBLAS_NUM_THREADS="4") == "4"
    assert _blas_setting("import erbb2_tki.annotate, erbb2_tki.knowledge", tmp_path) == "-"


@pytest.mark.parametrize(
    "content", [None, b"", b"not a VCF\n", b"##fileformat=VCFv4.2\n#CHROM\tPOS\n"]
)
def test_annotate_refuses_a_bad_file_without_loading_htslib(
    tmp_path: Path, content: bytes | None
) -> None:
    # the header is checked by erbb2-tki's own reader: cyvcf2 (and the numpy it brings) only
    # comes when there are records to read
    if content is not None:
        (tmp_path / "bad.vcf").write_bytes(content)
    code = _main(["annotate", "bad.vcf", "--out-verdicts", "v.tsv"])
    loaded = _modules_after(code, tmp_path)
    assert not loaded & {"cyvcf2", "pysam", "pandas", "matplotlib"}
    assert not (tmp_path / "v.tsv").exists()


def test_job_parser_for_a_stage_is_the_full_parser_for_that_stage() -> None:
    from erbb2_tki.batch import pipeline

    full = _subparsers(pipeline.build_parser())
    for stage in full:
        lazy = _subparsers(pipeline.build_parser([stage, "--help"]))
        assert lazy[stage].format_help() == full[stage].format_help(), stage
    assert "--germline-normal-vaf" in full["annotate"].format_help()
