"""Shared test helpers: real servers are required in CI, skipped with a reason elsewhere."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from crisp.bench.servers import free_port

__all__ = ["free_port", "require_binary", "require_server"]


def require_server(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI, CRISP_TEST_REQUIRE_SERVERS=1) when a server is absent."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as error:
        message = f"{name} is not reachable at {host}:{port} ({error.strerror or error})"
    if os.environ.get("CRISP_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)




def require_binary(name: str, install_hint: str) -> None:
    """Skip (locally) or fail (CI) when a server binary is not installed."""
    if shutil.which(name) is not None:
        return
    message = f"{name} is not installed ({install_hint})"
    if os.environ.get("CRISP_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)
