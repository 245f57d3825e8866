# Does the rebuild match the paper? With `compare_with` naming a reference results folder (e.g.
# results/paper from `dualgrad import`), every cell both trees hold is compared: a table, a
# verdict JSON and one overview figure, in the report.

REFERENCE = config.get("compare_with")
COMPARED_EXPERIMENTS = [
    name
    for name in PLAN.experiments
    if Path(f"{REFERENCE}/{name}/tables/table.csv").is_file()
]
if not COMPARED_EXPERIMENTS:
    exit_for_config_error(
        ConfigError(
            "compare_with",
            f"{REFERENCE!r} holds no <experiment>/tables/table.csv of this config's experiments "
            f"({', '.join(PLAN.experiments)}); import the paper first: python -m dualgrad import "
            f"../shared/paper-results --results {REFERENCE} and snakemake --configfile "
            f"config/paper-import.yaml --config results_dir={REFERENCE}",
        )
    )
COMPARISON_CATEGORY = "Rebuild vs reference"


rule compare:
    input:
        rebuilt=lambda wc: [
            f"{RESULTS}/{name}/tables/table.csv" for name in COMPARED_EXPERIMENTS
        ],
        reference=lambda wc: [
            f"{REFERENCE}/{name}/tables/table.csv" for name in COMPARED_EXPERIMENTS
        ],
        code=package_files("compare.py") + package_files("figures", "comparison.py"),
    output:
        cells=report(
            f"{RESULTS}/comparison/cells.csv",
            caption="../report/comparison_table.rst",
            category=COMPARISON_CATEGORY,
            subcategory="table",
            labels={"item": "every shared cell (CSV)"},
        ),
        summary=f"{RESULTS}/comparison/comparison.json",
        png=report(
            f"{RESULTS}/comparison/figures/comparison.png",
            caption="../report/comparison.rst",
            category=COMPARISON_CATEGORY,
            subcategory="overview",
            labels={"item": "overview figure"},
        ),
        pdf=f"{RESULTS}/comparison/figures/comparison.pdf",
    log:
        f"{RESULTS}/logs/compare.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        python=PYTHON,
        rebuilt=lambda wc, input: parent(input.rebuilt[0], 3),
        reference=lambda wc, input: parent(input.reference[0], 3),
        experiments=" ".join(COMPARED_EXPERIMENTS),
        level=config.get("compare_level", 0.05),
        out_dir=lambda wc, output: parent(output.png),
    shell:
        "{params.python} -m dualgrad compare --rebuilt {params.rebuilt} --reference {params.reference} "
        "--experiments {params.experiments} --level {params.level} --cells {output.cells} "
        "--summary-json {output.summary} --out-dir {params.out_dir} 2> {log}"
