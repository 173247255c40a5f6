"""The ``cspanalysis`` command.

Commands
--------
``validate PARAMS...``  check parameter files and their data; print coverage and data quality
``fetch URL``           download a police.uk archive or an ONS file (resume, checksum)
``demo-data``           write the fictional demo partnerships (with their ground truth)
``demo``                the main job: demo data, every demo partnership loaded, notebooks run
``batch PARAMS...``     every partnership × notebook in parallel, with index.html

Every command has ``--help``. Bad input prints one sentence and exits with
status 2; no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cspanalysis.batch import NotebookFailedError, run_notebooks
from cspanalysis.errors import InputError, OfflineError

app = typer.Typer(
    help="Strategic assessments, hotspots and intervention evaluation for Community Safety "
    "Partnerships. Run 'cspanalysis COMMAND --help' for each command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataRoot = Annotated[
    Path | None,
    typer.Option(
        "--data-root",
        help="Folder that {data_root} stands for in parameter files "
        "(default: $CSPANALYSIS_DATA, then the file's own data_root).",
    ),
]


def _fail(exc: Exception, code: int = 2) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@app.command()
def validate(
    params: Annotated[list[Path], typer.Argument(help="Parameter file(s) to check.")],
    data_root: DataRoot = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Parse everything afresh.")] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write the per-month quality table here.")
    ] = None,
) -> None:
    """Check parameter files and their data; print the coverage and data-quality summary.

    For each month and source: rows supplied, rows without a location, rows
    outside the partnership and rows in it. A month a source did not supply is
    reported as missing, never as zero.
    """
    from cspanalysis.data.partnership import load_partnership
    from cspanalysis.files import atomic_path

    failed = 0
    tables = []
    for path in params:
        try:
            data = load_partnership(path, data_root, use_cache=not no_cache)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        typer.echo(data.summary())
        table = quality_table(data)
        typer.echo(table.to_string(index=False))
        typer.echo("")
        tables.append(table.assign(partnership=data.name))
    if csv is not None and tables:
        with atomic_path(csv) as tmp:
            pd.concat(tables, ignore_index=True).to_csv(tmp, index=False)
    if failed:
        raise typer.Exit(2)


def quality_table(data) -> pd.DataFrame:
    """The per-month table ``validate`` prints: missing months say 'missing', not 0."""
    q = data.quality()
    out = pd.DataFrame({"source": q["source"], "month": q["month"].astype(str)})
    labels = {
        "rows": "rows",
        "rows_no_location": "no location",
        "rows_outside": "outside partnership",
        "rows_in_area": "in partnership",
    }
    for col, label in labels.items():
        out[label] = q[col].astype("object").where(q["status"] == "present", "missing")
    return out


@app.command()
def fetch(
    url: Annotated[
        str | None,
        typer.Argument(help="URL to download (police.uk archive, custom zip, ONS file)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder or file to save to.")] = Path(
        "data/downloads"
    ),
    police_uk_month: Annotated[
        str | None,
        typer.Option("--police-uk-month", help="Fetch the police.uk archive for YYYY-MM."),
    ] = None,
    sha256: Annotated[
        str | None,
        typer.Option("--sha256", help="Expected SHA-256; the file is rejected if different."),
    ] = None,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="Start again from zero.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Download a file with resume, checksum and a progress bar; say plainly when offline."""
    from cspanalysis.data.fetch import fetch as do_fetch
    from cspanalysis.data.fetch import policeuk_archive_url

    try:
        if police_uk_month:
            url = policeuk_archive_url(police_uk_month)
        if not url:
            raise InputError("give a URL or --police-uk-month YYYY-MM")
        path = do_fetch(url, out, sha256=sha256, resume=not no_resume, progress=not quiet)
    except OfflineError as exc:
        _fail(exc, 3)
    except InputError as exc:
        _fail(exc)
    typer.echo(str(path))


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = Path(
        "data/demo"
    ),
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: fixed).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Regenerate even if present.")] = False,
) -> None:
    """Write the fictional demo partnerships in real police.uk / ONS formats, with truth.json."""
    from cspanalysis.data import demo

    kwargs = {} if seed is None else {"seed": seed}
    if force:
        result = demo.generate_demo(out, **kwargs)
        typer.echo(f"wrote the demo data to {result.out_dir}")
    else:
        path = demo.ensure_demo(out, **kwargs)
        typer.echo(f"demo data ready in {path}")


