"""Write/query authentication in every form InfluxDB clients send credentials.

``Authorization: Token T`` (v2 clients), ``Bearer T``, ``Basic`` with the token as
password, or ``?u=&p=`` (v1 clients). With no admin token configured, Crisp runs in
local mode and lets every request through.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request

from crisp.influxapi.errors import HTTPError


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        return credentials.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise HTTPError(401, "unable to parse authentication credentials") from None
        return decoded.partition(":")[2]
    return request.query_params.get("p")


def required_token(request: Request) -> str:
    """The token the request presents; 401 asking for credentials when it has none."""
    token = presented_token(request)
    if token is None:
        raise HTTPError(
            401,
            "unable to parse authentication credentials",
            {"WWW-Authenticate": 'Basic realm="crisp"'},
        )
    return token


def same_token(presented: str, expected: str) -> bool:
    # Constant time: how long a comparison takes must not tell how much of it matched.
    return hmac.compare_digest(presented.encode(), expected.encode())


def require_token(request: Request, admin_token: str) -> None:
    if not admin_token:
        return
    if not same_token(required_token(request), admin_token):
        raise HTTPError(401, "authorization failed")
