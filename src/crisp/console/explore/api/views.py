"""Explore API: views validate and check access, then ask ``explore.services``."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crisp.console.accounts.access import can_read_database, readable_databases
from crisp.console.explore import overview, services
from crisp.console.explore.api.renderers import CSVRenderer
from crisp.console.explore.api.serializers import (
    ExploreQuerySerializer,
    LatencyParamsSerializer,
    LatencySerializer,
    MetaParamsSerializer,
    QueryAnswerSerializer,
    ServiceDetailSerializer,
    ServicesParamsSerializer,
    ServiceStatsSerializer,
)
from crisp.console.explore.querymodel import MAX_VALUE_LENGTH, ExploreQuery, QueryModelError
from crisp.query.influxql.durations import format_duration


def access_database(request: Request, database: str) -> str:
    """The database name, if the user's teams are granted it; 403 otherwise."""
    if not can_read_database(request.user, database):
        raise PermissionDenied(f"you have no access to database {database!r}")
    return database


def _query_from_json(text: str | None) -> ExploreQuerySerializer:
    """The ``q`` parameter of a GET query: the explore model as JSON, as the page's URL."""
    if not text:
        raise ValidationError({"q": ["the query as JSON is required, as the page's URL has it"]})
    try:
        body = json.loads(text)
    except ValueError:
        raise ValidationError({"q": ["not valid JSON"]}) from None
    if not isinstance(body, dict):
        raise ValidationError({"q": ["expected a JSON object"]})
    return ExploreQuerySerializer(data=body)


def query_response(request: Request, query: ExploreQuery) -> Response:
    """Run a checked explore model for the user (403 without access to its database)."""
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
            "next_group_by": list(answer.next_group_by),
        }
    )


class QueryView(APIView):
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, CSVRenderer)

    @extend_schema(
        request=ExploreQuerySerializer,
        responses={(200, "application/json"): QueryAnswerSerializer, (200, "text/csv"): str},
    )
    def post(self, request: Request) -> Response:
        """Run a structured query (the explore model) and answer its series, as JSON or,
        with ``?format=csv``, as CSV (time, tag columns, value)."""
        return self._answer(request, ExploreQuerySerializer(data=request.data))

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="the model as JSON")],
        responses={(200, "application/json"): QueryAnswerSerializer, (200, "text/csv"): str},
    )
    def get(self, request: Request) -> Response:
        """The same as POST with the model in ``q`` (JSON): a link, e.g. a CSV download."""
        return self._answer(request, _query_from_json(request.query_params.get("q")))

    def _answer(self, request: Request, serializer: ExploreQuerySerializer) -> Response:
        serializer.is_valid(raise_exception=True)
        query = serializer.to_query()
        response = query_response(request, query)
        if isinstance(request.accepted_renderer, CSVRenderer) and response.status_code == 200:
            response["Content-Disposition"] = f'attachment; filename="{csv_filename(query)}"'
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors stay JSON whatever format was asked for.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def csv_filename(query: ExploreQuery) -> str:
    """``<measurement>-<aggregate>.csv`` with only safe characters (header injection)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{query.measurement}-{query.aggregate}")
    return f"{stem.strip('._') or 'query'}.csv"


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


class ServiceDetailView(APIView):
    @extend_schema(
        parameters=[
            DB,
            OpenApiParameter("range", str, description="-15m, -1h, -7d or RFC3339; default -1h"),
        ],
        responses={200: ServiceDetailSerializer},
    )
    def get(self, request: Request, service: str) -> Response:
        """One service: totals, and rate, error rate, p95/p99 by each breakdown tag
        (CRISP_LATENCY_BREAKDOWN_TAGS: endpoint and host by default)."""
        params = ServicesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        database = access_database(request, data["db"])
        if len(service) > MAX_VALUE_LENGTH or "\x00" in service:
            raise ValidationError({"service": ["too long or holds NUL"]})
        detail = overview.service_detail(database, service, data["range"], time.time_ns())
        if detail.summary is None:
            raise NotFound(f"no latency data for service {service!r} in this range")
        return Response(ServiceDetailSerializer(detail).data)
