"""The demo world, seeded from a small real-data sample shipped with kith.

``load_sample()`` reads the sample (standard library only); ``kith.demo.seed`` turns it
into accounts, friendships and circles for ``kith demo``.
"""

from kith.demo.sample import (
    Sample,
    SampleCheckIn,
    SampleFriendship,
    SampleUser,
    SampleVenue,
    load_sample,
)

__all__ = [
    "Sample",
    "SampleCheckIn",
    "SampleFriendship",
    "SampleUser",
    "SampleVenue",
    "load_sample",
]
