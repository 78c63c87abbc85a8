"""The map: you and the friends who share with you, as the H3 cells they granted you.

Cell outlines are computed here, on the server, from the cells the viewer may see, so
the page never receives more than the grants allow. The position itself comes from the
browser's geolocation, or from "I'm at ..." (typed, or a click on the map).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h3
from fastapi import APIRouter
from starlette.responses import Response

from kith.errors import InvalidInput
from kith.presence import actions, queries
from kith.presence.actions import LocationOutcome
from kith.presence.geo import Precision, coarsen, label, precision_of, separation
from kith.presence.queries import SharedLocation
from kith.web.deps import MemberPage, PostedForm
from kith.web.routes.presence import (
    PRECISION_LABELS,
    presence_state,
    read_float,
    viewer_times,
)
from kith.web.routes.sharing import GHOST_CHOICES

router = APIRouter()

# Friends see times rounded down to this, as in the API (never finer timing).
AS_OF_ROUNDING_MINUTES = 5
# Your own area is drawn no finer than a block: a live point would be a dot.
OWN_DRAWN_AT = Precision.BLOCK
# The page shows lat/lon to about a metre; more digits would only look precise.
COORDINATE_DIGITS = 6
TILE_ATTRIBUTION_OSM = "© OpenStreetMap contributors"


def outline(cell: str) -> list[list[float]]:
    """The cell's corners as [lat, lon] pairs, the order Leaflet draws them."""
    return [
        [round(lat, COORDINATE_DIGITS), round(lon, COORDINATE_DIGITS)]
        for lat, lon in h3.cell_to_boundary(cell)
    ]


def _rounded(value: datetime) -> datetime:
    return value.replace(
        minute=value.minute - value.minute % AS_OF_ROUNDING_MINUTES, second=0, microsecond=0
    )


@dataclass(frozen=True, slots=True)
class FriendOnMap:
    shared: SharedLocation
    label: str | None
    distance_m: float | None

    @property
    def precision_label(self) -> str:
        return PRECISION_LABELS[self.shared.precision]


def _on_map(shared: SharedLocation, mine: str | None) -> FriendOnMap:
    if mine is None:
        return FriendOnMap(shared, None, None)
    sep = separation(shared.cell, mine)
    return FriendOnMap(shared, label(sep), sep.distance_m)


def _attribution(tile_url: str) -> str:
    return TILE_ATTRIBUTION_OSM if "openstreetmap" in tile_url else ""


@router.get("/map")
def map_page(page: MemberPage) -> Response:
    state = presence_state(page)
    times = viewer_times(page)
    mine = queries.own_cell(page.db, page.user.id, state.live, now=page.now)
    shared = queries.shared_locations(
        page.db, page.user, state.live, now=page.now, purpose="shown on the map"
    )
    # Nearest first, as the nearby list orders them; unknown distances last.
    far = float("inf")
    friends = sorted(
        (_on_map(s, mine) for s in shared),
        key=lambda f: (f.distance_m if f.distance_m is not None else far, f.shared.user.username),
    )
    overview = queries.sharing_overview(page.db, page.user, now=page.now)
    page.db.commit()  # the ledger entries written by shared_locations
    own = coarsen(mine, OWN_DRAWN_AT) if mine else None
    data: dict[str, Any] = {
        "tiles": page.settings.tile_url,
        "attribution": _attribution(page.settings.tile_url),
        "me": {"outline": outline(own), "precision": precision_of(own).value} if own else None,
        "friends": [
            {
                "name": f.shared.user.display_name,
                "username": f.shared.user.username,
                "precision": f.shared.precision.value,
                "label": f.label,
                "outline": outline(f.shared.cell),
            }
            for f in friends
        ],
    }
    return page.render(
        "map.html",
        map_data=data,
        own=own,
        own_precision=precision_of(own).value if own else None,
        friends=friends,
        overview=overview,
        times=times,
        as_of=lambda value: times.clock(_rounded(value)),
        ghost_choices=GHOST_CHOICES,
        sharing_anyone=any(
            g.precision is not Precision.OFF and not g.expired
            for g in (*overview.circles, *overview.friends)
        ),
    )


def _taken(outcome: LocationOutcome) -> str:
    if outcome.stored_cell is None:
        return (
            "Location taken, but you share it with no one, so kith keeps nothing. "
            "Choose who sees it on the Sharing page."
        )
    return "Location updated. Friends see it only as precisely as you share with them."


@router.post("/map/location")
def update_location(page: MemberPage, form: PostedForm) -> Response:
    state = presence_state(page)

    def take() -> LocationOutcome:
        lat = read_float(form, "lat", "Latitude", example="40.7359")
        lon = read_float(form, "lon", "Longitude", example="-73.9911")
        accuracy = (
            read_float(form, "accuracy_m", "Accuracy", example="25")
            if form.text("accuracy_m").strip()
            else None
        )
        try:
            outcome = actions.do_update_location(
                page.db,
                state.live,
                page.user,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy,
                recorded_at=None,
                now=page.now,
            )
        except InvalidInput as exc:
            if exc.code != "implausible-location":
                raise
            raise InvalidInput(f"that position was refused: {exc.detail}", field=exc.field) from exc
        state.events.publish(outcome.notified)  # after the action's commit
        return outcome

    return page.attempt("/map", take, _taken)
