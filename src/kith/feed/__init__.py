"""The feed: goals the user states, rankers that show their work, and a feed that stops.

Pure, data-independent pieces live here (no database, no HTTP):

- :mod:`kith.feed.topics`     the topic vocabulary and topic-mix validation
- :mod:`kith.feed.goals`      goals, "less of"/"never" rules, the editable profile, the target mix
- :mod:`kith.feed.policy`     filters, pages, the caught-up and budget cards, cursors
- :mod:`kith.feed.rankers`    one ``Ranker`` interface and the registry (needs numpy)
- :mod:`kith.feed.relevance`  implicit-ALS relevance, an estimator (needs implicit)
- :mod:`kith.feed.evaluation` offline evaluation on ratings data (MovieLens protocol)
- :mod:`kith.feed.simulate`   the user-model simulator that runs every ranker side by side

Importing this package imports nothing heavy; numpy-based modules load on first use.
"""
