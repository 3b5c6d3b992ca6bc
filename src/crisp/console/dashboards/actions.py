"""State changes of dashboards; callers have validated input and checked permissions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from crisp.console.dashboards.models import Dashboard


def do_create_dashboard(user: User, data: dict[str, Any]) -> Dashboard:
    return Dashboard.objects.create(created_by=user, **data)


def do_update_dashboard(dashboard: Dashboard, data: dict[str, Any]) -> Dashboard:
    for name, value in data.items():
        setattr(dashboard, name, value)
    dashboard.save()
    return dashboard


def do_delete_dashboard(dashboard: Dashboard) -> None:
    dashboard.delete()
