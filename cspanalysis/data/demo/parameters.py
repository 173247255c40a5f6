"""The planted truth of the demo partnerships: every number the generator uses, in one place.

Nothing here is random. The generator (:mod:`cspanalysis.data.demo.simulate`)
turns these settings into files, and :func:`cspanalysis.data.demo.generate_demo`
copies them into ``truth.json`` so that tests and later analyses can check that
they recover them.

Rates are loosely modelled on police.uk data for England and Wales around
2019 (about 90 crimes and ASB incidents per 1,000 residents a year, violence
and ASB the largest categories); outcome mixes are rounded from the real
Thames Valley files.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bump whenever a change makes the generated files differ for the same seed.
GENERATOR_VERSION = "2"
#: The default random seed (the Crime and Disorder Act that created CSPs).
DEFAULT_SEED = 1998
#: Seed of the fictional geography: fixed, so that params/demo/*.yaml fit every seed.
GEOGRAPHY_SEED = 20_240_401

FORCE_NAME = "Demo Constabulary"
FORCE_SLUG = "demo-constabulary"
PFA_CODE = "X23000001"


@dataclass(frozen=True)
class District:
    """A fictional district and its Community Safety Partnership."""

    code: str
    name: str
    csp_code: str
    csp_name: str
    n_lsoas: int


DISTRICTS: tuple[District, ...] = (
    District("X07000001", "Northbrook", "X22000001", "Northbrook", 78),
    District("X07000002", "Eastmere", "X22000002", "Eastmere", 40),
)

# Landmarks in British National Grid metres (inland England, around E 450000, N 200000).
TOWN_CENTRE = (447_800.0, 200_600.0)
EASTMERE_CENTRE = (457_000.0, 199_800.0)
PARK_CENTRE = (449_300.0, 201_400.0)
STATION = (446_950.0, 199_950.0)
MILLFIELD = (446_300.0, 201_900.0)
MARKET_STREET = ((447_600.0, 200_450.0), (448_150.0, 200_300.0))

#: Minimum distance (m) between a snap point and any boundary that decides what
#: happens to it (its LSOA, a hotspot, the park, the buffer). Larger than the
#: error of a BNG -> lon/lat (6 dp) -> BNG round trip, with or without OSTN15.
MARGIN_M = 15.0


@dataclass(frozen=True)
class Category:
    """The generating process of one police.uk crime type.

    Expected count per snap point and month (before hotspots and intervention)::

        base_rate / 12 * population / 1000 * deprivation_rr ** ((5.5 - decile) / 9)
        * exp(amplitude * cos(2 pi (calendar_month - peak_month) / 12))
        * exp(trend * years_since_start) * point_weight
    """

    name: str
    base_rate: float  # per 1,000 residents a year, at decile 5.5, t = 0, seasonal log-mean
    amplitude: float  # A_c, on the log scale
    peak_month: int  # 1..12
    trend: float  # beta_c, annual change on the log scale
    dispersion: float  # negative binomial alpha: variance = mu + alpha mu^2 (LSOA x month)
    no_location: float  # share published without location
    deprivation_rr: float  # rate ratio between decile 1 and decile 10


CATEGORIES: tuple[Category, ...] = (
    Category("Anti-social behaviour", 20.0, 0.20, 7, -0.06, 0.15, 0.08, 3.0),
    Category("Bicycle theft", 2.0, 0.30, 8, -0.04, 0.10, 0.08, 1.2),
    Category("Burglary", 5.5, 0.15, 12, -0.05, 0.10, 0.08, 2.0),
    Category("Criminal damage and arson", 8.0, 0.08, 10, -0.02, 0.10, 0.07, 2.5),
    Category("Drugs", 2.5, 0.05, 5, 0.00, 0.15, 0.07, 3.5),
    Category("Other crime", 1.6, 0.00, 1, 0.01, 0.10, 0.10, 2.0),
    Category("Other theft", 8.0, 0.06, 8, -0.02, 0.10, 0.10, 1.5),
    Category("Possession of weapons", 0.7, 0.06, 7, 0.04, 0.10, 0.06, 3.0),
    Category("Public order", 4.0, 0.10, 7, 0.03, 0.10, 0.07, 2.5),
    Category("Robbery", 0.8, 0.10, 12, 0.02, 0.10, 0.06, 3.0),
    Category("Shoplifting", 5.5, 0.06, 12, 0.06, 0.10, 0.12, 1.5),
    Category("Theft from the person", 1.2, 0.08, 12, 0.03, 0.10, 0.10, 1.5),
    Category("Vehicle crime", 7.0, 0.08, 11, -0.03, 0.12, 0.07, 1.5),
    Category("Violence and sexual offences", 26.0, 0.10, 7, 0.04, 0.08, 0.08, 3.0),
)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)

ASB = "Anti-social behaviour"
VIOLENCE = "Violence and sexual offences"
PUBLIC_ORDER = "Public order"


@dataclass(frozen=True)
class Hotspot:
    """A place where chosen categories are multiplied, always or from/until a month.

    ``area`` is ``"circle"`` (``centre``, ``radius``) or ``"park"`` (the park polygon).
    ``start_at`` / ``end_at`` are fractions of the period (None = open): the
    hotspot is active from month index ``round(start_at * months)`` and up to,
    not including, ``round(end_at * months)``.
    """

    name: str
    kind: str  # persistent | emerging | fading
    label: str
    categories: tuple[str, ...]
    multiplier: float
    area: str = "circle"
    centre: tuple[float, float] | None = None
    radius: float | None = None
    start_at: float | None = None
    end_at: float | None = None


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot(
        "northbrook-town-centre",
        "persistent",
        "night-time economy in Northbrook town centre",
        (ASB, VIOLENCE, PUBLIC_ORDER, "Theft from the person"),
        4.0,
        centre=TOWN_CENTRE,
        radius=400.0,
    ),
    Hotspot(
        "market-street",
        "persistent",
        "shoplifting and theft along the Market Street shops",
        ("Shoplifting", "Other theft"),
        5.0,
        centre=(447_875.0, 200_375.0),
        radius=250.0,
    ),
    Hotspot(
        "northbrook-park",
        "persistent",
        "disorder in Northbrook Park (the intervention's target)",
        (ASB, VIOLENCE, PUBLIC_ORDER, "Criminal damage and arson"),
        6.0,
        area="park",
    ),
    Hotspot(
        "millfield-emerging",
        "emerging",
        "ASB, damage and drugs emerging on the Millfield estate",
        (ASB, "Criminal damage and arson", "Drugs"),
        3.0,
        centre=MILLFIELD,
        radius=400.0,
        start_at=0.5,
    ),
    Hotspot(
        "station-fading",
        "fading",
        "vehicle crime and cycle theft at Northbrook station, ending",
        ("Vehicle crime", "Bicycle theft"),
        5.0,
        centre=STATION,
        radius=250.0,
        end_at=0.4,
    ),
    Hotspot(
        "eastmere-market-place",
        "persistent",
        "evening economy in Eastmere market place",
        (ASB, VIOLENCE, PUBLIC_ORDER),
        2.5,
        centre=EASTMERE_CENTRE,
        radius=300.0,
    ),
)


@dataclass(frozen=True)
class InterventionPlan:
    """The planted intervention: the park, from a month, with effects inside and around it."""

    name: str = "Northbrook Park improvements"
    description: str = "hedges cut back, new lighting and evening patrols in Northbrook Park"
    place: str = "Northbrook Park"
    polygon_file: str = "geography/northbrook_park.geojson"
    categories: tuple[str, ...] = (ASB, VIOLENCE, PUBLIC_ORDER)
    effect: float = 0.6
    buffer_m: float = 400.0
    #: The ring is busy: besides its ordinary streets (x ``buffer_effect_streets`` from the
    #: start) it has the terraces, flats and Park Road parade where the park's evening disorder
    #: spills over, adding ``busy_ring_extra`` x the ordinary expected count of ``categories``
    #: in every month (about 30 a month in the ring, not 15) and falling with the park
    #: (x ``busy_ring_effect``). The overall ring effect is :attr:`buffer_effect` (0.7). The
    #: busy streets' incidents are drawn from their own random stream, so they leave every
    #: other draw of a seed as it was.
    buffer_effect_streets: float = 0.8
    busy_ring_extra: float = 1.0
    busy_ring_effect: float = 0.6
    buffer_kind: str = "diffusion of benefit"
    pre_months: int = 42  # start = period start + 42 months (2022-10 for 2019-04), capped
    min_post_months: int = 12
    n_control: int = 15

    @property
    def buffer_multiplier(self) -> float:
        """How much busier the ring is than its ordinary streets alone (every month)."""
        return 1.0 + self.busy_ring_extra

    @property
    def buffer_effect(self) -> float:
        """The ring's overall effect: its expected count after / before, at every point."""
        total = self.buffer_effect_streets + self.busy_ring_extra * self.busy_ring_effect
        return round(total / self.buffer_multiplier, 9)


