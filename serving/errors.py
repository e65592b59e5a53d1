"""One root error type that carries its HTTP status.

Anything the client must fix, or must retry later, is raised as a `ServingError` subclass deep in
the data plane; one Flask handler turns it into `{"error": "..."}` with the right status, so no
endpoint decides status codes on its own.
"""

from __future__ import annotations


class SettingsError(ValueError):
    """The environment or the flags describe a server that cannot start."""


class ServingError(Exception):
    """Root of all errors answered to clients."""

    status_code = 500

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class BadRequest(ServingError):
    """The request is malformed: bad JSON, wrong shape, datatype, missing input."""

    status_code = 400


class ModelNotFound(ServingError):
    """No model (or no version of it) by that name is served here."""

    status_code = 404

    def __init__(self, name: str, version: str | None = None) -> None:
        what = f"model '{name}'" if version is None else f"model '{name}' version '{version}'"
        super().__init__(f"{what} is not served here")


class PayloadTooLarge(ServingError):
    """The body exceeds MAX_REQUEST_BYTES."""

    status_code = 413


class ModelNotReady(ServingError):
    """The model failed to load, or the server is draining."""

    status_code = 503
