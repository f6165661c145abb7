# Configuration, sample sheet and shards; named input functions for the other rules.
# Everything that is more than a lookup lives in the erbb2_tki package (samples, shards, pipeline).
import json
from functools import cache
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from erbb2_tki.batch import pipeline
from erbb2_tki.batch import samples as sample_sheet
from erbb2_tki.batch import shards as sharding
from erbb2_tki.errors import InputError
from erbb2_tki.paths import annotations_dir, workflow_root

# Every key has its default in the schema: a partial config (e.g. a module's `config:`) is
# completed here.
validate(config, schema="../schemas/config.schema.yaml", set_default=True)


def _workflow_dir():
    """The folder holding this workflow's Snakefile, annotations/ and config/.

    Found from this file, not from workflow.basedir, which is the outer workflow's folder when
    this one is included as a module; a module fetched from a remote host uses the installed
    package's copy (the rules need the package installed anyway).
    """
    here = Path(str(workflow.current_basedir)).parent.parent
    return here if (here / "annotations").is_dir() else workflow_root()


WORKFLOW_DIR = _workflow_dir()

try:
    SAMPLES = sample_sheet.load_samples(config)
except InputError as err:
    raise WorkflowError(f"erbb2-tki: sample sheet error: {err}") from None

for _line in sample_sheet.skipped_inputs(config):
    logger.warning(f"erbb2-tki: input_dir entry not used: {_line}")
SAMPLE_BY_NAME = {row.sample: row for row in SAMPLES}
SHARDS = sharding.assign(
    [row.sample for row in SAMPLES], config["shard_size"], config["n_shards"]
)
try:
    # config annotations, else $ERBB2_TKI_ANNOTATIONS, else this workflow's own annotations/.
    ANNOTATIONS = annotations_dir(
        config["annotations"] or None,
        source="config annotations",
        default=WORKFLOW_DIR / "annotations",
    )
except InputError as err:
    raise WorkflowError(f"erbb2-tki: {err}") from None
MANIFEST = "results/batch/samples.tsv"


def _kb_release():
    """Version and content hash of the knowledge base, for the report's captions.

    Read from metadata.yaml without validating: the annotate jobs load and check the whole
    knowledge base, and fail with a message if it is broken.
    """
    from erbb2_tki.yamlio import load_yaml_file

    path = ANNOTATIONS / "knowledge" / "metadata.yaml"
    if not path.is_file():
        return {"version": "", "content_hash": ""}
    try:
        metadata = load_yaml_file(path)
    except InputError as err:
        raise WorkflowError(f"erbb2-tki: knowledge base error: {err}") from None
    if not isinstance(metadata, dict):
        metadata = {}
    return {key: str(metadata.get(key, "")) for key in ("version", "content_hash")}


KB_RELEASE = _kb_release()


wildcard_constraints:
    shard=r"\d+",


SHARD_ROWS = {
    k: [SAMPLE_BY_NAME[name] for name in names] for k, names in SHARDS.items()
}


def shard_rows(wildcards):
    """The sample rows of one shard (an unknown shard has none)."""
    return SHARD_ROWS.get(int(wildcards.shard), [])


# Input and params functions are called more than once per job while Snakemake plans and runs;
# what they compute is fixed for one Snakemake process, so it is computed once per shard.
#
# The sample VCFs are not inputs of extract_shard: the shard's digest param holds each VCF's
# and index's size, inode, ctime and mtime (pipeline.input_signals), so a changed, replaced or
# touched VCF, or an index that appears or goes, re-runs its shard through Snakemake's params
# trigger, and a missing VCF fails only its sample (in the job). Listed as inputs, the VCFs cost
# Snakemake a stat and a size call per file in every scheduling round while a shard waits for
# a core (about 120,000 calls at 1,000 samples on 2 cores) and a producer lookup per file when
# it builds the DAG.


@cache
def _shard_digest(shard, stage):
    return pipeline.shard_digest(SHARD_ROWS.get(shard, []), stage)


