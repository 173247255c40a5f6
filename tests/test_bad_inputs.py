"""Bad input, one table: every case gets one clear message naming the file, and writes nothing.

Each case is one line of ``CASES``: an id, a *builder* (given an empty folder, it
writes the input there and returns the call to make), the exception or warning
expected, and a regular expression its message must match (it should name the
file, and the row and column where there is one). The test then checks that an
error leaves no file at all in the cache and that nothing was written beside
the inputs; a warning may leave only complete cache files.

To add a case, write its builder (or reuse ``street``) and append one line.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cspanalysis.data.policeuk import read_street
from cspanalysis.errors import DataQualityWarning, InputError

Builder = Callable[[Path], Callable[[], object]]

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
NAME = "2019-01-thames-valley-street.csv"
FILE = r"2019-01-thames-valley-street\.csv"


def line(
    month: str = "2019-01",
    lon: str = "-0.970400",
    lat: str = "51.993385",
    lsoa: str = "E01017648",
    crime_type: str = "Burglary",
    crime_id: str = "3f62",
) -> str:
    """One street-file row; every field can be overridden."""
    return (
        f"{crime_id},{month},Thames Valley Police,Thames Valley Police,{lon},{lat},"
        f"On or near Willow Drive,{lsoa},Aylesbury Vale 001A,{crime_type},Under investigation,"
    )


def text(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


GOOD = text(line(), line(crime_id="", crime_type="Anti-social behaviour"))


def street(
    data: bytes = GOOD, name: str = NAME, *, others: dict[str, bytes] | None = None, **kwargs
) -> Builder:
    """A folder with one street file ``name`` holding ``data`` (and ``others``); read the folder
    (or, with ``explicit=True``, the file itself) with ``read_street(**kwargs)``."""
    explicit = kwargs.pop("explicit", False)

    def build(folder: Path) -> Callable[[], object]:
        path = folder / name
        path.write_bytes(data)
        for other, content in (others or {}).items():
            (folder / other).parent.mkdir(parents=True, exist_ok=True)
            (folder / other).write_bytes(content)
        return lambda: read_street(path if explicit else folder, **kwargs)

    return build


def archive(members: dict[str, bytes]) -> Builder:
    """A police.uk-style archive .zip with ``members``, read in place."""

    def build(folder: Path) -> Callable[[], object]:
        path = folder / "2019-01.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for member, content in members.items():
                zf.writestr(member, content)
        return lambda: read_street(path)

    return build


def call(source: Callable[[Path], object], **kwargs) -> Builder:
    """Read ``source(folder)`` (after the builder has written nothing) with ``kwargs``."""
    return lambda folder: lambda: read_street(source(folder), **kwargs)


LOOKUP = pd.DataFrame(  # E01017648 unchanged; E01000001 split in two in 2021
    {
        "lsoa11_code": ["E01017648", "E01000001", "E01000001"],
        "lsoa21_code": ["E01017648", "E01099991", "E01099992"],
        "change_code": ["U", "S", "S"],
    }
)
OUTCOMES = HEADER.split(",Crime type")[0].encode() + b",Outcome type\n"
STOP_SEARCH = b"Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude\n"
CSV_GZ = NAME + ".gz"


# A tiny but complete partnership around the rows above (E01017648, Aylesbury Vale), for
# cases that go through the parameter file and load_partnership.
SQUARE = (
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    '{"lsoa11_code": "E01017648", "lsoa11_name": "Aylesbury Vale 001A"}, "geometry": '
    '{"type": "Polygon", "coordinates": [[[-1.0, 51.97], [-0.9, 51.97], [-0.9, 52.02], '
    "[-1.0, 52.02], [-1.0, 51.97]]]}}]}"
)
PARAMS = """\
name: Tiny
areas: {districts: [E07000004]}
police_uk: [{path: street}]
geography:
  boundaries: {path: lsoa.geojson}
  lookup: {path: lookup.csv}
