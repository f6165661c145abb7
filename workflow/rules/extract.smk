# Stage 1: the resolved sample list, then the ERBB2 region of every sample, one shard per job.
# Extraction depends only on the VCFs and the sheet rows of its shard (not on annotations/),
# so a knowledge-base update never re-extracts.


rule sample_manifest:
    input:
        sheet=sheet_file,
    output:
        manifest=MANIFEST,
    log:
        "results/logs/sample_manifest/sample_manifest.log",
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=manifest_config,
        digest=manifest_digest,
    shell:
        "python -m erbb2_tki.pipeline manifest --config-json {params.config:q}"
        " --out {output.manifest:q} --log {log:q}"


rule extract_shard:
    input:
        # ancient: the manifest is rewritten whenever any row of the sheet changes; a shard
        # re-runs only when its own rows change (params.digest) or its VCFs do.
        manifest=ancient(MANIFEST),
        vcfs=shard_vcfs,
        transcript=transcript_files,
    output:
        shard_dir=directory("results/extract/shard_{shard}"),
    log:
        "results/logs/extract_shard/shard_{shard}.log",
    benchmark:
        "results/benchmarks/extract_shard/shard_{shard}.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        digest=extract_digest,
        on_error=config["on_error"],
        padding=config["padding"],
        annotations=str(ANNOTATIONS),
    shell:
        "python -m erbb2_tki.pipeline extract --manifest {input.manifest:q}"
        " --shard {wildcards.shard} --out-dir {output.shard_dir:q}"
        " --padding {params.padding} --annotations {params.annotations:q}"
        " --expect-digest {params.digest} --on-error {params.on_error} --log {log:q}"
