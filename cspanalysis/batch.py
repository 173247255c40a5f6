"""Batch runs: every partnership × notebook, in parallel, skipping what has not changed.

:func:`run_batch` turns parameter files into executed notebooks, one *run* per
partnership and notebook, in a process pool. Each run writes

* ``out_dir/<params stem>/<notebook>.ipynb`` — the executed notebook (its tables,
  figures and map layers go to ``out_dir/<stem>/<notebook>/``);
* ``<notebook>.html``, ``.docx``, ``.xlsx``, ``.gpkg`` beside it — the drafts, and
  ``<notebook>/manifest.json`` (see :func:`cspanalysis.report.publish_run`);
* ``out_dir/<stem>/<notebook>.log`` — papermill's log with the cell outputs;
* ``out_dir/<stem>/<notebook>.done.json`` — the run's content key, written only
  after the run and its drafts succeeded.

The kernel runs in ``out_dir/<stem>/`` and is given its parameters as paths
relative to it; absolute paths in printed text, warnings and tracebacks are
replaced (``{data_root}/…``, ``{elsewhere}/<name>``), so no output holds an
absolute path or a user name. Runs go to a process pool, or with
``scheduler=`` to a Dask distributed cluster.

The key combines the SHA-256 of the notebook, of the parameter file and of every
input file it names (folders expanded to their files), and the cspanalysis
version. A run whose key equals the stored one is skipped (``"unchanged"``);
failed or stale runs are redone, and ``force=True`` redoes everything.

A failing run — bad data, an exception in a notebook, a dead kernel, even a
worker process killed outright — never stops the others: it is recorded with
status ``"failed"``, a one-line error and the path of its executed notebook
(``<notebook>.failed.ipynb``). Each partnership gets a ``manifest.json``
(:mod:`cspanalysis.report.provenance`) and the batch an ``index.html`` listing
every run with its status; neither holds an absolute path or a user name.

Example
-------
>>> from cspanalysis.batch import run_batch                               # doctest: +SKIP
>>> result = run_batch(["params/demo/northbrook.yaml"], notebooks_dir="notebooks",
...                    out_dir="output/batch")                            # doctest: +SKIP
>>> result.ok, result.index                                               # doctest: +SKIP
(True, PosixPath('output/batch/index.html'))
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cspanalysis.errors import InputError
from cspanalysis.files import atomic_path, combined_key, sha256_file
from cspanalysis.report.index import PathScrubber, write_index
from cspanalysis.report.publish import DRAFT_SUFFIXES

__all__ = [
    "BatchResult",
    "NotebookFailedError",
    "run_batch",
    "run_notebook",
    "run_notebooks",
]

#: columns of :attr:`BatchResult.runs`
RUN_COLUMNS = ["partnership", "notebook", "status", "seconds", "error", "path"]


class NotebookFailedError(RuntimeError):
    """A notebook raised an error while papermill ran it."""


# --------------------------------------------------------------------------- one notebook


def run_notebook(
    notebook: Path,
    params_file: Path,
    data_root: Path | None,
    out: Path,
    *,
    log_output: bool = False,
) -> Path:
    """Execute one notebook for one parameter file with papermill.

    The executed notebook is written to ``out/<name>.ipynb`` (via a temporary
    file, so a failed run leaves no half-written notebook) and its tables and
    figures to ``out/<name>/``. Unknown parameter names are an
    :class:`~cspanalysis.errors.InputError`; a failing cell raises
    :class:`NotebookFailedError` and the executed notebook is kept as
    ``out/<name>.failed.ipynb``. ``data_root=None`` passes an empty
    ``data_root`` (the parameter file's own default).

    >>> run_notebook(Path("nb.ipynb"), Path("p.yaml"), None, Path("out"))  # doctest: +SKIP
    PosixPath('out/nb.ipynb')
    """
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.inspection import inspect_notebook

    notebook = Path(notebook)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    here = out.resolve()
    # paths relative to the kernel's folder (the run's folder), so that no absolute path
    # or user name is written into the executed notebook
    wanted = {
        "params_file": _relative(params_file, here),
        "data_root": "" if data_root is None else _relative(data_root, here),
        "output_dir": notebook.stem,
    }
    declared = set(inspect_notebook(str(notebook)))
    unknown = set(wanted) - declared
    if unknown:
        raise InputError(
            f"{notebook.name} has no parameter(s) {sorted(unknown)} in its parameters cell",
            path=notebook,
        )
    target = out / notebook.name
    scrub = PathScrubber(out, [Path(params_file)], None if data_root is None else Path(data_root))
    with atomic_path(target) as tmp:
        tmp_nb = tmp.with_suffix(".ipynb")
        try:
            papermill.execute_notebook(
                str(notebook),
                str(tmp_nb),
                parameters=wanted,
                cwd=str(here),
                kernel_name="python3",
                progress_bar=False,
                log_output=log_output,
                # the kernel's own start-up notices (e.g. about its loopback transport) are
                # noise in a batch's progress display; its errors still show
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
            _scrub_metadata(tmp_nb, notebook.name, target.name, scrub)
            tmp_nb.replace(tmp)
        except papermill.PapermillExecutionError as exc:
            failed = target.with_suffix(".failed.ipynb")
            _scrub_metadata(tmp_nb, notebook.name, failed.name, scrub)
            tmp_nb.replace(failed)
            raise NotebookFailedError(
                f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                f"(the executed notebook is kept at {failed})"
            ) from None
        except DeadKernelError:
            kept = ""
            if tmp_nb.exists():  # papermill saves as it goes: keep what ran before the death
                tmp_nb.replace(failed := target.with_suffix(".failed.ipynb"))
                kept = f" (the executed notebook is kept at {failed})"
            raise NotebookFailedError(
                f"{notebook.name}: the kernel died while running it (killed, or out of "
                f"memory){kept}"
            ) from None
        finally:
            tmp_nb.unlink(missing_ok=True)
    return target


def _relative(path: str | Path, start: Path) -> str:
    """``path`` relative to ``start`` (absolute when on another drive)."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), start)).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def _scrub_metadata(path: Path, source: str, target: str, scrub: PathScrubber) -> None:
    """Take absolute paths out of an executed notebook: papermill's input and output
    paths become file names, and paths in printed text, warnings and tracebacks are
    replaced as :class:`~cspanalysis.report.index.PathScrubber` does."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    if "input_path" in meta:
        meta["input_path"] = source
    if "output_path" in meta:
        meta["output_path"] = target
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = scrub.text(output["text"])
            elif output.get("output_type") == "error":
                output["traceback"] = [scrub.text(line) for line in output["traceback"]]
                output["evalue"] = scrub.text(output["evalue"])
    nbformat.write(nb, path)


def run_notebooks(
    params_file: Path, data_root: Path | None, notebooks: Path, out: Path
) -> list[Path]:
    """Execute every notebook in ``notebooks`` for one parameter file, in name order.

    See :func:`run_notebook`; the first failure stops the loop and is raised.

    >>> run_notebooks(Path("p.yaml"), Path("data"), Path("notebooks"),
    ...               Path("out"))  # doctest: +SKIP
    [PosixPath('out/hotspot_mapping.ipynb'), ...]
    """
    sources = sorted(Path(notebooks).glob("*.ipynb"))
    if not sources:
        raise InputError(f"no notebooks in {notebooks}", path=notebooks)
    return [run_notebook(nb, params_file, data_root, out) for nb in sources]


# --------------------------------------------------------------------------- batch


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    runs
        One row per partnership × notebook: ``partnership`` (parameter file
        stem), ``notebook`` (stem), ``status`` (``"done"``, ``"unchanged"`` or
        ``"failed"``), ``seconds`` (0 for unchanged runs), ``error`` (one line,
        empty unless failed) and ``path`` (the executed notebook: ``.ipynb``, or
        ``.failed.ipynb`` when one was kept, else None).
    index
        The batch's ``index.html``.
    """

    runs: pd.DataFrame
    index: Path
    manifests: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return bool((self.runs["status"] != "failed").all())


@dataclass(frozen=True)
class _Job:
    partnership: str
    params_file: Path
    notebook: Path
    data_root: Path | None
    folder: Path
    key: str | None
    key_error: str | None = None
    drafts: bool = True

    @property
    def name(self) -> str:
        return self.notebook.stem

    @property
    def done_file(self) -> Path:
        return self.folder / f"{self.name}.done.json"

    @property
    def target(self) -> Path:
        return self.folder / f"{self.name}.ipynb"

    @property
    def failed_copy(self) -> Path:
        return self.folder / f"{self.name}.failed.ipynb"


def run_batch(
    params_files: Iterable[str | Path],
    *,
    notebooks_dir: str | Path,
    out_dir: str | Path,
    data_root: str | Path | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: bool | Callable[[dict], None] = True,
    notebooks: Sequence[str] | None = None,
    drafts: bool = True,
    scheduler: str | None = None,
) -> BatchResult:
    """Run every notebook for every parameter file; skip runs whose inputs are unchanged.

    Parameters
    ----------
    params_files
        Parameter files, one per partnership; their stems name the output folders
        (so they must differ).
    notebooks_dir
        Folder of the ``*.ipynb`` notebooks; each takes the parameters
        ``params_file``, ``data_root`` and ``output_dir``.
    out_dir
        Where ``<stem>/<notebook>.ipynb``, the logs, manifests and ``index.html`` go.
    data_root
        Value for ``{data_root}`` in the parameter files; default: each file's own.
    workers
        Size of the process pool (or of the local Dask cluster); default
        ``os.cpu_count()``. ``1`` runs every job in this process, one after another.
    force
        Rerun every run, changed or not.
    progress
        True: a progress bar and one line per finished run on stderr; a callable:
        called with each finished run's row; False: silent.
    notebooks
        Names (stems) of the notebooks to run; default: every notebook in
        ``notebooks_dir``.
    drafts
        Write each run's drafts (HTML, DOCX, XLSX, GPKG) and manifest; False runs
        the notebooks only.
    scheduler
        Run on a Dask distributed cluster instead of the process pool:
        ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded
        worker processes on this machine; any other value is the address of a
        running scheduler (``tcp://host:8786``), whose workers must have
        cspanalysis installed and see the same files at the same paths (a
        shared file system). Needs ``pip install cspanalysis[dask]``.

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> result = run_batch(["params/demo/northbrook.yaml"], notebooks_dir="notebooks",
    ...                    out_dir="output/batch", workers=1)          # doctest: +SKIP
    >>> result.runs[["partnership", "notebook", "status"]]            # doctest: +SKIP
    """
    params_files = [Path(p) for p in params_files]
    notebooks_dir = Path(notebooks_dir)
    out_dir = Path(out_dir)
    root = None if data_root is None else Path(data_root)
    available = sorted(notebooks_dir.glob("*.ipynb"))
    if not available:
        raise InputError(f"no notebooks in {notebooks_dir}", path=notebooks_dir)
    if notebooks is None:
        chosen = available
    else:
        by_name = {nb.stem: nb for nb in available}
        unknown = [n for n in notebooks if n not in by_name]
        if unknown:
            raise InputError(
                f"no notebook(s) {unknown} in {notebooks_dir}; choose from {sorted(by_name)}"
            )
        chosen = [by_name[n] for n in dict.fromkeys(notebooks)]
    if not params_files:
        raise InputError("no parameter files given")
    stems = [p.stem for p in params_files]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise InputError(
            f"parameter files share the name(s) {clash}; their outputs would overwrite "
            "each other: rename them"
        )
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise InputError(f"workers must be 1 or more, not {workers}")

    jobs = _plan(params_files, chosen, out_dir, root, drafts)
    rows: list[dict] = []
    report = _reporter(progress, len(jobs))
    todo = []
    for job in jobs:
        if job.key_error is not None:
            rows.append(_row(job, "failed", 0.0, job.key_error, None))
            report(rows[-1])
        elif not force and _is_unchanged(job):
            rows.append(_row(job, "unchanged", 0.0, "", job.target))
            report(rows[-1])
        else:
            todo.append(job)
    started = datetime.now(UTC)
    if scheduler is not None and todo:
        rows += _run_dask(todo, scheduler, workers, report)
    elif workers == 1 or len(todo) <= 1:
        for job in todo:
            rows.append(_run_job(job))
            report(rows[-1])
    else:
        rows += _run_pool(todo, workers, report)
    finished = datetime.now(UTC)

    order = {(j.partnership, j.name): i for i, j in enumerate(jobs)}
    rows.sort(key=lambda r: order[(r["partnership"], r["notebook"])])
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    manifests = _write_manifests(params_files, jobs, runs, chosen, root, started, finished)
    index = write_index(runs, out_dir, params_files=params_files, data_root=root)
    report(None)
    return BatchResult(runs=runs, index=index, manifests=manifests)


# --------------------------------------------------------------------------- planning


def _plan(
    params_files: Sequence[Path],
    notebooks: Sequence[Path],
    out_dir: Path,
    root: Path | None,
    drafts: bool = True,
) -> list[_Job]:
    """One job per partnership × notebook, with its content key (hashes memoised)."""
    from cspanalysis import __version__
    from cspanalysis.config import iter_data_paths, load_params

    hashes: dict[Path, str] = {}

    def digest(path: Path) -> str:
        path = path.resolve()
        if path not in hashes:
            hashes[path] = sha256_file(path)
        return hashes[path]

    nb_hashes = {nb: digest(nb) for nb in notebooks}
    jobs = []
    for params_file in params_files:
        folder = out_dir / params_file.stem
        parts: list[str] | None = None
        error = None
        try:
            params = load_params(params_file, root)
            parts = [digest(params_file)]
            for key, path in iter_data_paths(params):
                path = Path(path)
                files = (
                    sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
                )
                for f in files:
                    name = f.relative_to(path).as_posix() if path.is_dir() else ""
                    parts += [key, name, digest(f)]
            parts += [__version__, f"drafts={drafts}"]
        except InputError as exc:
            error = _one_line(exc)
        except OSError as exc:
            error = f"{params_file.name}: cannot read an input file: {exc}"
        for nb in notebooks:
            key = None if parts is None else combined_key([nb_hashes[nb], *parts])
            jobs.append(_Job(params_file.stem, params_file, nb, root, folder, key, error, drafts))
    return jobs


def _is_unchanged(job: _Job) -> bool:
    try:
        stored = json.loads(job.done_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(stored, dict) and stored.get("key") == job.key and job.target.exists()


# --------------------------------------------------------------------------- running


def _run_job(job: _Job) -> dict:
    """Run one job; never raises. Runs in a worker process (or in this one)."""
    job.folder.mkdir(parents=True, exist_ok=True)
    job.done_file.unlink(missing_ok=True)
    _remove_leftovers(job)
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    error = ""
    with _run_log(job) as log:
        try:
            executed = run_notebook(
                job.notebook, job.params_file, job.data_root, job.folder, log_output=True
            )
        except Exception as exc:  # every failure is recorded; none stops the batch
            error = _one_line(exc)
            log.error("run failed: %s\n%s", error, traceback.format_exc())
        else:
            log.info("notebook finished")
            if job.drafts:
                try:
                    written = _publish(job, executed, started)
                except Exception as exc:
                    error = "the notebook ran but its drafts could not be written: " + (
                        _one_line(exc)
                    )
                    log.error("%s\n%s", error, traceback.format_exc())
                else:
                    log.info("drafts written: %s", ", ".join(p.name for p in written))
            if not error:
                log.info("run finished")
    seconds = round(time.perf_counter() - t0, 3)
    if error:
        # the notebook and drafts from an earlier, successful run no longer match the inputs
        job.target.unlink(missing_ok=True)
        for suffix in DRAFT_SUFFIXES:
            job.target.with_suffix(suffix).unlink(missing_ok=True)
        path = job.failed_copy if job.failed_copy.exists() else None
        return _row(job, "failed", seconds, error, path)
    job.failed_copy.unlink(missing_ok=True)
    done = {"key": job.key, "finished": datetime.now(UTC).isoformat(), "seconds": seconds}
    with atomic_path(job.done_file) as tmp:
        tmp.write_text(json.dumps(done, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return _row(job, "done", seconds, "", job.target)


def _remove_leftovers(job: _Job) -> None:
    """Delete the temporary files a killed earlier attempt of this run left behind.

    Outputs are written to ``.<name>.<random>.part`` and renamed when complete
    (:func:`cspanalysis.files.atomic_path`); a process killed outright (SIGKILL,
    out of memory) cannot remove its own, so the next attempt does.
    """
    leftovers = [*job.folder.glob(f".{job.name}.*.part"), job.folder / f"{job.name}.log.part"]
    run_dir = job.folder / job.name
    if run_dir.is_dir():
        leftovers += run_dir.rglob(".*.part")
    for path in leftovers:
        path.unlink(missing_ok=True)


def _publish(job: _Job, executed: Path, started: datetime) -> list[Path]:
    """The run's drafts (HTML, DOCX, XLSX, GPKG) and manifest."""
    from cspanalysis.config import load_params
    from cspanalysis.report.publish import publish_run

    params = load_params(job.params_file, job.data_root)
    return publish_run(
        executed, params, inputs=[job.notebook], started=started, finished=datetime.now(UTC)
    )


@contextlib.contextmanager
def _run_log(job: _Job) -> Iterator[logging.Logger]:
    """Send papermill's log (cell outputs included) to ``<notebook>.log``.

    The log is written to ``<notebook>.log.part`` and renamed when the run ends,
    failed or not; a ``.part`` left behind means the run was interrupted.
    """
    final = job.folder / f"{job.name}.log"
    part = final.with_name(final.name + ".part")
    handler = logging.FileHandler(part, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger("papermill"), logging.getLogger("cspanalysis.batch")]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    log = loggers[1]
    log.info("run %s × %s (key %s)", job.partnership, job.notebook.name, job.key)
    try:
        yield log
    finally:
        for lg, level, propagate in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
        handler.close()
        scrub = PathScrubber(job.folder, [job.params_file], job.data_root)
        text = part.read_text(encoding="utf-8", errors="replace")
        part.write_text(scrub.text(text), encoding="utf-8")
        os.replace(part, final)


def _run_pool(todo: list[_Job], workers: int, report: Callable) -> list[dict]:
    """Run jobs in a process pool; jobs lost to a dead worker are retried one at a time.

    When a worker process dies (killed, out of memory) the pool breaks and every
    unfinished job fails with :class:`BrokenProcessPool`. Each of those is then
    retried alone in a fresh one-worker pool, so only the job that kills its
    worker is recorded as failed.
    """
    rows = []
    lost: list[_Job] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        futures: dict[Future, _Job] = {pool.submit(_run_job, job): job for job in todo}
        for future in as_completed(futures):
            job = futures[future]
            try:
                rows.append(future.result())
            except BrokenProcessPool:
                lost.append(job)
                continue
            except Exception as exc:  # e.g. a job that could not be sent to a worker
                rows.append(_row(job, "failed", 0.0, _one_line(exc), None))
            report(rows[-1])
    for job in lost:
        try:
            with ProcessPoolExecutor(max_workers=1) as pool:
                row = pool.submit(_run_job, job).result()
        except BrokenProcessPool:
            row = _row(
                job,
                "failed",
                0.0,
                "the worker process running it died (killed or out of memory)",
                job.failed_copy if job.failed_copy.exists() else None,
            )
        rows.append(row)
        report(row)
    return rows


def _run_dask(todo: list[_Job], scheduler: str, workers: int, report: Callable) -> list[dict]:
    """Run jobs on a Dask distributed cluster (a new local one, or one at an address).

    Each job is one task (``pure=False``, so nothing is cached between batches);
    a worker that dies takes its task with it and Dask retries it elsewhere, up
    to the scheduler's ``allowed-failures``; a task that still fails is
    recorded as failed like any other.
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError(
            "--scheduler needs dask.distributed: pip install 'cspanalysis[dask]'"
        ) from None
    rows = []
    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=min(workers, len(todo)),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="30s"))
            except OSError as exc:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        futures = client.map(_run_job, todo, pure=False)
        jobs = dict(zip((f.key for f in futures), todo, strict=True))
        for future in as_completed(futures):
            job = jobs[future.key]
            try:
                row = future.result()
            except Exception as exc:  # a worker killed too often, a lost connection
                row = _row(job, "failed", 0.0, _one_line(exc), None)
            rows.append(row)
            report(row)
    return rows


def _row(job: _Job, status: str, seconds: float, error: str, path: Path | None) -> dict:
    return {
        "partnership": job.partnership,
        "notebook": job.name,
        "status": status,
        "seconds": seconds,
        "error": error,
        "path": None if path is None else path.resolve(),
    }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return (
        text
        if isinstance(exc, InputError | NotebookFailedError)
        else (f"{type(exc).__name__}: {text}")
    )


def _reporter(progress: bool | Callable[[dict], None], total: int) -> Callable:
    """A callable taking each finished row (None at the end)."""
    if callable(progress):
        return lambda row: None if row is None else progress(row)
    if not progress:
        return lambda row: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="run", desc="batch", leave=False)

    def report(row: dict | None) -> None:
        if row is None:
            bar.close()
            return
        line = f"{row['status']:>9}  {row['partnership']} × {row['notebook']}"
        if row["status"] != "unchanged":
            line += f"  ({row['seconds']:.1f} s)"
        if row["error"]:
            line += f"  {row['error']}"
        bar.write(line)
        bar.update(1)

    return report


# --------------------------------------------------------------------------- outputs


def _write_manifests(
    params_files: Sequence[Path],
    jobs: Sequence[_Job],
    runs: pd.DataFrame,
    notebooks: Sequence[Path],
    root: Path | None,
    started: datetime,
    finished: datetime,
) -> list[Path]:
    """A ``manifest.json`` per partnership that ran anything (skipped when all unchanged)."""
    from cspanalysis.config import load_params
    from cspanalysis.report.outputs import read_coverage
    from cspanalysis.report.provenance import build_manifest, write_manifest

    written = []
    for params_file in params_files:
        stem = params_file.stem
        mine = runs[runs["partnership"] == stem]
        folder = next(j.folder for j in jobs if j.partnership == stem)
        target = folder / "manifest.json"
        if (mine["status"] == "unchanged").all() and target.exists():
            continue
        outputs = [
            Path(p) for p, s in zip(mine["path"], mine["status"], strict=True) if s != "failed"
        ]
        try:
            params = load_params(params_file, root)
        except InputError:
            continue  # the parameter file itself is bad: the index says so
        recorded = (read_coverage(folder / nb.stem) for nb in notebooks)  # by the notebooks
        manifest = build_manifest(
            params,
            next((c for c in recorded if c is not None), None),
            inputs=notebooks,
            outputs=outputs,
            started=started,
            finished=finished,
            output_dir=folder,
        )
        write_manifest(manifest, target)
        written.append(target)
    return written
