# Stage 3: batch tables and report over every shard, then the end-of-run check that lists
# failed samples.


# One job at the end, one Python start-up: the resolved sample list (results/batch/samples.tsv,
# each sample with its shard), the batch tables, and the report's figures and verdict page
# (snakemake --report report.html collects them). These used to be three jobs run one after
# another (sample_manifest, summarize, report_figures).
rule summarize:
    input:
        sheet=sheet_file,
        shard_dirs=annotate_dirs,
    output:
        manifest=MANIFEST,
        summary=report(
            "results/batch/summary.tsv",
            caption="../report/captions/summary.rst",
            category="3. Tables",
            labels={"table": "summary"},
        ),
        drug_matrix=report(
            "results/batch/drug_matrix.tsv",
            caption="../report/captions/drug_matrix.rst",
            category="3. Tables",
            labels={"table": "drug matrix"},
        ),
        alleles="results/batch/alleles.tsv",
        evidence="results/batch/evidence.tsv",
        verdicts=report(
            "results/batch/verdicts.tsv",
            caption="../report/captions/verdicts_table.rst",
            category="3. Tables",
            labels={"table": "verdicts"},
        ),
        structural="results/batch/structural.tsv",
        excel=report(
            "results/batch/summary.xlsx",
            caption="../report/captions/excel.rst",
            category="3. Tables",
            labels={"table": "Excel workbook"},
        ),
        multiqc="results/batch/erbb2_tki_mqc.tsv",
        lollipop=report(
            "results/report/lollipop.svg",
            caption="../report/captions/lollipop.rst",
            category="1. Batch overview",
            labels={"figure": "ERBB2 alleles on NP_004439.2"},
        ),
        heatmap=report(
            "results/report/verdict_heatmap.svg",
            caption="../report/captions/verdict_heatmap.rst",
            category="1. Batch overview",
            labels={"figure": "verdict heatmap"},
        ),
        verdicts_page=report(
            "results/report/verdicts.html",
            caption="../report/captions/verdicts.rst",
            category="2. Verdicts",
            labels={"page": "verdicts"},
        ),
    log:
        "results/logs/summarize/summarize.log",
    benchmark:
        "results/benchmarks/summarize/summarize.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=45,
    params:
        # the sample list and its shards: the manifest is rewritten when they change
        config=manifest_config,
        digest=manifest_digest,
        out_dir=subpath(output.summary, parent=True),
        report_dir=subpath(output.lollipop, parent=True),
        annotations=str(ANNOTATIONS),
        settings=report_settings,
        # the verdict page's caption links each sample's page (results/reports/{sample}.html)
        sample_pages=sorted(SAMPLE_BY_NAME),
        kb_version=KB_RELEASE["version"],
        kb_hash=KB_RELEASE["content_hash"],
    shell:
        "python -m erbb2_tki.batch.pipeline summarize --config-json {params.config:q}"
        " --manifest {output.manifest:q} --out-dir {params.out_dir:q}"
        " --report-dir {params.report_dir:q} --annotations {params.annotations:q}"
        " {params.settings:q} --log {log:q} {input.shard_dirs:q}"


# With on_error: continue, failed samples do not stop the batch; this last job makes the run
# exit non-zero, listing them, after every summary and figure has been written.
rule check_batch:
    input:
        summary="results/batch/summary.tsv",
        # every output of summarize, and the PDFs when asked for: the check runs last (see above),
        # so a failed sample never stops another job's outputs from being written
        done=rules.summarize.output,
        pdfs=report_pdf_tables,
    output:
        check="results/batch/check.txt",
    log:
        "results/logs/check_batch/check_batch.log",
    # A tiny bookkeeping job: it runs where Snakemake runs, never as a cluster job. Marked on
    # the rule (not with `localrules:`) so that it holds under a module's rule-name prefix.
    localrule: True
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m erbb2_tki.batch.check --summary {input.summary:q}"
        " --out {output.check:q} --log {log:q}"
