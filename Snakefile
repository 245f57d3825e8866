# dualgrad — rebuild "Dual-Gradient Learning" under label noise from one DAG.
#
#   snakemake --cores all                                  # the paper, full scale (GPU advised)
#   snakemake --cores all --configfile config/demo.yaml    # whole DAG at demo scale, offline, CPU
#   snakemake --cores all --config figures_only=true       # tables and figures from existing runs
#   snakemake --report report.html                         # HTML report with every figure
#
# The workflow itself is workflow/Snakefile (the standard layout). This file only lets
# `snakemake` find it from the repository root with config.yaml, the file users edit; it uses
# the workflow as a module, exactly as another project or a snakedeploy deployment does.
# Logic lives in the `dualgrad` package (src/); the rules only wire files together.


configfile: "config.yaml"


module dualgrad:
    snakefile:
        "workflow/Snakefile"
    config:
        config


use rule * from dualgrad
