"""Benchmark: police.uk street files through read_street, against the pyarrow CSV floor.

    python bench/ingest.py [--source DIR] [--months N] [--repeat R]

Measures, best of R runs each:

1. the floor: ``pyarrow.csv.read_csv`` of the same files (gzip decompression
   included, every column as text) - what any loader must at least pay;
2. the first load through :func:`cspanalysis.data.policeuk.read_street` with an
   empty cache (parse, checks, projection to EPSG:27700, cache write);
3. the cached load (the same call again).

and prints the times and the ratios first/floor and cached/first. The default
source is ``../shared/data/police_uk/thames-valley`` beside the repository.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from cspanalysis.data.policeuk import STREET_COLUMNS, StreetFile, find_street_files, read_street

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "police_uk" / "thames-valley"


def floor(files: list[StreetFile]) -> int:
    """Read every file with pyarrow alone (all columns as text); return the rows read."""
    rows = 0
    for street in files:
        raw = street.read_bytes()
        compression = "gzip" if raw[:2] == b"\x1f\x8b" else None
        table = pacsv.read_csv(
            pa.input_stream(pa.py_buffer(raw), compression=compression),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(STREET_COLUMNS, pa.string())
            ),
        )
        rows += table.num_rows
    return rows


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=None, help="folder, archive or file")
    parser.add_argument("--months", type=int, default=None, help="use only the first N months")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best)")
    args = parser.parse_args(argv)
    source = args.source or DEFAULT
    if not source.exists():
        print(
            f"{source} does not exist; pass --source, e.g. a folder of police.uk street files "
            "(or the demo data under data/demo/)",
            file=sys.stderr,
        )
        return 2
    files = find_street_files(source)
    if args.months is not None:
        months = sorted({f.month for f in files})[: args.months]
        files = [f for f in files if f.month in months]
    inputs = [f.path for f in files] if all(f.member is None for f in files) else source

    floor_time, rows = best_of(args.repeat, lambda: floor(files))

    def first_load() -> object:
        with tempfile.TemporaryDirectory() as cache:
            return read_street(inputs, cache_dir=cache)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first_time, _ = best_of(args.repeat, first_load)
        with tempfile.TemporaryDirectory() as cache:
            read_street(inputs, cache_dir=cache)
            cached_time, (incidents, _) = best_of(
                args.repeat, lambda: read_street(inputs, cache_dir=cache)
            )
    assert len(incidents) == rows, (len(incidents), rows)
    print(f"source: {source} ({len(files)} files, {rows:,} rows, best of {args.repeat})")
    print(f"floor  (pyarrow.csv.read_csv):  {floor_time:7.3f} s")
    print(f"first  (read_street, no cache): {first_time:7.3f} s")
    print(f"cached (read_street, cache):    {cached_time:7.3f} s")
    print(f"first / floor:  {first_time / floor_time:5.2f}")
    print(f"cached / first: {cached_time / first_time:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
