"""What a long-running server process does beyond building the app."""

from __future__ import annotations

import gc

from kith.api.app import serving_app
from kith.config import Settings


def test_a_server_process_takes_its_start_up_objects_out_of_garbage_collection(
    settings: Settings,
) -> None:
    gc.unfreeze()
    try:
        application = serving_app(settings)
        # Modules, classes, routes and the app itself: tens of thousands of objects that
        # a full collection would otherwise walk every time.
        assert gc.get_freeze_count() > 20_000
        application.state.kith.database.dispose()
    finally:
        gc.unfreeze()
