# Per experiment: the run table (which runs, with which labels), tidy tables of every run,
# then the summary table and the analysis JSON.


rule run_table:
    output:
        f"{RESULTS}/{{experiment}}/tables/plan.json",
    log:
        f"{RESULTS}/logs/run_table/{{experiment}}.log",
    localrule: True
    params:
        rows=lambda wc: PLAN.experiments[wc.experiment].rows,
    run:
        from dualgrad import io

        io.write_json(output[0], params.rows)
        Path(log[0]).write_text(f"{len(params.rows)} runs\n")


rule tables:
    input:
        plan=f"{RESULTS}/{{experiment}}/tables/plan.json",
        runs=lambda wc: experiment_results(wc.experiment),
        code=package_files("tidy.py"),
    output:
        multiext(
            f"{RESULTS}/{{experiment}}/tables/",
            "runs.csv",
            "table.csv",
            "dynamics.csv",
            "trajectory.csv",
            "missing.csv",
        ),
    log:
        f"{RESULTS}/logs/tables/{{experiment}}.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        python=PYTHON,
        out_dir=lambda wc, output: parent(output[0]),
        results=lambda wc, input: parent(input.plan, 3),
    shell:
        "{params.python} -m dualgrad tables --plan {input.plan} --results {params.results} "
        "--out-dir {params.out_dir} 2> {log}"


rule analyze:
    input:
        unpack(analysis_inputs),
    output:
        summary=f"{RESULTS}/{{experiment}}/summary.csv",
        analysis=f"{RESULTS}/{{experiment}}/analysis.json",
    log:
        f"{RESULTS}/logs/analyze/{{experiment}}.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        python=PYTHON,
        analysis=lambda wc: PLAN.experiments[wc.experiment].analysis,
        settings=lambda wc: json.dumps(PLAN.experiments[wc.experiment].params),
        tables=lambda wc, input: parent(input.tables[0]),
        baselines=lambda wc, input: (
            f"--baselines {input.baselines}" if "baselines" in input.keys() else ""
        ),
    shell:
        "{params.python} -m dualgrad analyze --analysis {params.analysis} --params-json {params.settings:q} "
        "--tables {params.tables} --summary {output.summary} --analysis-json {output.analysis} "
        "{params.baselines} 2> {log}"
