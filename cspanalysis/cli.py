"""The ``cspanalysis`` command.

Commands
--------
``validate PARAMS...``  check parameter files and their data; print coverage and data quality
``fetch URL``           download a police.uk archive or an ONS file (resume, checksum)
``demo-data``           write the fictional demo partnerships (with their ground truth)
``demo``                the main job: demo data, then the batch over every demo partnership
``run PARAMS``          one partnership's notebooks now, with HTML/DOCX/XLSX/GPKG drafts
``batch PARAMS...``     every partnership × notebook in parallel (or on Dask), with index.html

Every command has ``--help``. Bad input prints one sentence and exits with
status 2; no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

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


def _batch(files: list[Path], **options) -> None:
    """Run :func:`~cspanalysis.batch.run_batch`, print its summary and the path of its index;
    exit 2 on bad input, 1 if a run failed."""
    from cspanalysis.batch import run_batch

    try:
        result = run_batch(files, **options)
    except InputError as exc:
        _fail(exc)
    counts = result.runs["status"].value_counts()
    typer.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "unchanged", "failed")))
    for row in result.runs[result.runs["status"] == "failed"].itertuples():
        typer.echo(f"failed: {row.partnership} × {row.notebook}: {row.error}", err=True)
    typer.echo(f"index: {result.index}")
    if not result.ok:
        raise typer.Exit(1)


Workers = Annotated[
    int | None,
    typer.Option("--workers", help="Parallel runs (default: one per CPU core).", min=1),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on Dask: 'local' for a local cluster, or a scheduler address "
        "(tcp://host:8786) whose workers share this file system.",
    ),
]
Notebooks = Annotated[Path, typer.Option("--notebooks", help="Folder of the analysis notebooks.")]
Force = Annotated[bool, typer.Option("--force", help="Rerun everything, changed or not.")]


@app.command("demo")
def demo_job(
    params_dir: Annotated[
        Path, typer.Option("--params", help="Folder of the demo parameter files.")
    ] = Path("params/demo"),
    data: Annotated[Path, typer.Option("--data", help="Demo data folder.")] = Path("data/demo"),
    out: Annotated[Path, typer.Option("--out", help="Output folder of the batch.")] = Path(
        "output/demo"
    ),
    notebooks: Notebooks = Path("notebooks"),
    workers: Workers = None,
    force: Force = False,
) -> None:
    """The main job on the demo: generate the demo data if absent, then run the batch for
    every demo partnership (every notebook, with HTML, Word, Excel and GeoPackage drafts)
    and print the path of index.html."""
    from cspanalysis.data import demo

    demo.ensure_demo(data)
    files = sorted(params_dir.glob("*.yaml"))
    if not files:
        _fail(InputError(f"no parameter files in {params_dir}"))
    typer.echo(f"demo data in {data}; {len(files)} partnerships: {[f.stem for f in files]}")
    _batch(
        files, notebooks_dir=notebooks, out_dir=out, data_root=data, workers=workers, force=force
    )


@app.command("run")
def run(
    params: Annotated[Path, typer.Argument(help="The partnership's parameter file.")],
    notebook: Annotated[
        str,
        typer.Option(
            "--notebook", help="Notebook to run (its name, e.g. strategic_assessment), or all."
        ),
    ] = "all",
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("output"),
    notebooks: Notebooks = Path("notebooks"),
    data_root: DataRoot = None,
) -> None:
    """Run one partnership's notebook(s) now and write its drafts: the executed notebook,
    HTML, Word (.docx), Excel (.xlsx), GeoPackage and manifest.json, in OUT/<params name>/."""
    from cspanalysis.report.publish import DRAFT_SUFFIXES

    folder = out / params.stem

    def list_drafts(row: dict) -> None:
        if row["status"] != "failed":
            name = row["notebook"]
            drafts = [
                f"{name}{suffix}"
                for suffix in (".ipynb", *DRAFT_SUFFIXES)
                if (folder / f"{name}{suffix}").exists()
            ]
            typer.echo(f"{name}: {', '.join([*drafts, f'{name}/manifest.json'])} in {folder}")

    _batch(
        [params],
        notebooks_dir=notebooks,
        out_dir=out,
        data_root=data_root,
        workers=1,
        force=True,
        notebooks=None if notebook == "all" else [Path(notebook).stem],
        progress=list_drafts,
    )


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
    notebooks: Notebooks = Path("notebooks"),
    workers: Workers = None,
    force: Force = False,
    scheduler: Scheduler = None,
    data_root: DataRoot = None,
) -> None:
    """Run every notebook for every partnership, in parallel, with drafts; write index.html.

    Runs whose notebook, parameter file and input files are unchanged since their
    last success are skipped; failed and stale ones are redone. A failing run never
    stops the others; the exit status is 1 if any run failed.
    """
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
    _batch(
        files,
        notebooks_dir=notebooks,
        out_dir=out,
        data_root=data_root,
        workers=workers,
        force=force,
        scheduler=scheduler,
    )


def main() -> None:  # pragma: no cover - console entry point wrapper
    """Entry point that turns stray InputErrors into one-line messages."""
    try:
        app()
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
