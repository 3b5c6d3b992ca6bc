"""InfluxDB-shaped error responses: ``{"error": "..."}`` with the status InfluxDB uses."""

from __future__ import annotations

from starlette.responses import JSONResponse


class HTTPError(Exception):
    """Raised by handlers; turned into an InfluxDB-style JSON error response."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status, headers=self.headers)
