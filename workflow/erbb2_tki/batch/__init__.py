"""The batch: the sample sheet, shards, what each Snakemake rule runs, and `erbb2-tki run`."""