@app.command("demo")
def demo_job(
    params_dir: Annotated[
        Path, typer.Option("--params", help="Folder of the demo parameter files.")
    ] = Path("params/demo"),
    data: Annotated[Path, typer.Option("--data", help="Demo data folder.")] = Path("data/demo"),
    out: Annotated[Path, typer.Option("--out", help="Where the executed notebooks go.")] = Path(
        "output/demo"
    ),
    notebooks: Annotated[
        Path, typer.Option("--notebooks", help="Folder of the analysis notebooks.")
    ] = Path("notebooks"),
    partnership: Annotated[
        str, typer.Option("--partnership", help="Demo parameter file whose notebooks are run.")
    ] = "northbrook",
    skip_notebooks: Annotated[
        bool, typer.Option("--skip-notebooks", help="Only load and summarise the data.")
    ] = False,
) -> None:
    """The main job on the demo: generate the data if absent, load and summarise every demo
    partnership, then run each analysis notebook for one of them with papermill."""
    from cspanalysis.data import demo
    from cspanalysis.data.partnership import load_partnership

    demo.ensure_demo(data)
    files = sorted(params_dir.glob("*.yaml"))
    if not files:
        _fail(InputError(f"no parameter files in {params_dir}"))
    for path in files:
        try:
            loaded = load_partnership(path, data)
        except InputError as exc:
            _fail(exc)
        typer.echo(loaded.summary())
        typer.echo("")
    if skip_notebooks:
        return
    chosen = params_dir / f"{partnership}.yaml"
    if not chosen.exists():
        _fail(InputError(f"no parameter file {chosen}; choose one of {[f.stem for f in files]}"))
    try:
        for produced in run_notebooks(chosen, data, notebooks, out / partnership):
            typer.echo(f"executed {produced}")
    except (InputError, NotebookFailedError) as exc:
        _fail(exc, 1)


@app.command("batch")
def batch(
    params: Annotated[
        list[Path] | None, typer.Argument(help="Parameter files, one per partnership.")
    ] = None,
    all_demo: Annotated[
        bool,
        typer.Option(
            "--all-demo",
            help="Add every demo parameter file (params/demo/*.yaml); the demo data is "
            "generated in data/demo if absent.",
        ),
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("output/batch"),
    notebooks: Annotated[
        Path, typer.Option("--notebooks", help="Folder of the analysis notebooks.")
    ] = Path("notebooks"),
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Parallel runs (default: one per CPU core).", min=1),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rerun everything, changed or not.")
    ] = False,
    data_root: DataRoot = None,
) -> None:
    """Run every notebook for every partnership, in parallel; write index.html.

    Runs whose notebook, parameter file and input files are unchanged since their
    last success are skipped; failed and stale ones are redone. A failing run never
    stops the others; the exit status is 1 if any run failed.
    """
    from cspanalysis.batch import run_batch

    files = list(params or [])
    if all_demo:
        from cspanalysis.data import demo

        demo_params = sorted(Path("params/demo").glob("*.yaml"))
        if not demo_params:
            _fail(
                InputError(
                    "--all-demo: no parameter files in params/demo; run it from the project folder"
                )
            )
        if data_root is None:
            demo.ensure_demo(Path("data/demo"))
        else:
            demo.ensure_demo(data_root)
        files += [p for p in demo_params if p not in files]
    if not files:
        _fail(InputError("give parameter files or --all-demo"))
    try:
        result = run_batch(
            files,
            notebooks_dir=notebooks,
            out_dir=out,
            data_root=data_root,
            workers=workers,
            force=force,
        )
    except InputError as exc:
        _fail(exc)
    counts = result.runs["status"].value_counts()
    typer.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "unchanged", "failed")))
    typer.echo(str(result.index))
    if not result.ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry point wrapper
    """Entry point that turns stray InputErrors into one-line messages."""
    try:
        app()
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
