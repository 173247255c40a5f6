"""Benchmark: batch runs of notebooks - parallel speed-up and the batch's per-run overhead.

    python bench/batch.py [--n N] [--workers W] [--notebooks DIR] [--notebook NAME]
                          [--repeat K] [--quick]

Everything is written to a temporary folder (removed at the end); nothing is
saved in the repository except the demo data, generated into ``data/demo`` by
:func:`cspanalysis.data.demo.ensure_demo` when absent or stale. The parsed-data
cache (``CSPANALYSIS_CACHE``) is a temporary folder too, warmed by loading each
demo partnership once before anything is timed, so neither timing pays the
police.uk parse.

1. Parallel speed-up: ``--n`` partnerships (copies of ``params/demo/*.yaml``,
   renamed so their stems differ, reading the demo data through ``data_root``)
   x one notebook (``--notebook`` from ``--notebooks``, copied alone into a
   temporary folder; with ``--quick`` a tiny notebook that only loads the
   partnership) through :func:`cspanalysis.batch.run_batch` with ``force=True``,
   once with ``workers=1`` (sequential, the baseline) and once with
   ``--workers`` (default ``os.cpu_count()``), each into a fresh output
   folder. Prints wall times, runs per minute and sequential / parallel (the
   ideal is the number of workers, at most the number of cores).
2. Per-run overhead: an empty notebook (the parameters cell only), ``--repeat``
   times each, interleaved: through plain ``papermill.execute_notebook`` (the
   baseline) and through ``run_batch`` for one partnership (``workers=1``,
   ``force=True``). The difference of the medians is what the batch adds to a
   run: planning and hashing the inputs, the log, drafts, manifest and index.
   When ``run_batch`` takes ``drafts``, also without the drafts.
3. When ``run_batch`` takes ``scheduler`` and ``dask.distributed`` is
   importable: the parallel case again on ``scheduler="local"`` (a new
   ``LocalCluster``, whose start-up is counted), against the process pool; and
   the start-up of an idle ``LocalCluster`` alone, for scale.

The results are printed together at the end, on stdout; progress notes and the
kernels' own log lines go to stderr (``2>/dev/null`` leaves only the results).
On 2 cores the default takes about 3-5 minutes, ``--quick`` about one.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from cspanalysis.batch import run_batch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from tiny_notebooks import write_notebook  # noqa: E402  (the tests' notebook with parameters)

PACKAGES = [
    "cspanalysis",
    "papermill",
    "nbclient",
    "ipykernel",
    "nbconvert",
    "pandas",
    "geopandas",
    "dask",
    "distributed",
]
#: body of the --quick notebook: load the partnership (from the warm cache)
TINY_BODY = (
    "from cspanalysis.data.partnership import load_partnership\n"
    "data = load_partnership(params_file, data_root or None)\n"
    "print(data.params.name, len(data.incidents))"
)


def versions() -> str:
    """Python and package versions, one line."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (absent)")
    return f"python {platform.python_version()}; " + ", ".join(found)


def load() -> str:
    """The 1, 5 and 15 minute load averages (``?`` where the system has none)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def accepts(name: str) -> bool:
    """True when this checkout's ``run_batch`` has the keyword argument ``name``."""
    return name in inspect.signature(run_batch).parameters


def dask_available() -> bool:
    """True when ``dask.distributed`` can be imported."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        return False
    return True


def cluster_startup(workers: int) -> float:
    """Seconds to start and close an idle dask ``LocalCluster`` like run_batch's, with a client."""
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        pass
    return time.perf_counter() - t0


def make_params(source: Path, folder: Path, n: int) -> list[Path]:
    """``n`` renamed copies of the ``*.yaml`` in ``source`` (cycled), beside the originals.

    The originals are copied too, so that peer references between them still resolve.
    """
    folder.mkdir(parents=True)
    originals = sorted(source.glob("*.yaml"))
    if not originals:
        raise SystemExit(f"no parameter files in {source}")
    for p in originals:
        shutil.copy2(p, folder / p.name)
    copies = []
    for i in range(n):
        p = originals[i % len(originals)]
        copies.append(shutil.copy2(p, folder / f"{p.stem}_{i + 1:02d}.yaml"))
    return [Path(c) for c in copies]


