"""The workflow on a real SLURM cluster: same results as a local run, same failures, and it resumes.

A single-node cluster (slurmctld + slurmd + munged on this machine, brought up by .ci/slurm/up.sh and torn down
by .ci/slurm/down.sh) runs the example batch through `snakemake --profile workflow/profiles/slurm`, i.e. through
Snakemake's own SLURM executor plugin, sbatch and srun. Every result file must equal the local run's byte for byte.
A batch with one bad VCF must fail on the cluster exactly as it fails locally, and a re-run after the VCF is fixed
must redo only that sample's shard and the batch summaries.

Needs root (slurmd and munged run as root here) and either the SLURM binaries or apt-get to install them; skips
saying why otherwise. Set ERBB2_TKI_REQUIRE_SLURM=1 to turn a failed bring-up into a failure instead of a skip.
The wall times of each run are printed (pytest -rA shows them).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from workflow_helpers import EXAMPLE_CONFIG, job_counts, result_hashes, snakemake_env
from workflow_helpers import Run as LocalRun

from erbb2_tki.batch import shards

PROJECT_DIR = Path(__file__).resolve().parents[2]
SNAKEFILE = PROJECT_DIR / "Snakefile"
CONFIGFILE = PROJECT_DIR / "config" / "config.yaml"
EXAMPLE_SHEET = PROJECT_DIR / "config" / "samples.tsv"
UP = PROJECT_DIR / ".ci" / "slurm" / "up.sh"
DOWN = PROJECT_DIR / ".ci" / "slurm" / "down.sh"
SLURM_PROFILE = PROJECT_DIR / "workflow" / "profiles" / "slurm"
LOCAL_PROFILE = PROJECT_DIR / "workflow" / "profiles" / "default"

# The bad-VCF batch in two shards, so a failure stays in one shard and the other must not be redone.
N_SHARDS = 2
# The profiles exactly as a user runs them (the local run is limited to this machine's 2 cores).
SLURM_ARGS = ["--profile", str(SLURM_PROFILE)]
LOCAL_ARGS = ["--profile", str(LOCAL_PROFILE), "--cores", "2"]
SUBMITTED = "has been submitted with SLURM jobid"

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


# --- the cluster --------------------------------------------------------------------------------------------------


def _why_no_slurm() -> str | None:
    """Why this machine cannot run the test cluster, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root: the single-node SLURM cluster (slurmd, munged) needs root; run as root or in CI"
    if shutil.which("sbatch") is None and shutil.which("apt-get") is None:
        return "no SLURM binaries and no apt-get to install Debian's slurm-wlm and munge"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return (
            "snakemake-executor-plugin-slurm is not installed (pip install 'erbb2-tki[cluster]'): "
            "Snakemake cannot submit to SLURM without it"
        )
    return None


