"""Tells the OpenAPI schema how our token authentication works."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


# drf-spectacular leaves __init_subclass__ (its registry hook) untyped.
class APITokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "crisp.console.accounts.auth.APITokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`; create one with `crisp manage create_api_token USER`"
            " or POST /api/tokens/.",
        }
