"""The ``kith`` command line."""

from __future__ import annotations


def main() -> None:
    """The ``kith`` entry point. ``kith integrity detect``, a batch command run over and
    over on big files, goes straight to its argparse module; everything else builds
    the Typer app in :mod:`kith.cli.main` (about 0.45 s of imports)."""
    import sys

    if sys.argv[1:3] == ["integrity", "detect"]:
        from kith.cli.integrity_detect import main as detect_main

        sys.exit(detect_main(sys.argv[3:]))
    from kith.cli.main import main as typer_main

    typer_main()
