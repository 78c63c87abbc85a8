"""Demo posts: a small set written for kith across the feed's topics, shared by demo users.

MIND's terms (non-commercial research only) rule out shipping its articles, so these
posts are our own. A few are deliberately written as outrage bait: the engagement
baseline ranks them up, kith's own rankers do not, and the difference is the point.

Call :func:`seed_posts` from the demo seeding with the demo users; it is idempotent:
posts already there (same author, same text) are moved to "recent" again instead of
being duplicated, so every ``kith demo`` run has a fresh feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.feed.actions import do_create_post
from kith.feed.models import Post

# (topics, text). Empty topics: kith infers them from the text, as for a real post.
DEMO_POSTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("news",),
        "The council finally voted on the new bike lanes by the school. Meeting notes inside.",
    ),
    (("news",), "SHOCKING: they DESTROYED the old library for a car park!!! Outrageous."),
    ((), "Local election tomorrow: polling stations open at 7, bring any ID with your address."),
    (("sports",), "Our five-a-side team won 4-2 tonight. Knees hurt, heart happy."),
    (("sports",), "Anyone up for a Sunday morning run along the river? 8 km, easy pace."),
    ((), "What a match! The rookie scored twice in the second half and the stadium went wild."),
    (("finance",), "Finally set up a savings plan for the kids. Boring, and I love it."),
    ((), "Interest rates up again: mortgage payments on our street are going to hurt."),
    (
        ("foodanddrink",),
        "Slow-cooked lentil soup, recipe in the link. Feeds six for almost nothing.",
    ),
    ((), "Baked my first sourdough bread today. Ugly, delicious, would recommend."),
    (("foodanddrink",), "The new ramen place on Elm St is worth the queue. Get the spicy miso."),
    (("lifestyle",), "Repotted every plant in the flat. The cat supervised."),
    ((), "Small wedding, big garden, lots of dogs. Best weekend of the year."),
    (("weather",), "Storm warning tonight: heavy rain and strong wind, bring the bikes in."),
    ((), "First snow of the winter! Freezing, but the park looks beautiful."),
    (("video",), "Filmed the starlings over the marsh at dusk. Watch it with sound on."),
    (("travel",), "Back from a week on the island: ferries, beaches, no phone signal. Bliss."),
    ((), "Cheap flights to Lisbon in March if anyone wants a trip. Hotel tips welcome."),
    (("health",), "Three months of walking to work and my sleep is so much better."),
    ((), "Doctor says my knee just needs exercise and patience. The patience part is hard."),
    (("autos",), "Swapped the old diesel for a used electric car. Range is fine for the city."),
    (("music",), "Our band plays the Crown on Friday, 9pm. Free entry, terrible puns."),
    ((), "This album on repeat all week: the guitar on track three is unreal."),
    (("tv",), "Finished the series finale last night. No spoilers, but wow."),
    (("movies",), "Saw the new documentary at the small cinema. Go before it leaves."),
    (("entertainment",), "The celebrity gossip in the cafe today was better than any show."),
    (("kids",), "Homework club at the library is free on Tuesdays; the kids love the teacher."),
    (("news", "health"), "The clinic on Main St now opens Saturdays: walk-ins until noon."),
    (("sports",), "UNBELIEVABLE. The referee was a DISGRACE. Worst decision of the season!!!"),
    (
        ("foodanddrink", "travel"),
        "Street food on the night market in Porto: bifanas and cheap wine.",
    ),
)
# Spread over the last two days, so a fresh demo has a full first page of new posts.
SPREAD = timedelta(hours=48)


def seed_posts(db: Session, users: Sequence[User], now: datetime) -> int:
    """Share the demo posts among ``users`` (round robin), each with all the author's circles.

    Returns how many posts were created; existing ones get fresh times instead.
    """
    if not users:
        return 0
    created = 0
    step = SPREAD / len(DEMO_POSTS)
    for index, (topics, text) in enumerate(DEMO_POSTS):
        author = users[index % len(users)]
        at = now - step * (len(DEMO_POSTS) - index)
        existing = db.scalar(select(Post).where(Post.author_id == author.id, Post.text == text))
        if existing is not None:
            existing.created_at = at
            db.commit()
            continue
        do_create_post(db, author, text=text, topics=topics or None, now=at)
        created += 1
    return created