"""


def partnership(yaml_text: str = PARAMS, data: bytes = GOOD) -> Builder:
    """A parameter file (``yaml_text``) beside a street folder and tiny geography; load it."""

    def build(folder: Path) -> Callable[[], object]:
        from cspanalysis.data.partnership import load_partnership

        (folder / "street").mkdir()
        (folder / "street" / NAME).write_bytes(data)
        (folder / "lsoa.geojson").write_text(SQUARE)
        (folder / "lookup.csv").write_text(
            "lsoa11_code,ltla19_code,ltla19_name\nE01017648,E07000004,Aylesbury Vale\n"
        )
        path = folder / "tiny.yaml"
        path.write_text(yaml_text)
        return lambda: load_partnership(path)

    return build


# fmt: off
CASES = [
    # id, builder, expected, message regex
    ("missing-column", street(text(line(), header=HEADER.replace(",Crime type", ""))), InputError, rf"{FILE}: the file has no 'Crime type' column"),  # noqa: E501
    ("outcomes-renamed", street(OUTCOMES + b"x,2019-01,a,b,1,51,c,E01017648,d,e\n"), InputError, rf"{FILE}: .*this is a police\.uk outcomes file"),  # noqa: E501
    ("stop-search-renamed", street(STOP_SEARCH), InputError, rf"{FILE}: .*stop-and-search file"),
    ("semicolons", street(HEADER.replace(",", ";").encode() + b"\n"), InputError, rf"{FILE}: .*not separated by commas"),  # noqa: E501
    ("repeated-column", street(text(line() + ",x", header=HEADER + ",Month")), InputError, rf"{FILE}: the header repeats column\(s\) 'Month'"),  # noqa: E501
    ("extra-column", street(text(line() + ",note", header=HEADER + ",Notes")), DataQualityWarning, rf"{FILE}: column\(s\) 'Notes' are not police\.uk street columns"),  # noqa: E501
    ("month-slash", street(text(line(month="2019/01"))), InputError, rf"{FILE}: row 2, column 'Month': '2019/01' is not a month"),  # noqa: E501
    ("month-excel", street(text(line(), line(month="Jan-19"), line(month="Jan-19"))), InputError, rf"{FILE}: row 3, column 'Month': 'Jan-19' is not a month.*\(1 more rows like it\).*Excel"),  # noqa: E501
    ("month-blank", street(text(line(), line(month=""))), InputError, rf"{FILE}: row 3, column 'Month': blank is not a month"),  # noqa: E501
    ("month-disagrees", street(text(line(), line(month="2019-02"))), InputError, rf"{FILE}: row 3, column 'Month': '2019-02' disagrees with the month in the file name \(2019-01\)"),  # noqa: E501
    ("empty-file", street(b""), InputError, rf"{FILE}: the file is empty"),
    ("header-only", street(text()), DataQualityWarning, rf"{FILE}: the file has a header but no rows.*counted as missing"),  # noqa: E501
    ("blank-line", street(GOOD + b"\n"), DataQualityWarning, rf"{FILE}: 1 row \(row 4\) is blank"),
    ("ragged-row", street(text(line(), "a,b,c")), InputError, rf"{FILE}: row 3 has 3 fields but the header has 12"),  # noqa: E501
    ("not-utf8", street(GOOD.replace(b"Willow", b"Will\xe9w", 1)), InputError, rf"{FILE}: row 2 is not UTF-8 text \(byte 0xe9\)"),  # noqa: E501
    ("not-utf8-row-3", street(text(line(), line(crime_type="CafeX")).replace(b"CafeX", b"Caf\xe9X")), InputError, rf"{FILE}: row 3 is not UTF-8"),  # noqa: E501
    ("truncated-gzip", street(gzip.compress(GOOD * 50)[:-40], CSV_GZ), InputError, rf"{FILE}\.gz: is not a complete gzip file"),  # noqa: E501
    ("gz-not-gzip", street(GOOD, CSV_GZ), InputError, rf"{FILE}\.gz: has a \.gz name but is not gzip-compressed"),  # noqa: E501
    ("coordinates-zero", street(text(line(), line(lon="0", lat="0"))), DataQualityWarning, rf"{FILE}: 1 row \(row 3\) has coordinates outside Great Britain"),  # noqa: E501
    ("coordinates-new-york", street(text(line(lon="-74.0", lat="40.7"))), DataQualityWarning, rf"{FILE}: 1 row \(row 2\) has coordinates outside Great Britain"),  # noqa: E501
    ("coordinates-swapped", street(text(line(lon="51.99", lat="-0.97"))), DataQualityWarning, rf"{FILE}: .*look swapped"),  # noqa: E501
    ("latitude-blank", street(text(line(lat=""))), DataQualityWarning, rf"{FILE}: 1 row \(row 2\) has .*only one of longitude and latitude"),  # noqa: E501
    ("coordinate-text", street(text(line(), line(lat="51.5N"))), InputError, rf"{FILE}: row 3, column 'Latitude': '51\.5N' is not a number"),  # noqa: E501
    ("lsoa-malformed", street(text(line(lsoa="E0101764"))), InputError, rf"{FILE}: row 2, column 'LSOA code': 'E0101764' is not an LSOA code"),  # noqa: E501
    ("lsoa-scottish", street(text(line(lsoa="S01006506"))), InputError, rf"{FILE}: row 2, column 'LSOA code'"),  # noqa: E501
    ("lsoa-unknown", street(text(line(), line(lsoa="E01999999")), lookup=LOOKUP), DataQualityWarning, rf"{FILE}: 1 row \(row 3\) has 2011 LSOA codes the ONS lookup does not know \(e\.g\. 'E01999999'\)"),  # noqa: E501
    ("lsoa-mixed-vintages", street(text(line(lsoa="E01000001"), line(lsoa="E01099992")), lookup=LOOKUP), InputError, rf"{FILE}: the LSOA codes mix both vintages"),  # noqa: E501
    ("lsoa-split-no-boundaries", street(text(line(lsoa="E01000001")), lookup=LOOKUP, vintage="2021"), DataQualityWarning, rf"{FILE}: 1 row \(row 2\) has a 2011 LSOA that became several 2021"),  # noqa: E501
    ("crime-type-blank", street(text(line(crime_type=""))), DataQualityWarning, rf"{FILE}: 1 row \(row 2\) has no 'Crime type'"),  # noqa: E501
    ("duplicate-month-different", street(GOOD, others={"2019-01/" + NAME: text(line())}), InputError, rf"{FILE}: thames-valley 2019-01 is also in .*2019-01/{FILE}, with different rows"),  # noqa: E501
    ("duplicate-month-identical", street(GOOD, others={CSV_GZ: gzip.compress(GOOD)}), DataQualityWarning, rf"thames-valley 2019-01 \(.*{FILE}, .*{FILE}\.gz\)"),  # noqa: E501
    ("zip-no-street-files", archive({"2019-01/2019-01-thames-valley-outcomes.csv": OUTCOMES}), InputError, r"2019-01\.zip: the archive holds no police\.uk street files"),  # noqa: E501
    ("zip-damaged", street(b"PK\x03\x04 not really a zip", "2019-01.zip", explicit=True), InputError, r"2019-01\.zip: is not a readable zip archive"),  # noqa: E501
    ("zip-member-bad-month", archive({"2019-01/" + NAME: text(line(month="2019-02"))}), InputError, rf"2019-01\.zip/2019-01/{FILE}: row 2, column 'Month'"),  # noqa: E501
    ("path-missing", call(lambda folder: folder / "nowhere"), InputError, r"nowhere: does not exist"),  # noqa: E501
    ("folder-no-street-files", street(b"a,b\n", "notes.csv"), InputError, r"in: the folder holds no police\.uk street files; expected files named YYYY-MM-<force>-street\.csv"),  # noqa: E501
    ("force-not-found", street(forces=["thames-vally"]), InputError, r"in: no street files for force\(s\) thames-vally; the files found are for thames-valley"),  # noqa: E501
    ("name-not-street", street(GOOD, "crimes-january.csv", explicit=True), InputError, r"crimes-january\.csv: is not named like a police\.uk street file"),  # noqa: E501
    ("name-outcomes", street(OUTCOMES, "2019-01-thames-valley-outcomes.csv", explicit=True), InputError, r"2019-01-thames-valley-outcomes\.csv: is a police\.uk outcomes file, which is not read"),  # noqa: E501
    ("name-month-13", street(GOOD, "2019-13-thames-valley-street.csv"), InputError, r"2019-13-thames-valley-street\.csv: the month in the file name \(2019-13\) is not a month"),  # noqa: E501
    # parameter files and load_partnership
    ("yaml-unknown-key", partnership(PARAMS + "colour: red\n"), InputError, r"tiny\.yaml: unknown key 'colour'; allowed keys there are"),  # noqa: E501
    ("yaml-wrong-type", partnership(PARAMS.replace("{districts: [E07000004]}", "{districts: [E07000004], include_unlocated: sometimes}")), InputError, r"tiny\.yaml: 'areas\.include_unlocated' should be true or false"),  # noqa: E501
    ("yaml-missing-path", partnership(PARAMS.replace("path: street", "path: streets")), InputError, r"tiny\.yaml: police_uk\[0\]\.path: '.*streets' does not exist"),  # noqa: E501
    ("yaml-no-geography", partnership(PARAMS.split("geography:")[0]), InputError, r"tiny\.yaml: the parameter file has no 'geography' section"),  # noqa: E501
    ("period-end-beyond-data", partnership(PARAMS + "period_end: 2020-06\n"), InputError, r"tiny\.yaml: period_end 2020-06 is after the latest month in the data \(2019-01\)"),  # noqa: E501
    ("unknown-district", partnership(PARAMS.replace("E07000004", "E07000999")), InputError, r"E07000999"),  # noqa: E501
    ("bad-street-file-via-params", partnership(data=text(line(month="2019/01"))), InputError, rf"{FILE}: row 2, column 'Month'"),  # noqa: E501
]
# fmt: on


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("build", "expected", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input(tmp_path: Path, build: Builder, expected: type, match: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    action = build(inputs)
    cache = Path(os.environ["CSPANALYSIS_CACHE"])  # the isolated cache of tests/conftest.py
    before, cached_before = _files(tmp_path), _files(cache)
    if issubclass(expected, Warning):
        with pytest.warns(expected, match=match) as record:
            action()
        message = next(str(w.message) for w in record if issubclass(w.category, expected))
    else:
        with pytest.raises(expected, match=match) as info:
            action()
        message = str(info.value)
        assert _files(cache) == cached_before, "an error must leave no cache file"
    assert "\n" not in message and "Traceback" not in message, message
    assert _files(tmp_path) == before, "nothing may be written beside the inputs"
    for name in set(_files(cache)) - set(cached_before):  # a warning: only complete cache files
        assert name.startswith("policeuk/") and name.endswith(".parquet"), name
        pq.read_table(cache / name)


def test_table_is_big_enough_and_ids_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)


def test_read_street_reads_the_good_file(tmp_path: Path) -> None:
    """The builder's valid file really is valid, so each case tests only its own defect."""
    (tmp_path / NAME).write_bytes(GOOD)
    incidents, _ = read_street(tmp_path)
    expected = pd.read_csv(io.BytesIO(GOOD), dtype=str)
    assert incidents["category"].tolist() == expected["Crime type"].tolist()