def warm_cache(params_files: list[Path], data_root: Path) -> float:
    """Load each partnership once so that the parsed-data cache is full; return seconds."""
    from cspanalysis.data.partnership import load_partnership

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in params_files:
            load_partnership(p, data_root)
    return time.perf_counter() - t0


def timed_batch(params: list[Path], notebooks: Path, out: Path, **kwargs) -> tuple[float, object]:
    """Wall time of one ``run_batch`` (force=True, silent); exits when a run failed."""
    t0 = time.perf_counter()
    result = run_batch(
        params, notebooks_dir=notebooks, out_dir=out, force=True, progress=False, **kwargs
    )
    seconds = time.perf_counter() - t0
    if not result.ok:
        failed = result.runs[result.runs["status"] != "done"]
        for row in failed.itertuples():
            print(f"FAILED {row.partnership} x {row.notebook}: {row.error}", file=sys.stderr)
        raise SystemExit(1)
    return seconds, result


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (kernels, workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def median_of(repeat: int, runs: dict[str, Callable[[int], None]]) -> dict[str, list[float]]:
    """Times of each callable, ``repeat`` rounds, interleaved (so drift hits all alike)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(repeat):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run(i)
            times[name].append(time.perf_counter() - t0)
    return times


def say(message: str) -> None:
    """A progress note on stderr."""
    print(f"[bench] {message} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4, help="partnerships (runs) in the batch")
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel workers (default: cpu count)"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=ROOT / "notebooks", help="folder of the real notebooks"
    )
    parser.add_argument(
        "--notebook", default="strategic_assessment", help="which notebook (stem) to batch"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the overhead timing")
    parser.add_argument(
        "--quick", action="store_true", help="batch a tiny notebook instead (a smoke run)"
    )
    args = parser.parse_args(argv)
    cpus = os.cpu_count() or 1
    workers = args.workers or cpus
    if args.n < 1 or workers < 1 or args.repeat < 1:
        parser.error("--n, --workers and --repeat must be 1 or more")
    source_nb = args.notebooks / f"{args.notebook}.ipynb"
    if not args.quick and not source_nb.exists():
        print(f"{source_nb} does not exist; pass --notebooks and --notebook", file=sys.stderr)
        return 2

    from cspanalysis.data.demo import ensure_demo

    print(f"cpu count: {cpus}; {platform.platform()}")
    print(versions(), flush=True)
    print(f"load average at start: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cspanalysis-bench-batch-") as tmp:
        work = Path(tmp)
        os.environ["CSPANALYSIS_CACHE"] = str(work / "cache")
        demo = ensure_demo(ROOT / "data" / "demo")
        params = make_params(ROOT / "params" / "demo", work / "params", args.n)
        warm = warm_cache(sorted((ROOT / "params" / "demo").glob("*.yaml")), demo)
        nb_dir = work / "notebooks"
        nb_dir.mkdir()
        if args.quick:
            notebook = write_notebook(nb_dir / "tiny.ipynb", TINY_BODY)
        else:
            notebook = Path(shutil.copy2(source_nb, nb_dir / source_nb.name))
        empty_dir = work / "empty"
        empty_dir.mkdir()
        empty = write_notebook(empty_dir / "empty.ipynb", None)
        print(f"cache warmed in {warm:.1f} s (one load of each demo partnership)", flush=True)
        lines: list[str] = []  # the results, printed together at the end (kernels log to stderr)

        # ------------------------------------------------------------ 1. speed-up
        runs = args.n
        lines.append(f"1. speed-up: {runs} partnerships x {notebook.stem} (force=True)")
        # untimed: imports of the batch, papermill and the exporters into this process (which
        # the sequential case runs in, and forked pool workers inherit), the OS file cache
        say("warm-up: one run of the empty notebook")
        timed_batch(params[:1], empty_dir, work / "warm-up", data_root=demo, workers=1)
        say(f"timing {runs} runs of {notebook.stem}: sequential")
        cpu: dict[str, float] = {}
        c0 = cpu_seconds()
        seq, seq_result = timed_batch(params, nb_dir, work / "out-seq", data_root=demo, workers=1)
        cpu["seq"], c0 = cpu_seconds() - c0, cpu_seconds()
        say(f"timing {runs} runs of {notebook.stem}: process pool of {workers}")
        par, par_result = timed_batch(
            params, nb_dir, work / "out-par", data_root=demo, workers=workers
        )
        cpu["par"], c0 = cpu_seconds() - c0, cpu_seconds()
        rows = [
            ("sequential (workers=1)", seq, cpu["seq"], seq_result),
            (f"pool (workers={workers})", par, cpu["par"], par_result),
        ]
        dask_ok = accepts("scheduler") and dask_available()
        dask_error = ""
        if dask_ok:
            say(f"timing {runs} runs of {notebook.stem}: dask LocalCluster of {workers}")
            try:
                dsk, dsk_result = timed_batch(
                    params,
                    nb_dir,
                    work / "out-dask",
                    data_root=demo,
                    workers=workers,
                    scheduler="local",
                )
            except Exception as exc:  # report it, and still time the overhead
                dask_ok, dask_error = False, f"failed: {type(exc).__name__}: {exc}"
            else:
                rows.append(
                    (f"dask local (workers={workers})", dsk, cpu_seconds() - c0, dsk_result)
                )
                startup = cluster_startup(min(workers, runs))
        lines.append(
            f"   {'':30} {'wall s':>8} {'runs/min':>9} {'s/run':>6} {'cpu s':>7} {'our cores':>9}"
        )
        for label, wall, used, result in rows:
            per_run = float(result.runs["seconds"].mean())
            lines.append(
                f"   {label:30} {wall:8.1f} {runs / wall * 60:9.1f} {per_run:6.1f} {used:7.1f}"
                f" {used / wall:9.2f}"
            )
        lines.append("   (s/run: mean time of one run inside its worker; cpu s: this process and")
        lines.append("   the finished processes under it; our cores: cpu s / wall s - well below")
        lines.append("   the worker count means waiting, or other work on the machine)")
        ideal = min(workers, cpus, runs)
        lines.append(f"   sequential / pool:  {seq / par:5.2f}  (ideal {ideal})")
        if dask_ok:
            lines.append(f"   sequential / dask:  {seq / dsk:5.2f}")
            lines.append(f"   pool / dask:        {par / dsk:5.2f}  (> 1: dask faster)")
            lines.append(f"   (an idle LocalCluster alone starts and stops in {startup:.1f} s)")
        else:
            why = dask_error or (
                "skipped: run_batch has no 'scheduler'"
                if not accepts("scheduler")
                else "skipped: dask.distributed is not installed"
            )
            lines.append(f"   dask local: {why}")
        lines.append("")

        # ------------------------------------------------------------ 2. overhead
        import papermill

        one = params[:1]

        def plain(i: int) -> None:
            folder = work / "pm" / str(i)
            folder.mkdir(parents=True)
            papermill.execute_notebook(
                str(empty),
                str(folder / empty.name),
                parameters={
                    "params_file": os.path.relpath(one[0], folder),
                    "data_root": os.path.relpath(demo.resolve(), folder.resolve()),
                    "output_dir": empty.stem,
                },
                cwd=str(folder),
                kernel_name="python3",
                progress_bar=False,
            )

        def batch(drafts: bool) -> Callable[[int], None]:
            extra = {} if drafts or not accepts("drafts") else {"drafts": False}
            name = "batch" if drafts else "batch-nodrafts"

            def run(i: int) -> None:
                timed_batch(
                    one, empty_dir, work / name / str(i), data_root=demo, workers=1, **extra
                )

            return run

        say(f"timing the empty notebook, {args.repeat} rounds")
        plain(-1)  # untimed: kernel start-up paths and imports into the OS cache
        contenders = {"papermill": plain, "run_batch": batch(True)}
        if accepts("drafts"):
            contenders["run_batch drafts=False"] = batch(False)
        times = median_of(args.repeat, contenders)
        base = statistics.median(times["papermill"])
        lines.append(f"2. per-run overhead: empty notebook, median of {args.repeat}")
        lines.append(f"   {'':30} {'median s':>9} {'min s':>6} {'overhead s':>11} {'ratio':>6}")
        for label, ts in times.items():
            med = statistics.median(ts)
            lines.append(
                f"   {label:30} {med:9.2f} {min(ts):6.2f} {med - base:11.2f} {med / base:6.2f}"
            )
        lines.append("   (overhead and ratio: median against the papermill median)")
    lines.append(f"load average at end: {load()} (other work on the machine skews every ratio)")
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