INTERVENTION = InterventionPlan()


@dataclass(frozen=True)
class NearRepeatPlan:
    """Near-repeat burglary: each burglary may bring another nearby in the same or next month."""

    category: str = "Burglary"
    probability: float = 0.15
    max_distance_m: float = 200.0
    lag_months: tuple[float, float] = (0.5, 0.5)  # P(same month), P(next month)


NEAR_REPEATS = NearRepeatPlan()


@dataclass(frozen=True)
class PartnerPlan:
    """Council ASB reports: the police ASB surface (hotspots and intervention included) x ratio."""

    name: str = "council-asb"
    file: str = "partner/council_asb.csv"
    district: str = "X07000001"
    ratio_to_police_asb: float = 0.6
    first_month_offset: int = 12  # the council began sharing a year into the period
    missing_month_offset: int = 44  # a case-system migration month: no file, so MISSING
    categories: tuple[tuple[str, float, str], ...] = (
        # (category, share, how located: lsoa | point)
        ("Noise", 0.32, "lsoa"),
        ("Fly-tipping", 0.24, "point"),
        ("Youth nuisance", 0.16, "point"),
        ("Neighbour dispute", 0.14, "lsoa"),
        ("Graffiti", 0.09, "point"),
        ("Abandoned vehicle", 0.05, "point"),
    )
    with_person: tuple[str, ...] = ("Noise", "Neighbour dispute")
    repeat_probability: float = 0.4
    no_location: float = 0.03
    jitter_m: float = 30.0


