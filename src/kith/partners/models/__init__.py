"""Partner models: one estimator interface (``base``), baselines and learned models."""
