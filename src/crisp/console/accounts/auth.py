"""DRF authentication by our API tokens: ``Authorization: Token <token>``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from crisp.console.accounts.models import APIToken
from crisp.console.accounts.tokens import hash_token

KEYWORD = b"token"


class APITokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, APIToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # not ours: session auth may still apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("expected 'Authorization: Token <token>'")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid token") from None
        record = APIToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
        if record is None or not record.user.is_active:
            raise exceptions.AuthenticationFailed("invalid token")
        now = timezone.now()
        if record.expires is not None and record.expires <= now:
            raise exceptions.AuthenticationFailed("token expired")
        # Written at most once a minute per token: reads stay reads under load.
        if record.last_used is None or (now - record.last_used).total_seconds() > 60:
            APIToken.objects.filter(pk=record.pk).update(last_used=now)
        return record.user, record

    def authenticate_header(self, request: Any) -> str:
        return "Token"
