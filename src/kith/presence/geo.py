"""Pure geometry on H3 cells: precisions, coarsening, distances and labels.

Everything a friend ever learns about a position is computed here from *cells*,
never from a raw point, and always at the coarser of the two precisions involved,
so that no surface (location, nearby labels, ordering, alerts) says more than the
cell that was granted.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import h3

from kith.errors import InvalidInput


class Precision(enum.StrEnum):
    OFF = "off"
    CITY = "city"
    NEIGHBOURHOOD = "neighbourhood"
    BLOCK = "block"
    PRECISE = "precise"


# H3 resolution per precision. PRECISE is the live point held in memory only; as a cell
# it is resolution 15 (about half a metre), used only to compute labels against coarser cells.
RESOLUTION: dict[Precision, int] = {
    Precision.CITY: 5,
    Precision.NEIGHBOURHOOD: 7,
    Precision.BLOCK: 8,
    Precision.PRECISE: 15,
}
# The finest resolution ever written to the database (precise positions stay in memory).
FINEST_STORED = Precision.BLOCK
ORDER: tuple[Precision, ...] = (
    Precision.OFF,
    Precision.CITY,
    Precision.NEIGHBOURHOOD,
    Precision.BLOCK,
    Precision.PRECISE,
)
EARTH_RADIUS_M = 6_371_008.8


def rank(precision: Precision) -> int:
    return ORDER.index(precision)


def finer(a: Precision, b: Precision) -> Precision:
    return a if rank(a) >= rank(b) else b


def coarser(a: Precision, b: Precision) -> Precision:
    return a if rank(a) <= rank(b) else b


def check_coordinates(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput(
            "coordinates must be finite numbers", field="lat", code="implausible-location"
        )
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(
            "latitude must be between -90 and 90", field="lat", code="implausible-location"
        )
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(
            "longitude must be between -180 and 180", field="lon", code="implausible-location"
        )


def cell_at(lat: float, lon: float, precision: Precision) -> str:
    if precision is Precision.OFF:
        raise ValueError("no cell at precision off")
    return str(h3.latlng_to_cell(lat, lon, RESOLUTION[precision]))


def precision_of(cell: str) -> Precision:
    resolution = h3.get_resolution(cell)
    for precision, res in RESOLUTION.items():
        if res == resolution:
            return precision
    raise ValueError(f"cell {cell} is at no kith precision")


def coarsen(cell: str, precision: Precision) -> str:
    """The cell's ancestor at ``precision`` (never finer than the cell itself)."""
    if precision is Precision.OFF:
        raise ValueError("cannot coarsen to off")
    target = RESOLUTION[precision]
    resolution = h3.get_resolution(cell)
    if target >= resolution:
        return cell
    return str(h3.cell_to_parent(cell, target))


def center(cell: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return float(lat), float(lon)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def cell_radius_m(cell: str) -> float:
    """An upper bound on how far a point in ``cell`` lies from its centre."""
    return float(h3.average_hexagon_edge_length(h3.get_resolution(cell), "m")) * 1.3


@dataclass(frozen=True, slots=True)
class Separation:
    """How far apart two cells are, at the coarser of their precisions."""

    precision: Precision
    same_cell: bool
    distance_m: float


def separation(a: str, b: str) -> Separation:
    """Distance between two cells after both are coarsened to the coarser precision.

    Coarsening both first is what makes the answer a function of the granted cells
    alone: moving within your own cell, or asking from a finer one, changes nothing.
    """
    common = coarser(precision_of(a), precision_of(b))
    ca, cb = coarsen(a, common), coarsen(b, common)
    if ca == cb:
        return Separation(common, True, 0.0)
    return Separation(common, False, haversine_m(center(ca), center(cb)))


# Distance buckets for labels: the label never says more than the bucket.
LABEL_BUCKETS_KM: tuple[float, ...] = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500)

SAME_CELL_LABEL = {
    Precision.CITY: "same city",
    Precision.NEIGHBOURHOOD: "same neighbourhood",
    Precision.BLOCK: "same block",
    Precision.PRECISE: "right here",
}


def bucket_km(distance_m: float) -> float | None:
    """The smallest bucket at or above the distance; None beyond the last bucket."""
    km = distance_m / 1000.0
    for bucket in LABEL_BUCKETS_KM:
        if km <= bucket:
            return bucket
    return None


def label(sep: Separation) -> str:
    if sep.same_cell:
        return SAME_CELL_LABEL[sep.precision]
    bucket = bucket_km(sep.distance_m)
    if bucket is None:
        return f"more than {int(LABEL_BUCKETS_KM[-1])} km"
    if bucket <= 1:
        return "under 1 km"
    return f"about {int(bucket)} km"


def implied_speed_kmh(
    a: tuple[float, float], b: tuple[float, float], seconds: float, *, slack_m: float
) -> float:
    """Speed needed to move from ``a`` to ``b`` in ``seconds``, forgiving ``slack_m`` of noise."""
    distance = max(0.0, haversine_m(a, b) - slack_m)
    if distance == 0.0:
        return 0.0
    return distance / max(seconds, 1.0) * 3.6
