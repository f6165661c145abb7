# erbb2-tki: ERBB2 alleles named on NM_004448.4 and their TKI evidence, for a batch of VCFs.
# This file is an index: configuration, validation and the sample sheet are in
# workflow/rules/common.smk, the stages in the other .smk files, the logic in the erbb2_tki package.
from snakemake.utils import min_version

min_version("8.20")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/captions/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/annotate.smk"
include: "workflow/rules/summarize.smk"


# Tiny bookkeeping jobs run where Snakemake runs, not as cluster jobs.
localrules:
    sample_manifest,
    check_batch,


rule all:
    default_target: True
    input:
        batch_outputs,
