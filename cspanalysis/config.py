"""Parameter files: one YAML file per partnership, validated before anything runs.

A parameter file says *which* partnership (its districts or LSOAs), *where*
its data are (police.uk folders or archives, partner tables, ONS geography),
and the settings later sections use (targets, peers, hotspots,
interventions). Paths may contain ``{data_root}``, which is taken, in order,
from the ``data_root`` argument (``--data-root`` on the command line), the
``CSPANALYSIS_DATA`` environment variable, or the file's own ``data_root``
key (relative to the file). Other relative paths are relative to the file.

Every problem is reported as one :class:`~cspanalysis.errors.InputError`
naming the file, the key path and what is allowed, for example::

    params/reading.yaml: unknown key 'areas.district'; allowed keys there are
    districts, lsoas, include_unlocated.

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "street").mkdir()
>>> _ = (folder / "p.yaml").write_text('''
... name: Example
... areas: {districts: [E06000038]}
... police_uk: [{path: street}]
... ''')
>>> params = load_params(folder / "p.yaml")
>>> params.name, params.vintage, params.period_end
('Example', '2011', 'latest')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cspanalysis.errors import InputError

DATA_ROOT_ENV = "CSPANALYSIS_DATA"
SALT_ENV = "CSPANALYSIS_SALT"
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _to_str(value: Any) -> Any:
    """YAML reads ``2011`` and ``2019-06`` loosely; accept numbers where codes are meant."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Code = Annotated[str, BeforeValidator(_to_str)]
Month = Annotated[str, BeforeValidator(_to_str)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


class TableSpec(_Model):
    """A table or spatial file, with optional column names (auto-detected when omitted)."""

    path: Path
    code_column: str | None = Field(None, description="column holding the LSOA code")
    name_column: str | None = Field(None, description="column holding the LSOA name")
    value_column: str | None = Field(
        None, description="column holding the value (population, households, decile)"
    )
    year: int | None = Field(None, description="keep only rows of this year (e.g. mid-year)")
    year_column: str | None = Field(None, description="column holding the year")


class LookupSpec(_Model):
    """LSOA → district (→ partnership) lookup."""

    path: Path
    lsoa_column: str | None = None
    district_column: str | None = None
    district_name_column: str | None = None
    partnership_column: str | None = None


class Geography(_Model):
    """Where the ONS geography for the partnership comes from."""

    boundaries: TableSpec
    lookup: LookupSpec
    vintage_lookup: Path | None = Field(
        None,
        description="ONS LSOA 2011 → LSOA 2021 lookup, needed when a source's "
        "LSOA vintage differs from the analysis vintage",
    )
    population: TableSpec | None = None
    households: TableSpec | None = None
    deprivation: TableSpec | None = None


class Areas(_Model):
    """The partnership: a set of districts, or an explicit list of LSOAs."""

    districts: list[Code] = Field(default_factory=list)
    lsoas: list[Code] = Field(default_factory=list)
    include_unlocated: bool = Field(
        False,
        description="count police.uk rows with no location in the partnership's totals; "
        "right only when the partnership covers the whole force area (City of London)",
    )

    @model_validator(mode="after")
    def _one_of(self) -> Areas:
        if not self.districts and not self.lsoas:
            raise ValueError("give the partnership's 'districts' or its 'lsoas' (a list of codes)")
        return self


class PoliceUkSource(_Model):
    """police.uk street files: a folder tree, a flat folder, an archive .zip or one file."""

    path: Path | list[Path]
    forces: list[str] | None = Field(
        None, description="force slugs to keep, e.g. thames-valley (default: all found)"
    )
    vintage: Literal["2011", "2021"] | None = Field(
        None, description="LSOA vintage of the files; default: detected from the codes"
    )

    _coerce_vintage = field_validator("vintage", mode="before")(
        classmethod(lambda cls, v: _to_str(v))
    )


class PartnerSource(_Model):
    """A partner dataset in the partner schema (see :mod:`cspanalysis.data.partner`)."""

    name: str
    path: Path
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="schema field → column in the file, for files whose headers differ",
    )
    about_people: bool = Field(
        True, description="rows describe people: small counts are suppressed in published tables"
    )
    vintage: Literal["2011", "2021"] | None = Field(
        None, description="LSOA vintage of the file's codes; default: detected from the codes"
    )

    _coerce_vintage = field_validator("vintage", mode="before")(
        classmethod(lambda cls, v: _to_str(v))
    )


