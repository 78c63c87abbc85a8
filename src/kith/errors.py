"""Domain errors.

Domain code raises these; only ``kith.api.errors`` turns them into HTTP responses
(problem+json, RFC 9457) and the CLI and web app into readable messages. Each class
has a stable ``code``: it becomes the problem ``type`` and never changes meaning.

    KithError
    ├── InvalidInput            400  the request makes no sense (bad value, self-request ...)
    ├── NotAuthenticated        401  no valid session or token
    │   └── InvalidCredentials  401  wrong username or password
    ├── PermissionDenied        403  authenticated, but not allowed
    ├── NotFound                404  absent, or not visible to the viewer (never says which)
    ├── Conflict                409  the state forbids it (name taken, already friends ...)
    │   └── UsernameTaken       409
    ├── RateLimited             429  too many attempts; carries retry_after seconds
    ├── ModelUnavailable        503  a saved model is missing or unreadable (callers fall back)
    └── NotFitted               500  a model was used before fit(): a bug, not an input
"""

from __future__ import annotations


class KithError(Exception):
    code = "error"
    title = "Something went wrong"
    status = 500

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or self.title
        # A more specific, equally stable code for one situation ("already-friends").
        if code is not None:
            self.code = code
        super().__init__(self.detail)


class InvalidInput(KithError):
    code = "invalid-input"
    title = "Invalid input"
    status = 400

    def __init__(
        self, detail: str | None = None, *, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.field = field


class NotAuthenticated(KithError):
    code = "not-authenticated"
    title = "Not authenticated"
    status = 401


class InvalidCredentials(NotAuthenticated):
    code = "invalid-credentials"
    title = "Wrong username or password"


class PermissionDenied(KithError):
    code = "permission-denied"
    title = "Permission denied"
    status = 403


class NotFound(KithError):
    code = "not-found"
    title = "Not found"
    status = 404


class Conflict(KithError):
    code = "conflict"
    title = "Conflict"
    status = 409


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "That username is taken"


class RateLimited(KithError):
    code = "rate-limited"
    title = "Too many attempts"
    status = 429

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail, code=None)
        self.retry_after = retry_after


class ModelUnavailable(KithError):
    code = "model-unavailable"
    title = "The model is not available"
    status = 503


class NotFitted(KithError):
    code = "model-not-fitted"
    title = "The model has not been fitted"
    status = 500


ALL_ERRORS: tuple[type[KithError], ...] = (
    KithError,
    InvalidInput,
    NotAuthenticated,
    InvalidCredentials,
    PermissionDenied,
    NotFound,
    Conflict,
    UsernameTaken,
    RateLimited,
    ModelUnavailable,
    NotFitted,
)
