"""The ``kith`` command line."""
