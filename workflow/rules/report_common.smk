# What the HTML report shows: per experiment a results page (its numbers, verdicts and summary
# table) and generated figure captions, under a descriptive category ("P · architecture
# universality"). `snakemake --report` takes only results that exist and says what is missing.

from dualgrad.report import TITLES


def reporting():
    """True while Snakemake builds the report (`--report`), not while it runs jobs first."""
    args = sys.argv[1:]
    asked = any(a == "--report" or a.startswith("--report=") for a in args)
    return asked and "--report-after-run" not in args


REPORTING = reporting()


def category(experiment):
    return (
        f"{experiment} · {TITLES.get(PLAN.experiments[experiment].analysis, 'results')}"
    )


def report_section_files(experiment):
    return {
        "html": f"{RESULTS}/{experiment}/report/results.html",
        "captions": f"{RESULTS}/{experiment}/report/captions.json",
    }


def figure_captions(experiment):
    """The experiment's generated captions, read only while building the report (jobs never
    depend on them, so a new number does not rerun a figure)."""
    path = Path(report_section_files(experiment)["captions"])
    if REPORTING and path.is_file():
        return json.loads(path.read_text())
    return {}


def report_targets(targets):
    """All targets when running; when building the report, those that exist, and a word on the rest."""
    if not REPORTING:
        return targets
    have = [t for t in targets if Path(t).is_file()]
    missing = [t for t in targets if not Path(t).is_file()]
    if missing:
        print(
            f"report: {len(have)} of {len(targets)} results exist in {RESULTS}; the report shows "
            f"those. Missing ({len(missing)}), e.g. {', '.join(missing[:3])}. Run snakemake "
            "with the same config first (or --config figures_only=true on existing runs).",
            file=sys.stderr,
        )
    return have


def report_sections():
    files = []
    for name in PLAN.experiments:
        files += list(report_section_files(name).values())
    return files
