"""Every API error is JSON with a message: ``{"error": "..."}``, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crisp.console.explore.backend import BackendError

log = logging.getLogger(__name__)


def api_exception_handler(error: Exception, context: dict[str, Any]) -> Response:
    if isinstance(error, BackendError):
        return Response({"error": error.message}, status=error.status)
    response = exception_handler(error, context)
    if response is not None:
        detail = response.data
        if isinstance(detail, dict) and set(detail) == {"detail"}:
            response.data = {"error": str(detail["detail"])}
        elif isinstance(detail, dict | list):
            # Validation errors: field → messages, under one top-level message.
            response.data = {"error": "invalid request", "fields": detail}
        return response
    # A bug: log it whole for the operator, tell the client only that it happened.
    log.exception("unhandled error in %s", context.get("view"))
    return Response(
        {"error": "internal error; the console's log has the details"},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