class Privacy(_Model):
    """Pseudonymisation of partner person identifiers."""

    salt: str | None = Field(
        None, description="secret salt for hashing person ids; prefer salt_env"
    )
    salt_env: str = Field(SALT_ENV, description="environment variable holding the salt")

    def resolved_salt(self) -> str | None:
        """The salt: ``salt`` if given, else the environment variable, else None."""
        return self.salt if self.salt else os.environ.get(self.salt_env)


class Target(_Model):
    """One performance indicator with its baseline, target and good direction."""

    indicator: str
    baseline: float
    target: float
    direction: Literal["increase", "decrease"]
    category: str | None = None
    amber_tolerance: float = Field(
        0.05, ge=0, description="within this fraction of target (wrong side) is Amber"
    )


class Peers(_Model):
    """The peer group for comparisons."""

    params: list[Path] = Field(
        default_factory=list, description="parameter files of the peer partnerships"
    )
    auto: bool = Field(
        True, description="when no peers are given, choose them by population / deprivation"
    )
    n: int = Field(7, ge=1)


class Disclosure(_Model):
    """Disclosure control for published tables of partner data about people.

    See :func:`cspanalysis.report.suppress`: counts from 1 to ``threshold - 1`` are
    shown as ``"<threshold"`` with complementary suppression, or (``method:
    round``) every count is rounded to the nearest ``base``.
    """

    method: Literal["suppress", "round"] = "suppress"
    threshold: int = Field(5, ge=3, description="counts from 1 to threshold-1 are suppressed")
    base: int = Field(5, ge=1, description="rounding base for method: round")


class HotspotSettings(_Model):
    """Defaults for hotspot mapping (overridable in the notebook)."""

    categories: list[str] | None = None
    cell_size: float | None = Field(None, gt=0)
    bandwidth: float | None = Field(None, gt=0)
    shape: Literal["square", "hex"] = "square"


class InterventionTarget(_Model):
    """Where an intervention happened: LSOAs, a polygon file, or a point and radius."""

    lsoas: list[Code] = Field(default_factory=list)
    polygon: Path | None = None
    point: tuple[float, float] | None = Field(
        None, description="easting, northing in British National Grid metres"
    )
    radius: float | None = Field(None, gt=0, description="metres, with point")

    @model_validator(mode="after")
    def _one_of(self) -> InterventionTarget:
        given = [bool(self.lsoas), self.polygon is not None, self.point is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'lsoas', 'polygon' or 'point' (with 'radius')")
        if self.point is not None and self.radius is None:
            raise ValueError("'point' needs a 'radius' in metres")
        return self


class Intervention(_Model):
    """An intervention to evaluate."""

    name: str
    start: Month
    end: Month | None = None
    categories: list[str] | None = None
    target: InterventionTarget
    buffer: float = Field(400.0, ge=0, description="displacement buffer width in metres")
    control_lsoas: list[Code] | None = Field(
        None, description="control area; default: chosen automatically and reported"
    )

    @field_validator("start", "end")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None and not _MONTH_RE.match(value):
            raise ValueError(f"'{value}' is not a month; write it as YYYY-MM, e.g. 2019-04")
        return value


class PriorityWeights(_Model):
    """Weights of the five components of a candidate priority score (assessment.priorities)."""

    volume: float = Field(0.2, ge=0)
    trend: float = Field(0.2, ge=0)
    harm: float = Field(0.2, ge=0)
    peers: float = Field(0.2, ge=0)
    concentration: float = Field(0.2, ge=0)


class Params(_Model):
    """A validated parameter file. Paths are absolute after :func:`load_params`."""

    name: str = Field(description="the partnership's name as it appears in the draft")
    code: str | None = Field(None, description="CSP code, e.g. E22000309")
    data_root: Path | None = Field(
        None, description="default for {data_root}, relative to this file"
    )
    vintage: Literal["2011", "2021"] = Field("2011", description="LSOA vintage of the analysis")
    period_end: Month = Field("latest", description="'latest' or YYYY-MM")
    areas: Areas
    police_uk: list[PoliceUkSource] = Field(default_factory=list)
    partner: list[PartnerSource] = Field(default_factory=list)
    geography: Geography | None = None
    privacy: Privacy = Field(default_factory=Privacy)
    cache_dir: Path | None = None
    output_dir: Path | None = None
    targets: list[Target] = Field(default_factory=list)
    peers: Peers = Field(default_factory=Peers)
    hotspots: HotspotSettings = Field(default_factory=HotspotSettings)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    interventions: list[Intervention] = Field(default_factory=list)
    priorities: PriorityWeights = Field(default_factory=PriorityWeights)
    harm_weights: Path | None = Field(
        None, description="CSV of offence harm weights (default: the shipped data/harm_weights.csv)"
    )

    #: the file this was read from (set by :func:`load_params`)
    source_path: Path | None = Field(None, exclude=True)

    _coerce_vintage = field_validator("vintage", mode="before")(
        classmethod(lambda cls, v: _to_str(v))
    )

    @field_validator("period_end")
    @classmethod
    def _period_end(cls, value: str) -> str:
        if value != "latest" and not _MONTH_RE.match(value):
            raise ValueError(f"'{value}' is not 'latest' or a month written YYYY-MM")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Params:
        names = [p.name for p in self.partner]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"partner dataset names must be unique; repeated: {sorted(dup)}")
        inames = [i.name for i in self.interventions]
        dup = {n for n in inames if inames.count(n) > 1}
        if dup:
            raise ValueError(f"intervention names must be unique; repeated: {sorted(dup)}")
        return self


