""" "Who's up for it?": rank a user's friends for an activity and a time, and say why.

Pure, array-based modules (import them directly; they pull in numpy):

* ``activities``: the activity vocabulary and venue-name inference (no numpy).
* ``history``: ``History``, ``Query``, ``LabelledQuery``: the plain data the models see.
* ``colocation``: meetups and the co-location graph.
* ``features``: ``FeatureBuilder`` -> ``FeatureMatrix``.
* ``models``: the shared estimator interface, baselines and learned models.
* ``evaluation``: tie-averaged metrics, bootstrap intervals, paired comparisons.
* ``explain``: human reasons from a model's explanation.
* ``protocol``: the Gowalla evaluation; ``datasets``: reading its files.

This package deliberately re-exports nothing heavy so importing ``kith.partners``
stays cheap for the server and the CLI.
"""

from kith.partners.activities import Activity, infer_activity

__all__ = ["Activity", "infer_activity"]