PARTNER = PartnerPlan()

#: Recent crimes are still "Under investigation": a crime k months before the last month has
#: that outcome with probability RECENT_UI * 0.5 ** (k / RECENT_HALF_LIFE), and otherwise an
#: outcome drawn from its category's settled mix (OUTCOMES).
RECENT_UI = 0.75
RECENT_HALF_LIFE = 3.0

_NO_SUSPECT = "Investigation complete; no suspect identified"
_UNABLE = "Unable to prosecute suspect"
_UI = "Under investigation"
_STATUS = "Status update unavailable"
_COURT_NA = "Court result unavailable"
_AWAIT = "Awaiting court outcome"
_CAUTION = "Offender given a caution"
_LOCAL = "Local resolution"
_FURTHER = "Further investigation is not in the public interest"
_OTHER_ORG = "Action to be taken by another organisation"
_PRISON = "Offender sent to prison"
_COMMUNITY = "Offender given community sentence"
_FINED = "Offender fined"
_ANOTHER = "Suspect charged as part of another case"
_SUSPENDED = "Offender given suspended prison sentence"
_NOT_GUILTY = "Defendant found not guilty"
_PENALTY = "Offender given penalty notice"
_DRUGS_WARNING = "Offender given a drugs possession warning"
_FORMAL = "Formal action is not in the public interest"
_CONDITIONAL = "Offender given conditional discharge"