# --------------------------------------------------------------------------- loading


def load_params(
    path: str | Path | Params, data_root: str | Path | None = None, *, check_paths: bool = True
) -> Params:
    """Read, validate and resolve a parameter file.

    Parameters
    ----------
    path
        The YAML file (or an already-loaded :class:`Params`, returned as is).
    data_root
        Value for ``{data_root}`` in paths; default ``$CSPANALYSIS_DATA``, then
        the file's own ``data_root`` key.
    check_paths
        Check that every data path exists (default True).

    Raises
    ------
    InputError
        One sentence naming the file, the key path and what is allowed.
    """
    if isinstance(path, Params):
        return path
    path = Path(path)
    if not path.exists():
        raise InputError("parameter file not found; check the path", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("parameter file is not UTF-8 text; save it as UTF-8", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the parameter file ({exc.strerror})", path=path) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"is not valid YAML{where} ({problem})", path=path) from None
    if not isinstance(raw, dict):
        raise InputError(
            "a parameter file must be a YAML mapping of keys (name:, areas:, police_uk: …)",
            path=path,
        )
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_describe_validation_error(exc, raw), path=path) from None
    params.source_path = path.resolve()
    root = _resolve_data_root(params, path, data_root)
    _resolve_paths(params, path.resolve().parent, root, path)
    if check_paths:
        _check_paths(params, path)
    return params


def _resolve_data_root(params: Params, path: Path, data_root: str | Path | None) -> Path | None:
    if data_root is not None:
        return Path(data_root).expanduser().resolve()
    env = os.environ.get(DATA_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    if params.data_root is not None:
        root = params.data_root.expanduser()
        return (root if root.is_absolute() else path.resolve().parent / root).resolve()
    return None


def _resolve_paths(params: Params, base: Path, root: Path | None, path: Path) -> None:
    def fix(value: Path, key: str) -> Path:
        text = str(value)
        if "{data_root}" in text:
            if root is None:
                raise InputError(
                    f"{key} uses {{data_root}} but no data root was given; pass --data-root, "
                    f"set {DATA_ROOT_ENV}, or add a 'data_root:' key to the file",
                    path=path,
                )
            text = text.replace("{data_root}", str(root))
        p = Path(text).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    if params.data_root is not None or root is not None:
        params.data_root = root
    for i, src in enumerate(params.police_uk):
        if isinstance(src.path, list):
            src.path = [fix(p, f"police_uk[{i}].path[{j}]") for j, p in enumerate(src.path)]
        else:
            src.path = fix(src.path, f"police_uk[{i}].path")
    for i, partner in enumerate(params.partner):
        partner.path = fix(partner.path, f"partner[{i}].path")
    geo = params.geography
    if geo is not None:
        geo.boundaries.path = fix(geo.boundaries.path, "geography.boundaries.path")
        geo.lookup.path = fix(geo.lookup.path, "geography.lookup.path")
        if geo.vintage_lookup is not None:
            geo.vintage_lookup = fix(geo.vintage_lookup, "geography.vintage_lookup")
        for key in ("population", "households", "deprivation"):
            spec = getattr(geo, key)
            if spec is not None:
                spec.path = fix(spec.path, f"geography.{key}.path")
    if params.cache_dir is not None:
        params.cache_dir = fix(params.cache_dir, "cache_dir")
    if params.output_dir is not None:
        params.output_dir = fix(params.output_dir, "output_dir")
    if params.harm_weights is not None:
        params.harm_weights = fix(params.harm_weights, "harm_weights")
    params.peers.params = [fix(p, f"peers.params[{i}]") for i, p in enumerate(params.peers.params)]
    for i, iv in enumerate(params.interventions):
        if iv.target.polygon is not None:
            iv.target.polygon = fix(iv.target.polygon, f"interventions[{i}].target.polygon")


def iter_data_paths(params: Params) -> list[tuple[str, Path]]:
    """Every input path named by ``params`` with its key path, for checks and manifests."""
    out: list[tuple[str, Path]] = []
    for i, src in enumerate(params.police_uk):
        paths = src.path if isinstance(src.path, list) else [src.path]
        key = f"police_uk[{i}].path"
        out += [(key if len(paths) == 1 else f"{key}[{j}]", p) for j, p in enumerate(paths)]
    out += [(f"partner[{i}].path", p.path) for i, p in enumerate(params.partner)]
    geo = params.geography
    if geo is not None:
        out.append(("geography.boundaries.path", geo.boundaries.path))
        out.append(("geography.lookup.path", geo.lookup.path))
        if geo.vintage_lookup is not None:
            out.append(("geography.vintage_lookup", geo.vintage_lookup))
        for key in ("population", "households", "deprivation"):
            spec = getattr(geo, key)
            if spec is not None:
                out.append((f"geography.{key}.path", spec.path))
    out += [(f"peers.params[{i}]", p) for i, p in enumerate(params.peers.params)]
    if params.harm_weights is not None:
        out.append(("harm_weights", params.harm_weights))
    for i, iv in enumerate(params.interventions):
        if iv.target.polygon is not None:
            out.append((f"interventions[{i}].target.polygon", iv.target.polygon))
    return out


def _check_paths(params: Params, path: Path) -> None:
    for key, p in iter_data_paths(params):
        if not p.exists():
            raise InputError(
                f"{key}: '{p}' does not exist; check the path"
                + (" or the data root" if params.data_root is not None else ""),
                path=path,
            )


# --------------------------------------------------------------------------- messages


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that the key path ``loc`` points into (for 'allowed keys')."""
    model: Any = Params
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _public_keys(model: type[BaseModel]) -> list[str]:
    return [k for k, f in model.model_fields.items() if not f.exclude]


def _describe_one(err: dict[str, Any]) -> str:
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    where = _loc_text(loc)
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1]) if len(loc) > 1 else Params
        allowed = ", ".join(_public_keys(parent)) if parent else "see the documentation"
        return f"unknown key '{where}'; allowed keys there are {allowed}"
    if kind == "missing":
        return f"required key '{where}' is missing"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{where}' is {err.get('input')!r}; allowed values are {expected}"
    if kind.startswith("value_error") or kind == "assertion_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        return f"'{where}': {msg}" if loc else msg
    expected = {
        "string_type": "text",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "list_type": "a list (- item lines, or [a, b])",
        "dict_type": "a mapping of keys",
        "model_type": "a mapping of keys",
        "model_attributes_type": "a mapping of keys",
        "path_type": "a file path",
        "tuple_type": "a list of two numbers",
        "greater_than": "a number above " + str(err.get("ctx", {}).get("gt", "")),
        "greater_than_equal": "a number at least " + str(err.get("ctx", {}).get("ge", "")),
    }.get(kind)
    if expected:
        return f"'{where}' should be {expected}, not {err.get('input')!r}"
    return f"'{where}': {err.get('msg')}"


def _describe_validation_error(exc: ValidationError, raw: dict[str, Any]) -> str:
    errors = exc.errors()
    first = _describe_one(errors[0])
    if len(errors) > 1:
        first += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return first
