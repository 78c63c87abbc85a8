"""The demo world, seeded from a small real-data sample shipped with kith."""