def _controller_answers() -> bool:
    """Is a slurmctld already up (then this session did not start it and must not stop it)?"""
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ping.returncode == 0 and "UP" in ping.stdout


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    """A running single-node cluster for the session: started by .ci/slurm/up.sh, stopped by down.sh."""
    reason = _why_no_slurm()
    if reason:
        pytest.skip(reason)
    started_here = not _controller_answers()
    up = subprocess.run(["bash", str(UP)], capture_output=True, text=True, timeout=1800)
    if up.returncode != 0:
        message = f"SLURM bring-up failed (.ci/slurm/up.sh exit {up.returncode}): {up.stderr.strip()[-1500:]}"
        if up.returncode == 1 and os.environ.get("ERBB2_TKI_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield
    finally:
        if started_here:
            subprocess.run(["bash", str(DOWN)], capture_output=True, text=True, timeout=300)


# --- runs ---------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One snakemake invocation: where, how it ended, how long it took, what it printed."""

    workdir: Path
    returncode: int
    seconds: float
    output: str

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def _environment() -> dict[str, str]:
    """The workflow tests' environment (this interpreter first on PATH: rules call `python -m erbb2_tki`, and
    SLURM jobs inherit the submitting environment), without the variables of a SLURM job this test runs in."""
    return {key: value for key, value in snakemake_env().items() if not key.startswith("SLURM_")}


def _snakemake(workdir: Path, sheet: Path, how: list[str], config: dict[str, object]) -> Run:
    """Run the workflow on `sheet` in `workdir` (a run folder outside the checkout), local or on SLURM."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(CONFIGFILE),
        "--config",
        f"samples={sheet}",
        *(f"{key}={value}" for key, value in config.items()),
        *how,
    ]
    start = time.monotonic()
    done = subprocess.run(
        command,
        cwd=workdir,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    (workdir / "snakemake.out").write_text(output, encoding="utf-8")
    return Run(workdir, done.returncode, seconds, output)


def _result_files(workdir: Path) -> dict[str, Path]:
    """The files the workflow tests compare (results/ less logs, benchmarks and Snakemake's markers)."""
    return {name: workdir / name for name in result_hashes(workdir)}


def _mtimes(workdir: Path) -> dict[str, int]:
    return {name: path.stat().st_mtime_ns for name, path in _result_files(workdir).items()}


def _summary(workdir: Path) -> dict[str, dict[str, str]]:
    with (workdir / "results" / "batch" / "summary.tsv").open(
        newline="", encoding="utf-8"
    ) as handle:
        return {row["sample"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _report(label: str, local: Run, slurm: Run) -> None:
    submitted = slurm.output.count(SUBMITTED)
    print(
        f"\n[timing] {label}: local {local.seconds:.1f} s, SLURM {slurm.seconds:.1f} s "
        f"({submitted} SLURM jobs; SLURM/local = {slurm.seconds / local.seconds:.2f})"
    )


def _example_sheet(folder: Path, extra: Sequence[tuple[str, Path]] = ()) -> Path:
    """The example sheet with absolute VCF paths (plus `extra` sample/VCF rows), usable from any run folder."""
    rows = _example_rows()
    header = list(rows[0].keys())
    for sample, vcf in extra:
        rows.append({**dict.fromkeys(header, ""), "sample": sample, "vcf": str(vcf)})
    sheet = folder / "samples.tsv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return sheet


# --- the example batch ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slurm_example_run(
    slurm_cluster: None, example_sheet: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """The example batch on SLURM, with the sheet and config of the workflow tests' local `example_run`."""
    slurm = _snakemake(
        tmp_path_factory.mktemp("slurm_example"), example_sheet, SLURM_ARGS, EXAMPLE_CONFIG
    )
    assert slurm.returncode == 0, f"the SLURM example run failed:\n{slurm.tail()}"
    print(
        f"\n[timing] example batch on SLURM: {slurm.seconds:.1f} s, {slurm.output.count(SUBMITTED)} SLURM jobs"
    )
    return slurm


def _shards_per_job() -> int:
    """How many shards share one SLURM job (the profile's group-components for group `shard`)."""
    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text(encoding="utf-8"))
    assert profile["groups"] == {"extract_shard": "shard", "annotate_shard": "shard"}
    return int(profile.get("group-components", {}).get("shard", 1))


def test_example_batch_runs_as_slurm_jobs(slurm_example_run: Run) -> None:
    """The shard jobs went through sbatch, extract and annotate grouped and several shards to a SLURM
    job (group-components), plus one job for the manifest, batch tables and figures: the example batch
    (4 shards at shard_size 2) is at most 3 SLURM jobs (issue 14)."""
    slurm = slurm_example_run
    n_shards = len(shards.assign(_samples(), EXAMPLE_CONFIG["shard_size"]))
    assert n_shards == 4
    shard_jobs = -(-n_shards // _shards_per_job())
    assert slurm.output.count("Group job shard") == shard_jobs, slurm.tail()
    assert slurm.output.count(SUBMITTED) == shard_jobs + 1, slurm.tail()
    assert slurm.output.count(SUBMITTED) <= 3, slurm.tail()
    assert job_counts(slurm.output) == {
        "extract_shard": n_shards,
        "annotate_shard": n_shards,
        "summarize": 1,
        "check_batch": 1,
        "all": 1,
    }


def test_slurm_results_equal_local_results_byte_for_byte(
    slurm_example_run: Run, example_run: LocalRun
) -> None:
    """Every result file of the SLURM run is the local run's, byte for byte (sha256 of results/ less logs)."""
    local_hashes = result_hashes(example_run.workdir)
    slurm_hashes = result_hashes(slurm_example_run.workdir)
    assert "results/batch/summary.tsv" in local_hashes
    assert sorted(slurm_hashes) == sorted(local_hashes)
    assert [name for name in local_hashes if local_hashes[name] != slurm_hashes[name]] == []
    statuses = {row["status"] for row in _summary(slurm_example_run.workdir).values()}
    assert statuses == {"ok"}


def _samples() -> list[str]:
    return [row["sample"] for row in _example_rows()]


# --- a bad VCF on the cluster ----------------------------------------------------------------------------------------

BAD_VCF = "this is not a VCF: a truncated upload\n"


def _bad_sample_name(good: list[str]) -> str:
    """A name for the bad sample whose shard differs from some good sample's, so one shard stays clean."""
    for k in range(1, 100):
        name = f"BAD{k:02d}"
        assignment = shards.assign([*good, name], shard_size=50, n_shards=N_SHARDS)
        shard_of_bad = next(shard for shard, names in assignment.items() if name in names)
        if any(shard != shard_of_bad for shard in assignment):
            return name
    raise AssertionError(f"no sample name puts a bad VCF in a shard of its own among {good}")


def test_bad_vcf_fails_on_slurm_as_locally_and_a_rerun_resumes(
    slurm_cluster: None, tmp_path: Path
) -> None:
    rows = _example_rows()
    good = [row["sample"] for row in rows]
    bad = _bad_sample_name(good)
    bad_vcf = tmp_path / f"{bad}.vcf"
    bad_vcf.write_text(BAD_VCF, encoding="utf-8")
    sheet = _example_sheet(tmp_path, [(bad, bad_vcf)])

    config = {"n_shards": N_SHARDS}
    local = _snakemake(tmp_path / "local", sheet, LOCAL_ARGS, config)
    slurm = _snakemake(tmp_path / "slurm", sheet, SLURM_ARGS, config)
    _report("batch with one bad VCF", local, slurm)

    # Reported as on a local run: non-zero exit, the bad sample failed with its reason, the rest finished.
    assert local.returncode != 0, local.tail()
    assert slurm.returncode != 0, slurm.tail()
    for run in (local, slurm):
        summary = _summary(run.workdir)
        assert summary[bad]["status"] == "failed"
        assert summary[bad]["reason"]
        assert {summary[name]["status"] for name in good} == {"ok"}
        assert bad in run.output  # the failure names the sample on the console too
    assert result_hashes(slurm.workdir) == result_hashes(local.workdir)

    # Fix the VCF (a plain-text example VCF in its place) and re-run on SLURM: only the bad sample's
    # shard and the batch tables are redone; the clean shard's files keep their modification times.
    before = _mtimes(slurm.workdir)
    first_jobs = job_counts(slurm.output)
    assert first_jobs["extract_shard"] == first_jobs["annotate_shard"] == N_SHARDS
    fixed = next(row["vcf"] for row in rows if row["vcf"].endswith(".vcf"))
    time.sleep(1.1)  # a newer mtime than every output, also on file systems with 1 s resolution
    shutil.copyfile(fixed, bad_vcf)
    rerun = _snakemake(tmp_path / "slurm", sheet, SLURM_ARGS, config)
    print(f"\n[timing] re-run on SLURM after fixing the bad VCF: {rerun.seconds:.1f} s")
    assert rerun.returncode == 0, rerun.tail()
    assert _summary(slurm.workdir)[bad]["status"] == "ok"

    after = _mtimes(slurm.workdir)
    assignment = shards.assign([*good, bad], shard_size=50, n_shards=N_SHARDS)
    clean_shards = [shard for shard, names in assignment.items() if bad not in names]
    clean_samples = {name for shard in clean_shards for name in assignment[shard]}
    untouched = [
        name
        for name in before
        if set(Path(name).parts[2:3]) & {f"shard_{shard}" for shard in clean_shards}
        or Path(name).name.split(".")[0] in clean_samples
    ]
    assert any(name.startswith("results/tables/") for name in untouched), sorted(before)
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}
    # Only the bad sample's shard ran again (its SLURM job holds no other shard), then the batch job.
    assert job_counts(rerun.output) == {
        "extract_shard": 1,
        "annotate_shard": 1,
        "summarize": 1,
        "check_batch": 1,
        "all": 1,
    }, rerun.tail()
    assert rerun.output.count(SUBMITTED) == 2, rerun.tail()


def _example_rows() -> list[dict[str, str]]:
    """The example sheet's rows, VCF paths made absolute."""
    with EXAMPLE_SHEET.open(newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    for row in rows:
        row["vcf"] = str((EXAMPLE_SHEET.parent / row["vcf"]).resolve())
    return rows
