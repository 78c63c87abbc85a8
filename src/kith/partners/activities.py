"""What people do together, and how to guess it from a venue's name.

Two kinds of words share one vocabulary: *plans* a person asks about ("lunch",
"drinks", "a walk", "anything") and *places* a check-in can be recognised as
("restaurant", "bar", "park"). :func:`related` joins them, so a "drinks" plan
counts past evenings at a bar as evidence.

Pure: no I/O, no heavy imports (the server imports this on every request).
"""

from __future__ import annotations

import enum
import re


class Activity(enum.StrEnum):
    COFFEE = "coffee"
    LUNCH = "lunch"
    DRINKS = "drinks"
    WALK = "walk"
    RUN = "run"
    GYM = "gym"
    TENNIS = "tennis"
    SURFING = "surfing"
    STUDY = "study"
    PARK = "park"
    BAR = "bar"
    RESTAURANT = "restaurant"
    # A plan only ("anything goes"); never inferred from a place.
    ANYTHING = "anything"


# Stable small-integer codes for array storage; -1 means "not recognised". Append only:
# saved models and stored histories keep these numbers.
ACTIVITY_CODES: dict[Activity, int] = {a: i for i, a in enumerate(Activity)}
UNKNOWN_CODE = -1

# Plans and the places that are evidence for them. Each family is closed: every member
# is evidence for every other.
_FAMILIES: tuple[frozenset[Activity], ...] = (
    frozenset({Activity.LUNCH, Activity.RESTAURANT}),
    frozenset({Activity.DRINKS, Activity.BAR}),
    frozenset({Activity.WALK, Activity.PARK}),
)


def related(activity: Activity) -> frozenset[Activity]:
    """Activities whose history is evidence for a plan to do ``activity``."""
    if activity is Activity.ANYTHING:
        return frozenset(Activity)
    for family in _FAMILIES:
        if activity in family:
            return family
    return frozenset({activity})


def parse_activity(value: str) -> Activity:
    """The activity a person typed; unknown words raise ``InvalidInput``."""
    from kith.errors import InvalidInput

    try:
        return Activity(value.strip().lower())
    except ValueError:
        choices = ", ".join(a.value for a in Activity)
        raise InvalidInput(
            f"unknown activity {value!r}; choose one of: {choices}", field="activity"
        ) from None


# Ordered rules: the first match wins, so specific sports come before the generic
# "park", and food and drink before "garden" ("Olive Garden" is a restaurant).
_RULES: tuple[tuple[Activity, re.Pattern[str]], ...] = tuple(
    (activity, re.compile(pattern, re.IGNORECASE))
    for activity, pattern in (
        (Activity.TENNIS, r"\btennis\b"),
        (Activity.SURFING, r"\bsurf"),
        (
            Activity.GYM,
            r"\b(gym|fitness|crossfit|yoga|pilates|equinox|ymca|health club|sports club"
            r"|nysc|crunch|boxing|climbing|bowlmor|spin(ning)?|soulcycle|dojo|rink)\b",
        ),
        (Activity.RUN, r"\b(running|run|track|reservoir|marathon)\b"),
        (
            Activity.COFFEE,
            r"(coffee|caf[eé]\b|espresso|starbucks|dunkin|\btea\b|teahouse|roasters"
            r"|stumptown|la colombe|irving farm|jack's stir|gimme!?|\bjoe\b|peet's)",
        ),
        (
            Activity.BAR,
            r"\b(bar|pub|tavern|saloon|lounge|brewery|beer|wine|cocktails?|taproom"
            r"|biergarten|beer garden|ale ?house|speakeasy|nightclub|club|tap room)\b",
        ),
        (
            Activity.RESTAURANT,
            r"\b(restaurant|diner|grill|pizza|pizzeria|burgers?|shake shack|sushi|kitchen"
            r"|bistro|trattoria|taqueria|deli|noodles?|ramen|bbq|barbecue|steak ?house"
            r"|eatery|chipotle|mcdonald'?s|brasserie|dumplings?|bagels?|bakery|halal"
            r"|tacos?|thai|chinese|mexican|italian|indian|cuisine|olive garden|food"
            r"|cantina|osteria|ristorante|luncheonette|pho|wings|chicken|sandwich(es)?)\b",
        ),
        (
            Activity.STUDY,
            r"\b(library|university|college|campus|school|study|bobst|nyu|columbia"
            r"|cooper union|the new school)\b",
        ),
        (
            Activity.PARK,
            r"(\bpark\b(?!\s*(ave|avenue|slope|place|pl|row|st|street)\b)|\bgardens?\b"
            r"|playground|\bpier\b|promenade|high line|\bbeach\b|\bgreen\b|botanic)",
        ),
    )
)

# "Madison Square Garden" is an arena, not a garden.
_NOT_PARK = re.compile(r"square garden", re.IGNORECASE)


def infer_activity(venue_name: str | None) -> Activity | None:
    """The activity a venue's name suggests, or ``None`` when it says nothing we know.

    A deliberately plain keyword list (Gowalla venues carry names, no categories):
    about one check-in in five is recognised, and an unrecognised venue simply gives
    no activity evidence.
    """
    if not venue_name:
        return None
    for activity, pattern in _RULES:
        if pattern.search(venue_name):
            if activity is Activity.PARK and _NOT_PARK.search(venue_name):
                continue
            return activity
    return None
