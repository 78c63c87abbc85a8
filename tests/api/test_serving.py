"""What a long-running server process does beyond building the app."""

from __future__ import annotations

import gc
import sys

from kith.api.app import SWITCH_INTERVAL_S, serving_app
from kith.config import Settings


def test_a_server_process_freezes_its_start_up_objects_and_slices_the_gil_finer(
    settings: Settings,
) -> None:
    gc.unfreeze()
    interval = sys.getswitchinterval()
    try:
        application = serving_app(settings)
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S  # shorter GIL slices
        # Modules, classes, routes and the app itself: tens of thousands of objects that
        # a full collection would otherwise walk every time.
        assert gc.get_freeze_count() > 20_000
        application.state.kith.database.dispose()
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)
