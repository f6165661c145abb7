"""Installing and running outside a checkout: where the workflow's files are found, overrides of
annotations/, the `erbb2-tki run` command line, config defaults in the schema, one version string,
and the command-line fixes that came with it (annotate's outputs, kb show, a missing sheet)."""

from __future__ import annotations

import gzip
import importlib.metadata
import os
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import erbb2_tki
from erbb2_tki import paths
from erbb2_tki.batch import workflow_cli
from erbb2_tki.batch.samples import VCF_SUFFIXES, read_sheet
from erbb2_tki.cli import build_parser, main
from erbb2_tki.errors import InputError

PROJECT_DIR = Path(__file__).resolve().parents[2]

L755S_VCF = """##fileformat=VCFv4.2
##reference=file:///refs/GRCh38/Homo_sapiens_assembly38.fasta
##contig=<ID=chr17,length=83257441>
##FILTER=<ID=PASS,Description="All filters passed">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	TUMOR
chr17	39723967	.	T	C	50	PASS	DP=100	GT:AD	0/1:60,40
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def vcf(tmp_path: Path) -> Path:
    path = tmp_path / "tumour.vcf"
    path.write_text(L755S_VCF)
    return path


@pytest.fixture
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ANNOTATIONS_ENV, raising=False)


@pytest.fixture(autouse=True)
def _restore_annotations_env():
    """`annotate --annotations` sets the variable for its process: undo it after each test."""
    before = os.environ.get(paths.ANNOTATIONS_ENV)
    yield
    if before is None:
        os.environ.pop(paths.ANNOTATIONS_ENV, None)
    else:
        os.environ[paths.ANNOTATIONS_ENV] = before


# --- where the files are ----------------------------------------------------------------


def test_workflow_root_holds_everything_the_workflow_reads(no_override: None) -> None:
    root = paths.workflow_root()
    for relative in (
        "Snakefile",
        "workflow/rules/common.smk",
        "workflow/schemas/config.schema.yaml",
        "workflow/report/captions/workflow.rst",
        "workflow/profiles/default/config.yaml",
        "annotations/knowledge/evidence.tsv",
        "annotations/transcripts/NM_004448.4.yaml",
        "config/config.yaml",
    ):
        assert (root / relative).is_file(), relative
    assert paths.annotations_dir() == root / "annotations"
    assert paths.schemas_dir() == root / "workflow" / "schemas"
    assert paths.example_sheet().is_file()


def test_the_build_step_bundles_every_file_the_workflow_reads() -> None:
    """setup.py's list covers the Snakefile's includes, every schema, caption, profile and annotation."""
    sys.path.insert(0, str(PROJECT_DIR))
    try:
        import setup as build_step  # setup() runs only as __main__, as setuptools runs it
    finally:
        sys.path.remove(str(PROJECT_DIR))
    bundled = {p.relative_to(PROJECT_DIR).as_posix() for p in build_step.bundled_files(PROJECT_DIR)}
    needed = {"Snakefile", "config/config.yaml", "config/samples.tsv", "LICENSE"}
    for folder in ("workflow/rules", "workflow/schemas", "workflow/report", "workflow/profiles",
                   "annotations"):  # fmt: skip
        needed |= {
            p.relative_to(PROJECT_DIR).as_posix()
            for p in (PROJECT_DIR / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
    sheet = read_sheet(PROJECT_DIR / "config" / "samples.tsv")
    needed |= {Path(row.vcf).relative_to(PROJECT_DIR).as_posix() for row in sheet}
    assert needed <= bundled, sorted(needed - bundled)
    assert not any(name.startswith("workflow/erbb2_tki") for name in bundled)


@pytest.mark.parametrize("how", ["env", "explicit"])
def test_a_missing_annotations_override_is_a_one_line_error(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-annotations"
    if how == "env":
        monkeypatch.setenv(paths.ANNOTATIONS_ENV, str(missing))
        with pytest.raises(InputError) as err:
            paths.annotations_dir()
        assert paths.ANNOTATIONS_ENV in str(err.value)
    else:
        monkeypatch.delenv(paths.ANNOTATIONS_ENV, raising=False)
        with pytest.raises(InputError) as err:
            paths.annotations_dir(missing)
        assert "--annotations" in str(err.value)
    assert str(missing) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_file_is_not_an_annotations_folder(tmp_path: Path) -> None:
    (tmp_path / "kb.tsv").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        paths.annotations_dir(tmp_path / "kb.tsv")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.mkdir(), "knowledge-base folder not found"),
        (lambda root: (root / "knowledge").mkdir(parents=True), "missing from the knowledge base"),
    ],
)
def test_cli_reports_a_missing_or_broken_override_in_one_line(
    make, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root = tmp_path / "annotations"
    make(root)
    monkeypatch.setenv(paths.ANNOTATIONS_ENV, str(root))
    code, out, err = run(capsys, "kb", "show", "L755S")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert expected in err


def test_an_override_without_the_transcript_model_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, vcf: Path
) -> None:
    import shutil

    root = tmp_path / "kb_only"
    shutil.copytree(PROJECT_DIR / "annotations" / "knowledge", root / "knowledge")
    code, _, err = run(capsys, "annotate", str(vcf), "--annotations", str(root))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "NM_004448.4.yaml" in err and "missing" in err


# --- erbb2-tki run ------------------------------------------------------------------------


def _command(*argv: str) -> list[str]:
    args = build_parser().parse_args(["run", *argv])
    return workflow_cli.snakemake_command(args)


def test_run_example_runs_the_bundled_snakefile_with_the_default_profile(
    tmp_path: Path, no_override: None
) -> None:
    command = _command("--example", "--directory", str(tmp_path / "demo"), "--cores", "2")
    assert command[:3] == [sys.executable, "-m", "snakemake"]
    assert command[command.index("--snakefile") + 1] == str(paths.snakefile())
    assert command[command.index("--directory") + 1] == str(tmp_path / "demo")
    assert command[command.index("--workflow-profile") + 1] == str(paths.profile_dir("default"))
    assert command[command.index("--cores") + 1] == "2"
    assert command[-2:] == ["--config", f"samples={paths.example_sheet()}"]
    assert (tmp_path / "demo").is_dir()
    profile = yaml.safe_load(paths.profile_dir("default").joinpath("config.yaml").read_text())
    assert profile["rerun-incomplete"] is True


def test_run_passes_a_relative_sheet_on_as_absolute_and_snakemake_args_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "batch.tsv").write_text("sample\tvcf\n")
    monkeypatch.chdir(tmp_path)
    command = _command(
        "--samples", "batch.tsv", "-d", "runs/one", "--config", "tumour_type=BRCA", "--",
        "--dry-run", "--quiet",
    )  # fmt: skip
    assert command[-3:] == ["--config", f"samples={tmp_path / 'batch.tsv'}", "tumour_type=BRCA"]
    assert "--dry-run" in command and "--quiet" in command
    assert "--" not in command
    assert "--cores" not in command  # the profile's


def test_run_input_dir_and_the_slurm_profile(tmp_path: Path) -> None:
    command = _command("--input-dir", str(tmp_path), "--profile", "slurm", "-d", str(tmp_path))
    assert f"input_dir={tmp_path}" in command
    assert command[command.index("--workflow-profile") + 1] == str(paths.profile_dir("slurm"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "missing.tsv"], "looked for"),
        (["--input-dir", "no_such_folder"], "does not exist"),
        (["--example", "--config", "samples=x.tsv"], "--samples"),
        (["--example", "--config", "tumour_type"], "KEY=VALUE"),
        (["--example", "--", "--config", "build=GRCh38"], "before `--`"),
        (["--example", "--profile", "nonesuch"], "no workflow profile"),
    ],
)
def test_run_input_errors_are_one_line(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "run", "-d", str(tmp_path), *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_run_env_puts_this_interpreter_first_on_path() -> None:
    env = workflow_cli.workflow_env()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_registering_run_does_not_import_snakemake() -> None:
    import subprocess

    code = "import sys, erbb2_tki.cli as c; c.build_parser(); print('snakemake' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- config defaults live in the schema -------------------------------------------------


def test_schema_defaults_are_config_yaml_and_complete_a_partial_config(tmp_path: Path) -> None:
    from snakemake.utils import validate

    schema_path = PROJECT_DIR / "workflow" / "schemas" / "config.schema.yaml"
    schema = yaml.safe_load(schema_path.read_text())
    defaults = {key: spec["default"] for key, spec in schema["properties"].items()}
    assert defaults == yaml.safe_load((PROJECT_DIR / "config" / "config.yaml").read_text())
    assert not schema.get("required")
    partial = {"samples": "batch.tsv", "shard_size": 10}
    validate(partial, schema=str(schema_path), set_default=True)
    assert partial == {**defaults, "samples": "batch.tsv", "shard_size": 10}


def test_documented_input_dir_suffixes_are_the_accepted_ones() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    config_readme = (PROJECT_DIR / "config" / "README.md").read_text()
    config_yaml = (PROJECT_DIR / "config" / "config.yaml").read_text()
    schema = (PROJECT_DIR / "workflow" / "schemas" / "config.schema.yaml").read_text()
    for suffix in VCF_SUFFIXES:
        assert f"`{suffix}`" in readme and f"`{suffix}`" in config_readme, suffix
        assert f"{suffix}," in config_yaml or f"{suffix} " in config_yaml, suffix
        assert suffix in schema, suffix


# --- one version ---------------------------------------------------------------------------


def test_one_version_string() -> None:
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "erbb2_tki.__version__"
    }
    assert importlib.metadata.version("erbb2-tki") == erbb2_tki.__version__
    assert f"## {erbb2_tki.__version__}" in (PROJECT_DIR / "CHANGELOG.md").read_text()


# --- annotate's outputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "magic", "index"),
    [
        ("out.vcf", b"##fileformat=VCF", False),
        ("out.vcf.gz", b"\x1f\x8b\x08\x04", True),  # BGZF: gzip with the extra field
        ("out.bcf", b"\x1f\x8b\x08\x04", False),  # BCF is BGZF-compressed; its content starts BCF
    ],
)
def test_annotate_out_vcf_format_follows_the_name(
    name: str, magic: bytes, index: bool, vcf: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / name
    code, _, err = run(capsys, "annotate", str(vcf), "--out-vcf", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(magic)
    if name.endswith(".bcf"):
        assert gzip.decompress(data).startswith(b"BCF\x02")
    if name.endswith(".vcf"):
        assert "ERBB2_HGVSP_SHORT=p.L755S" in data.decode()
    assert Path(f"{out}.tbi").exists() is index


def test_annotate_without_outputs_writes_the_alleles_table_to_stdout(vcf: Path, capsys) -> None:
    code, out, err = run(capsys, "annotate", str(vcf))
    assert code == 0, err
    lines = out.splitlines()
    header = lines[0].split("\t")
    row = dict(zip(header, lines[1].split("\t"), strict=True))
    assert header[0] == "sample" and row["hgvsp_short"] == "p.L755S"
    assert len(lines) == 2
    assert "1 ERBB2 allele" in err


def test_annotate_out_tsv_dash_is_stdout_alongside_other_outputs(
    vcf: Path, tmp_path: Path, capsys
) -> None:
    code, out, _ = run(
        capsys, "annotate", str(vcf), "--out-tsv", "-", "--out-verdicts", str(tmp_path / "v.tsv")
    )
    assert code == 0
    assert out.startswith("sample\t")
    assert (tmp_path / "v.tsv").is_file()


def test_annotate_with_a_file_output_keeps_stdout_for_the_summary(
    vcf: Path, tmp_path: Path, capsys
) -> None:
    code, out, _ = run(capsys, "annotate", str(vcf), "--out-tsv", str(tmp_path / "a.tsv"))
    assert code == 0
    assert out.startswith("tumour: 1 ERBB2 allele")


# --- kb show and the sheet ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XYZ", "'XYZ' is not a known alteration, codon, class or drug"),
        # KB 2.0.0 has both exon 20 classes
        ("exon20", "did you mean exon20_deletion or exon20_insertion?"),
        ("lapatinib", "'lapatinib' is a drug (lapatinib), not an alteration"),
        ("Tykerb", "is a drug (lapatinib)"),
    ],
)
def test_kb_show_names_what_the_text_is_not(text: str, expected: str, capsys) -> None:
    code, out, err = run(capsys, "kb", "show", text)
    assert code == 2
    assert out == ""
    assert expected in err
    assert "write a stop as" not in err


def test_kb_show_accepts_a_class_in_any_case(capsys) -> None:
    code, out, _ = run(capsys, "kb", "show", "EXON20_INSERTION")
    assert code == 0
    assert "exon20_insertion" in out


def test_a_missing_relative_sheet_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        read_sheet("batches/missing.tsv")
    text = str(err.value)
    assert str(tmp_path / "batches" / "missing.tsv") in text
    assert "relative to the run folder" in text
