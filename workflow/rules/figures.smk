# Figures of each experiment (PNG for looking, PDF for the paper), annotated for the report.
# One rule per experiment, because the figures an experiment has depend on its analysis type.


for _experiment, _spec in PLAN.experiments.items():

    rule:
        name:
            f"figures_{_experiment}"
        input:
            **figure_inputs(_experiment),
        output:
            png=[
                report(
                    path,
                    caption=f"../report/{Path(path).stem}.rst",
                    category=category(_experiment),
                    subcategory="figures",
                    labels={"figure": Path(path).stem.replace("_", " ")},
                )
                for path in figure_files(_experiment, "png")
            ],
            pdf=figure_files(_experiment, "pdf"),
        log:
            f"{RESULTS}/logs/figures/{_experiment}.log",
        localrule: True
        conda:
            "../../envs/analysis.yaml"
        params:
            python=PYTHON,
            captions=figure_captions(_experiment),
            analysis=_spec.analysis,
            settings=json.dumps(_spec.params),
            tables=lambda wc, input: parent(input.tables),
            out_dir=lambda wc, output: parent(output.png[0]),
            extra=lambda wc, input: (
                f"--extra baselines={input.baselines}"
                if "baselines" in input.keys()
                else ""
            ),
        shell:
            "{params.python} -m dualgrad plot --analysis {params.analysis} --params-json {params.settings:q} "
            "--tables {params.tables} --summary {input.summary} --analysis-json {input.analysis} "
            "--out-dir {params.out_dir} {params.extra} 2> {log}"
