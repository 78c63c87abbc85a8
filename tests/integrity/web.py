"""Mount the moderation and notices pages on an app that does not list them yet.

Until kith.web.pages lists the "Moderation" and "Notices" sections, tests mount the
two routers the same way (with the CSRF check), so they run before and after that
change."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from kith.web.routes import moderation
from kith.web.session import csrf_protect


def mount_pages(app: FastAPI) -> None:
    paths = {getattr(route, "path", None) for route in app.routes}
    for router, path in (
        (moderation.router, "/moderation"),
        (moderation.notices_router, "/notices"),
    ):
        if path not in paths:
            app.include_router(
                router, dependencies=[Depends(csrf_protect)], include_in_schema=False
            )
