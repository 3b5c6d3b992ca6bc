"""Let Django and DRF classes be subscripted at run time (``ModelAdmin[Team]``).

The stubs make them generic for mypy; ``django_stubs_ext`` adds ``__class_getitem__``
so the same annotations also work when the modules are imported. DRF's modules read
Django's settings on import (and through them our models), so they are patched
after ``django.setup()``; Django's own classes before it, for the admin modules.
"""

from __future__ import annotations

import django_stubs_ext


def enable_django_generics() -> None:
    django_stubs_ext.monkeypatch()


def enable_drf_generics() -> None:
    from rest_framework import fields, generics, mixins, relations, serializers, viewsets

    django_stubs_ext.monkeypatch(
        extra_classes=[
            fields.Field,
            serializers.BaseSerializer,
            serializers.Serializer,
            serializers.ModelSerializer,
            relations.RelatedField,
            relations.PrimaryKeyRelatedField,
            generics.GenericAPIView,
            mixins.CreateModelMixin,
            viewsets.GenericViewSet,
            viewsets.ReadOnlyModelViewSet,
            viewsets.ModelViewSet,
        ]
    )