#: Settled outcome mix per category (rounded from Thames Valley, 2018-19); ASB has none.
# fmt: off
OUTCOMES: dict[str, tuple[tuple[str, float], ...]] = {
    "Bicycle theft": (
        (_NO_SUSPECT, 0.89), (_UNABLE, 0.04), (_STATUS, 0.02), (_UI, 0.02), (_COURT_NA, 0.01),
        (_LOCAL, 0.01), (_CAUTION, 0.01),
    ),
    "Burglary": (
        (_NO_SUSPECT, 0.76), (_UNABLE, 0.11), (_STATUS, 0.03), (_COURT_NA, 0.03), (_UI, 0.03),
        (_PRISON, 0.01), (_ANOTHER, 0.01), (_CAUTION, 0.02),
    ),
    "Criminal damage and arson": (
        (_NO_SUSPECT, 0.67), (_UNABLE, 0.19), (_UI, 0.04), (_STATUS, 0.03), (_COURT_NA, 0.02),
        (_CAUTION, 0.015), (_LOCAL, 0.01), (_AWAIT, 0.01), (_FURTHER, 0.015),
    ),
    "Drugs": (
        (_COURT_NA, 0.17), (_UNABLE, 0.15), (_DRUGS_WARNING, 0.12), (_CAUTION, 0.10), (_UI, 0.10),
        (_STATUS, 0.08), (_LOCAL, 0.08), (_AWAIT, 0.03), (_PENALTY, 0.03), (_FURTHER, 0.03),
        (_NO_SUSPECT, 0.02), (_FINED, 0.03), (_PRISON, 0.02), (_FORMAL, 0.02), (_COMMUNITY, 0.02),
    ),
    "Other crime": (
        (_UNABLE, 0.33), (_NO_SUSPECT, 0.14), (_COURT_NA, 0.13), (_STATUS, 0.11), (_UI, 0.10),
        (_FURTHER, 0.09), (_OTHER_ORG, 0.04), (_AWAIT, 0.02), (_CAUTION, 0.01), (_PRISON, 0.01),
        (_COMMUNITY, 0.02),
    ),
    "Other theft": (
        (_NO_SUSPECT, 0.67), (_UNABLE, 0.22), (_STATUS, 0.04), (_UI, 0.04), (_COURT_NA, 0.015),
        (_CAUTION, 0.005), (_LOCAL, 0.005), (_ANOTHER, 0.005),
    ),
    "Possession of weapons": (
        (_UNABLE, 0.29), (_COURT_NA, 0.16), (_UI, 0.10), (_STATUS, 0.09), (_CAUTION, 0.06),
        (_FURTHER, 0.06), (_NO_SUSPECT, 0.05), (_AWAIT, 0.05), (_PRISON, 0.04),
        (_COMMUNITY, 0.03), (_SUSPENDED, 0.02), (_OTHER_ORG, 0.02), (_LOCAL, 0.01),
        (_FINED, 0.01), (_NOT_GUILTY, 0.01),
    ),
    "Public order": (
        (_UNABLE, 0.39), (_NO_SUSPECT, 0.27), (_UI, 0.08), (_COURT_NA, 0.08), (_STATUS, 0.04),
        (_AWAIT, 0.03), (_CAUTION, 0.03), (_LOCAL, 0.02), (_FINED, 0.01), (_PENALTY, 0.01),
        (_COMMUNITY, 0.01), (_PRISON, 0.01), (_FURTHER, 0.01), (_OTHER_ORG, 0.01),
    ),
    "Robbery": (
        (_NO_SUSPECT, 0.45), (_UNABLE, 0.31), (_COURT_NA, 0.08), (_UI, 0.07), (_STATUS, 0.05),
        (_AWAIT, 0.01), (_PRISON, 0.01), (_CAUTION, 0.01), (_NOT_GUILTY, 0.01),
    ),
    "Shoplifting": (
        (_NO_SUSPECT, 0.56), (_UNABLE, 0.21), (_COURT_NA, 0.05), (_UI, 0.03), (_PRISON, 0.03),
        (_AWAIT, 0.03), (_CAUTION, 0.02), (_STATUS, 0.01), (_FINED, 0.01), (_LOCAL, 0.01),
        (_COMMUNITY, 0.01), (_CONDITIONAL, 0.01), (_SUSPENDED, 0.01), (_ANOTHER, 0.005),
        (_PENALTY, 0.005),
    ),
    "Theft from the person": (
        (_NO_SUSPECT, 0.80), (_UNABLE, 0.11), (_STATUS, 0.04), (_UI, 0.03), (_COURT_NA, 0.01),
        (_CAUTION, 0.01),
    ),
    "Vehicle crime": (
        (_NO_SUSPECT, 0.88), (_UNABLE, 0.065), (_STATUS, 0.02), (_UI, 0.02), (_COURT_NA, 0.01),
        (_ANOTHER, 0.005),
    ),
    "Violence and sexual offences": (
        (_UNABLE, 0.55), (_NO_SUSPECT, 0.15), (_UI, 0.09), (_STATUS, 0.05), (_COURT_NA, 0.05),
        (_OTHER_ORG, 0.05), (_AWAIT, 0.015), (_CAUTION, 0.015), (_LOCAL, 0.01),
        (_COMMUNITY, 0.005), (_FURTHER, 0.005), (_NOT_GUILTY, 0.005), (_PRISON, 0.005),
    ),
}
# fmt: on


