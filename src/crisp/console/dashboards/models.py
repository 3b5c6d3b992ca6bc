from __future__ import annotations

from django.conf import settings
from django.db import models

from crisp.console.accounts.models import Team


class Dashboard(models.Model):
    """Panels (saved explore queries with a grid position) owned by a team.

    ``panels`` and ``variables`` are JSON validated by ``dashboards.api.serializers``
    (``PanelSerializer``, ``VariableSerializer``): the database does not check their
    shape, the API does, on every write. A panel's filter value ``$name`` takes the
    value chosen for variable ``name`` (see ``dashboards.variables``).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="dashboards")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    panels = models.JSONField(default=list, blank=True)
    variables = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("team__name", "title")

    def __str__(self) -> str:
        return self.title
