# An experiment's results page and figure captions for the HTML report (helpers: report_common.smk).


rule report_section:
    input:
        summary=f"{RESULTS}/{{experiment}}/summary.csv",
        analysis=f"{RESULTS}/{{experiment}}/analysis.json",
        code=package_files("report.py"),
    output:
        html=report(
            f"{RESULTS}/{{experiment}}/report/results.html",
            caption="../report/results.rst",
            category=lambda wc: category(wc.experiment),
            subcategory="results",
            labels={"item": "numbers, verdicts and summary table"},
        ),
        captions=f"{RESULTS}/{{experiment}}/report/captions.json",
    log:
        f"{RESULTS}/logs/report_section/{{experiment}}.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        python=PYTHON,
        analysis=lambda wc: PLAN.experiments[wc.experiment].analysis,
        figures=lambda wc: " ".join(FIGURES[PLAN.experiments[wc.experiment].analysis]),
    shell:
        "{params.python} -m dualgrad report-section --experiment {wildcards.experiment} "
        "--analysis {params.analysis} --summary {input.summary} --analysis-json {input.analysis} "
        "--figures {params.figures} --html {output.html} --captions {output.captions} 2> {log}"