# fmt: off
@dataclass(frozen=True)
class StreetNames:
    """Word lists for fictional "On or near ..." locations."""

    stems: tuple[str, ...] = (
        "Willow", "Oak", "Mill", "Church", "Manor", "Orchard", "Meadow", "Brook", "Chestnut",
        "Beech", "Ash", "Elm", "Hazel", "Rowan", "Kingfisher", "Heron", "Swallow", "Lark",
        "Juniper", "Cedar", "Holly", "Ivy", "Lime", "Maple", "Poplar", "Sycamore", "Thorn",
        "Birch", "Alder", "Fern", "Heather", "Primrose", "Bluebell", "Foxglove", "Clover",
        "Bramble", "Hawthorn", "Blackthorn", "Linden", "Cherry", "Plum", "Pear", "Vine",
        "Cromwell", "Victoria", "Albert", "Queens", "Kings", "Princes", "Windsor", "York",
        "Lancaster", "Tudor", "Mortimer", "Beaumont", "Granville", "Fairfield", "Longacre",
        "Greenway", "Highfield", "Westfield", "Northfield", "Southfield", "Eastfield",
        "Barley", "Wheatsheaf", "Harvest", "Shepherds", "Drovers", "Tanners", "Weavers",
        "Coopers", "Bakers", "Chandlers", "Ropewalk", "Lockside", "Wharf", "Ferry", "Ford",
        "Bridge", "Fountain", "Abbey", "Priory", "Chapel", "Vicarage", "Rectory", "Glebe",
    )
    suffixes: tuple[str, ...] = (
        "Road", "Street", "Lane", "Close", "Drive", "Way", "Avenue", "Crescent", "Gardens",
        "Place", "Court", "Grove", "Rise", "View", "Walk", "Mews",
    )
    #: police.uk's own labels for points that are not streets
    landmarks: tuple[str, ...] = (
        "Supermarket", "Parking Area", "Petrol Station", "Shopping Area", "Park/Open Space",
        "Sports/Recreation Area", "Further/Higher Educational Building", "Hospital",
        "Pedestrian Subway", "Conference/Exhibition Centre",
    )


STREET_NAMES = StreetNames()

#: Named snap points planted at each hotspot: spread over its area (circle or park), or
#: along Market Street for the Market Street hotspot.
PLACE_POINTS: dict[str, tuple[str, ...]] = {
    "northbrook-town-centre": (
        "Nightclub", "High Street", "Market Square", "Bus/Coach Station", "Theatre/Concert Hall",
        "Pedestrian Subway", "Sheep Street", "Bridge Street", "Church Street", "Shopping Area",
    ),
    "market-street": (
        "Market Street", "Market Street", "Market Street", "Supermarket", "Shopping Area",
    ),
    "northbrook-park": (
        "Park/Open Space", "Park/Open Space", "Park/Open Space", "Riverside Walk",
        "Sports/Recreation Area", "Bandstand Walk", "Park Lane",
    ),
    "station-fading": ("Station Approach", "Parking Area", "Station Road", "Parking Area"),
    "millfield-emerging": (
        "Millfield Road", "Millfield Close", "Kestrel Way", "Parking Area", "Millfield Parade",
        "Curlew Drive", "Plover Close", "Shopping Area",
    ),
    "eastmere-market-place": (
        "Market Place", "High Street", "Sheep Street", "Shopping Area", "Parking Area",
    ),
}
# fmt: on
