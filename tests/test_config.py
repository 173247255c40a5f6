"""Parameter files: the shipped ones load, and bad ones fail with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspanalysis.config import DATA_ROOT_ENV, Params, load_params
from cspanalysis.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "params").glob("*/*.yaml"))

MINIMAL = """\
name: Example
areas: {districts: [E06000038]}
police_uk: [{path: street}]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "street").mkdir()
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "partnership.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_parameter_files_validate_without_checking_paths():
    assert len([p for p in SHIPPED if "thames-valley" in str(p)]) == 18
    assert any("city-of-london" in str(p) for p in SHIPPED)
    for path in SHIPPED:
        params = load_params(path, check_paths=False)
        assert params.name
        assert params.areas.districts or params.areas.lsoas


def test_joint_partnerships_name_both_districts():
    joint = load_params(
        ROOT / "params/thames-valley/south-oxfordshire-and-vale-of-white-horse.yaml",
        check_paths=False,
    )
    assert joint.areas.districts == ["E07000179", "E07000180"]
    joint = load_params(
        ROOT / "params/thames-valley/chiltern-and-south-bucks.yaml", check_paths=False
    )
    assert joint.areas.districts == ["E07000005", "E07000006"]


def test_minimal_file_gets_documented_defaults(folder: Path):
    params = load_params(write(folder, MINIMAL))
    assert isinstance(params, Params)
    assert params.vintage == "2011"
    assert params.period_end == "latest"
    assert params.areas.include_unlocated is False
    # relative paths are relative to the file, and made absolute
    assert params.police_uk[0].path == (folder / "street").resolve()


def test_data_root_precedence(folder: Path, tmp_path_factory, monkeypatch):
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    c = tmp_path_factory.mktemp("c")
    for root in (a, b, c):
        (root / "street").mkdir()
    text = MINIMAL.replace("path: street", 'path: "{data_root}/street"')
    path = write(folder, f"data_root: {c}\n" + text)
    assert load_params(path).police_uk[0].path == c / "street"
    monkeypatch.setenv(DATA_ROOT_ENV, str(b))
    assert load_params(path).police_uk[0].path == b / "street"
    assert load_params(path, data_root=a).police_uk[0].path == a / "street"


def test_yaml_integers_are_accepted_where_codes_are_meant(folder: Path):
    path = write(folder, MINIMAL + "vintage: 2021\nperiod_end: 2019-02\n")
    params = load_params(path)
    assert params.vintage == "2021"


# (id, yaml text, regex the single message must match)
BAD_YAML = [
    (
        "unknown-top-key",
        MINIMAL + "colour: red\n",
        r"unknown key 'colour'; allowed keys there are name, code",
    ),
    (
        "unknown-nested-key",
        MINIMAL.replace("districts", "district"),
        r"unknown key 'areas.district'; allowed keys there are districts, lsoas, include_unlocated",
    ),
    (
        "wrong-type",
        MINIMAL + "areas: {districts: [E06000038], include_unlocated: maybe}\n",
        r"'areas.include_unlocated' should be true or false",
    ),
    (
        "bad-vintage",
        MINIMAL + "vintage: 2015\n",
        r"'vintage' is '2015'; allowed values are '2011' or '2021'",
    ),
    (
        "bad-period-end",
        MINIMAL + "period_end: June 2019\n",
        r"'period_end'.*'latest' or a month written YYYY-MM",
    ),
    ("missing-name", MINIMAL.replace("name: Example\n", ""), r"required key 'name' is missing"),
    ("no-areas", "name: X\npolice_uk: [{path: street}]\n", r"required key 'areas' is missing"),
    (
        "empty-areas",
        MINIMAL.replace("{districts: [E06000038]}", "{districts: []}"),
        r"give the partnership's 'districts' or its 'lsoas'",
    ),
    (
        "missing-path",
        MINIMAL.replace("path: street", "path: nowhere"),
        r"police_uk\[0\]\.path: '.*nowhere' does not exist",
    ),
    (
        "data-root-not-given",
        MINIMAL.replace("path: street", 'path: "{data_root}/street"'),
        r"uses \{data_root\} but no data root was given; pass --data-root",
    ),
    ("not-yaml", "name: [unclosed\n", r"is not valid YAML at line"),
    ("not-a-mapping", "- just\n- a list\n", r"must be a YAML mapping"),
    (
        "target-bad-direction",
        MINIMAL + "targets: [{indicator: Burglary, baseline: 404, target: 392, direction: down}]\n",
        r"'targets\[0\]\.direction' is 'down'; allowed values are 'increase' or 'decrease'",
    ),
    (
        "intervention-bad-month",
        MINIMAL + "interventions: [{name: Park, start: 2019/04, target: {lsoas: [E01000001]}}]\n",
        r"'2019/04' is not a month; write it as YYYY-MM",
    ),
    (
        "intervention-two-targets",
        MINIMAL
        + "interventions: [{name: P, start: 2019-04, "
        + "target: {lsoas: [E01000001], point: [1, 2], radius: 5}}]\n",
        r"give exactly one of 'lsoas', 'polygon' or 'point'",
    ),
]


@pytest.mark.parametrize(
    ("text", "pattern"), [c[1:] for c in BAD_YAML], ids=[c[0] for c in BAD_YAML]
)
def test_bad_parameter_file_gives_one_clear_sentence(folder: Path, text: str, pattern: str):
    path = write(folder, text)
    with pytest.raises(InputError, match=pattern) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(str(path)) or message.startswith("partnership.yaml")
    assert "\n" not in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_non_utf8_parameter_file(folder: Path):
    path = folder / "p.yaml"
    path.write_bytes(b"name: Caf\xe9\nareas: {districts: [E06000038]}\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_params(path)


def test_missing_parameter_file(tmp_path: Path):
    with pytest.raises(InputError, match="parameter file not found"):
        load_params(tmp_path / "nope.yaml")
