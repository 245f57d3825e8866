# dualgrad — rebuild "Dual-Gradient Learning" under label noise from one DAG.
#
#   snakemake --cores all                                  # the paper, full scale (GPU advised)
#   snakemake --cores all --configfile config/demo.yaml    # whole DAG at demo scale, offline, CPU
#   snakemake --cores all --config figures_only=true       # tables and figures from existing runs
#   snakemake --report report.html                         # HTML report with every figure
#
# Logic lives in the `dualgrad` package (src/); the rules only wire files together.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# Set by common.smk from the config (data_root, device, download); declared so that Snakemake
# passes them on to jobs on other machines.
envvars:
    "DUALGRAD_DATA_ROOT",
    "DUALGRAD_DEVICE",
    "DUALGRAD_DOWNLOAD",


wildcard_constraints:
    experiment=EXPERIMENTS,


if not config["figures_only"]:

    include: "workflow/rules/data.smk"
    include: "workflow/rules/train.smk"
    include: "workflow/rules/hysteresis.smk"


include: "workflow/rules/report_common.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


if config.get("compare_with"):

    include: "workflow/rules/compare.smk"


rule all:
    default_target: True
    input:
        report_targets(
            all_targets()
            + report_sections()
            + (
                [
                    f"{RESULTS}/comparison/cells.csv",
                    f"{RESULTS}/comparison/comparison.json",
                ]
                if config.get("compare_with")
                else []
            )
        ),


# Every run of every experiment, without tables or figures.
rule runs:
    input:
        [f"{RESULTS}/{path}.json" for path in PLAN.runs],
