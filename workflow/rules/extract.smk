# Stage 1: the ERBB2 region of every sample, one shard per job.
# Extraction depends only on the VCFs and the sheet rows of its shard (not on annotations/),
# so a knowledge-base update never re-extracts.


rule extract_shard:
    input:
        # the VCFs are tracked by params.digest, not listed here (see common.smk)
        transcript=transcript_files,
    output:
        shard_dir=directory("results/extract/shard_{shard}"),
    log:
        "results/logs/extract_shard/shard_{shard}.log",
    benchmark:
        "results/benchmarks/extract_shard/shard_{shard}.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    # An unindexed bgzipped VCF is inflated by this many threads (ERBB2_TKI_INFLATE_THREADS below):
    # the job uses what the scheduler gave it, never more. Raise it with --set-threads.
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        # A shard re-runs when its own rows change or its VCFs or indexes do (the digest holds
        # their size, inode, ctime and mtime), not when other samples are added to the sheet.
        digest=extract_digest,
        config=shard_job_config,
        on_error=on_error_setting,
        padding=config["padding"],
        assume_sorted="--assume-sorted" if config.get("assume_sorted") else "",
        annotations=str(ANNOTATIONS),
    shell:
        "ERBB2_TKI_INFLATE_THREADS={threads}"
        " python -m erbb2_tki.batch.pipeline extract --config-json {params.config:q}"
        " --shard {wildcards.shard} --out-dir {output.shard_dir:q}"
        " --padding {params.padding} {params.assume_sorted}"
        " --annotations {params.annotations:q}"
        " --expect-digest {params.digest} --on-error {params.on_error} --log {log:q}"
