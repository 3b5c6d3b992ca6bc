"""Explore API: views validate and check access, then ask ``explore.services``."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crisp.console.accounts.access import can_read_database, readable_databases
from crisp.console.explore import overview, services
from crisp.console.explore.api.serializers import (
    ExploreQuerySerializer,
    LatencyParamsSerializer,
    LatencySerializer,
    MetaParamsSerializer,
    QueryAnswerSerializer,
    ServicesParamsSerializer,
    ServiceStatsSerializer,
)
from crisp.console.explore.querymodel import QueryModelError
from crisp.query.influxql.durations import format_duration


def access_database(request: Request, database: str) -> str:
    """The database name, if the user's teams are granted it; 403 otherwise."""
    if not can_read_database(request.user, database):
        raise PermissionDenied(f"you have no access to database {database!r}")
    return database


class QueryView(APIView):
    @extend_schema(request=ExploreQuerySerializer, responses=QueryAnswerSerializer)
    def post(self, request: Request) -> Response:
        """Run a structured query (the explore model) and answer its series."""
        serializer = ExploreQuerySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        query = serializer.to_query()
        access_database(request, query.database)
        try:
            answer = services.run_explore_query(query, time.time_ns())
        except QueryModelError as error:
            return Response({"error": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "query": answer.query,
                "interval": format_duration(answer.interval_ns),
                "series": answer.series,
            }
        )


def _meta_params(request: Request, *required: str) -> dict[str, Any]:
    params = MetaParamsSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data: dict[str, Any] = dict(params.validated_data)
    missing = [name for name in required if not data.get(name)]
    if missing:
        raise ValidationError({name: ["This query parameter is required."] for name in missing})
    access_database(request, data["db"])
    return data


DB = OpenApiParameter("db", str, required=True)
MEASUREMENT = OpenApiParameter("measurement", str, required=True)


class DatabasesView(APIView):
    @extend_schema(responses={200: {"type": "array", "items": {"type": "string"}}})
    def get(self, request: Request) -> Response:
        """Databases the user's teams are granted (all, for superusers)."""
        allowed = readable_databases(request.user)
        names = services.metrics_backend().databases()
        return Response([n for n in names if allowed is None or n in allowed])


class MeasurementsView(APIView):
    @extend_schema(parameters=[DB], responses={200: {"type": "array", "items": {"type": "string"}}})
    def get(self, request: Request) -> Response:
        params = _meta_params(request, "db")
        return Response(services.metrics_backend().measurements(params["db"]))


class TagKeysView(APIView):
    @extend_schema(
        parameters=[DB, MEASUREMENT],
        responses={200: {"type": "array", "items": {"type": "string"}}},
    )
    def get(self, request: Request) -> Response:
        params = _meta_params(request, "db", "measurement")
        return Response(services.metrics_backend().tag_keys(params["db"], params["measurement"]))


class TagValuesView(APIView):
    @extend_schema(
        parameters=[DB, MEASUREMENT, OpenApiParameter("key", str, required=True)],
        responses={200: {"type": "array", "items": {"type": "string"}}},
    )
    def get(self, request: Request) -> Response:
        params = _meta_params(request, "db", "measurement", "key")
        backend = services.metrics_backend()
        return Response(backend.tag_values(params["db"], params["measurement"], params["key"]))


class FieldKeysView(APIView):
    @extend_schema(
        parameters=[DB, MEASUREMENT],
        responses={200: {"type": "object", "additionalProperties": {"type": "string"}}},
    )
    def get(self, request: Request) -> Response:
        """Field name → type of one measurement."""
        params = _meta_params(request, "db", "measurement")
        return Response(services.metrics_backend().field_keys(params["db"], params["measurement"]))


class LatencyView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("service", str, required=True),
            OpenApiParameter("percentile", float, description="between 0 and 1; default 0.95"),
            OpenApiParameter("range", str, description="-15m, -1h, -7d or RFC3339; default -1h"),
            OpenApiParameter("db", str, description="default: CRISP_CONSOLE_DEFAULT_DB"),
        ],
        responses={200: LatencySerializer},
    )
    def get(self, request: Request) -> Response:
        """A service's latency percentile over a recent range (the seed's endpoint)."""
        if not request.query_params.get("service"):
            return Response(
                {"error": "Query parameter 'service' is required."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        params = LatencyParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        database = access_database(request, data.get("db") or services.options().default_database)
        latency = services.service_latency(
            database, data["service"], data["percentile"], data["range"]
        )
        if latency is None:
            raise NotFound(
                f"No latency data found for service {data['service']!r} in the given time range."
            )
        return Response(LatencySerializer(latency).data)


class ServicesView(APIView):
    @extend_schema(
        parameters=[
            DB,
            OpenApiParameter("range", str, description="-15m, -1h, -7d or RFC3339; default -1h"),
        ],
        responses={200: ServiceStatsSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Every service of the latency measurement: rate, error rate, p95/p99, sparkline."""
        params = ServicesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        database = access_database(request, data["db"])
        stats = overview.services_overview(database, data["range"], time.time_ns())
        return Response(ServiceStatsSerializer(stats, many=True).data)
