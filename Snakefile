# erbb2-tki: ERBB2 alleles named on NM_004448.4 and their TKI evidence, for a batch of VCFs.
# This file is an index: configuration, validation and the sample sheet are in
# workflow/rules/common.smk, the stages in the other .smk files, the logic in the erbb2_tki package.
from snakemake.utils import min_version

min_version("8.20")


# The defaults, explicit (config/README.md explains each key). Used as a Snakemake module with a
# config of its own, Snakemake skips this line; validation then fills in the schema's defaults.
configfile: f"{workflow.current_basedir}/config/config.yaml"


report: "workflow/report/captions/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/annotate.smk"
include: "workflow/rules/summarize.smk"


rule all:
    default_target: True
    input:
        batch_outputs,