def extract_digest(wildcards):
    return _shard_digest(int(wildcards.shard), "extract")


def annotate_digest(wildcards):
    return _shard_digest(int(wildcards.shard), "annotate")


@cache
def _files_under(folder):
    return sorted(
        str(path)
        for path in Path(folder).rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part == "__pycache__" for part in path.parts
        )
    )


def annotation_files(wildcards):
    """Every file of the knowledge base and transcript model: a change to one re-runs annotation.
    annotations/concordance (the CIViC cross-check tables) is not read by annotation."""
    knowledge = _files_under(ANNOTATIONS / "knowledge")
    return [*knowledge, *_files_under(ANNOTATIONS / "transcripts")]


def transcript_files(wildcards):
    """The transcript model, which sets the extracted region (span + padding). The knowledge
    base is not an input of extraction, so a knowledge-base change never re-extracts."""
    return list(_files_under(ANNOTATIONS / "transcripts"))


def manifest_config(wildcards):
    """The config keys that decide the sample list and its shards, as JSON."""
    keys = ("samples", "input_dir", "build", "tumour_type", "shard_size", "n_shards")
    return json.dumps({key: config[key] for key in keys}, sort_keys=True)


def shard_job_config(wildcards, input):
    """The same JSON for a shard job, which resolves its own rows from the sheet.

    It takes `input` so that Snakemake counts it as derived from the inputs and leaves it out
    of the params re-run trigger: what a shard depends on is tracked precisely by its digest
    param, so editing one sample's row (or a default) re-runs only the shards it affects.
    """
    return manifest_config(wildcards)


def on_error_setting(wildcards, input):
    """config on_error, derived (takes `input`) so that switching it re-runs nothing."""
    return config["on_error"]


def manifest_digest(wildcards):
    """Fingerprint of every row and its shard: the manifest is rewritten when it changes."""
    return _manifest_digest()


@cache
def _manifest_digest():
    shard_of = {name: k for k, names in SHARDS.items() for name in names}
    return sample_sheet.digest(
        {**row.as_dict(), "shard": shard_of[row.sample]} for row in SAMPLES
    )


def sheet_file(wildcards):
    return [] if config["input_dir"] else [config["samples"]]


def extract_dirs(wildcards):
    return [f"results/extract/shard_{k}" for k in SHARDS]


def annotate_dirs(wildcards):
    return [f"results/annotate/shard_{k}" for k in SHARDS]


def germline_options():
    """The germline policy config keys as `erbb2_tki.batch.pipeline annotate` options."""
    options = (
        f"--germline-normal-vaf {config['germline_normal_vaf']}"
        f" --germline-normal-min-depth {config['germline_normal_min_depth']}"
    )
    if not config["germline_exclude_listed"]:
        options += " --keep-listed-polymorphisms"
    return options


def report_settings(wildcards):
    """The config values the verdict page prints, as --setting=KEY=VALUE arguments."""
    keys = (
        "samples",
        "input_dir",
        "annotations",
        "build",
        "tumour_type",
        "include_filtered",
        "germline_normal_vaf",
        "germline_normal_min_depth",
        "germline_exclude_listed",
    )
    return [f"--setting={key}={config[key]}" for key in keys]


def report_pdf_tables(wildcards):
    """One table per shard listing its PDFs, when config report_pdf asks for them."""
    if not config.get("report_pdf", False):
        return []
    return [f"results/batch/report_pdf/shard_{k}.tsv" for k in SHARDS]


def batch_outputs(wildcards):
    return report_pdf_tables(wildcards) + [
        "results/batch/summary.tsv",
        "results/batch/drug_matrix.tsv",
        "results/batch/summary.xlsx",
        "results/batch/erbb2_tki_mqc.tsv",
        "results/report/lollipop.svg",
        "results/report/verdict_heatmap.svg",
        "results/report/verdicts.html",
        "results/batch/check.txt",
    ]
