"""kith: a social platform that works for the people who use it, not for their attention."""

__version__ = "0.1.0"

__all__ = ["__version__"]
