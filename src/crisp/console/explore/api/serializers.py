"""Input checks of the explore API: requests become ExploreQuery values here."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crisp.console.explore.querymodel import (
    AGGREGATES,
    FILTER_OPS,
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    ExploreQuery,
    TagFilter,
)
from crisp.console.explore.timerange import parse_interval, parse_time_point


def name_field(*, required: bool = True) -> serializers.CharField:
    """A measurement, field, tag or database name: kept exactly as sent."""
    return serializers.CharField(
        max_length=MAX_NAME_LENGTH, trim_whitespace=False, required=required
    )


def _time_point(value: str) -> Any:
    try:
        return parse_time_point(value)
    except ValueError as error:
        raise serializers.ValidationError(str(error)) from None


class TagFilterSerializer(serializers.Serializer[TagFilter]):
    tag = name_field()
    op = serializers.ChoiceField(choices=FILTER_OPS, default="=")
    value = serializers.CharField(
        max_length=MAX_VALUE_LENGTH, allow_blank=True, trim_whitespace=False
    )


class ExploreQuerySerializer(serializers.Serializer[ExploreQuery]):
    database = name_field()
    measurement = name_field()
    field = name_field()
    aggregate = serializers.ChoiceField(choices=AGGREGATES, default="mean")
    filters = TagFilterSerializer(many=True, required=False)
    group_by = serializers.ListField(child=name_field(), required=False, max_length=8)
    start = serializers.CharField(default="-1h", help_text="now, -15m, -1h, -7d or RFC3339")
    end = serializers.CharField(default="now", help_text="now, -5m or RFC3339")
    interval = serializers.CharField(default="auto", help_text="auto or a duration: 10s, 1m")

    def validate_start(self, value: str) -> Any:
        return _time_point(value)

    def validate_end(self, value: str) -> Any:
        return _time_point(value)

    def validate_interval(self, value: str) -> int | None:
        if value == "auto":
            return None
        try:
            return parse_interval(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_query(self) -> ExploreQuery:
        data = self.validated_data
        return ExploreQuery(
            database=data["database"],
            measurement=data["measurement"],
            field=data["field"],
            aggregate=data["aggregate"],
            filters=tuple(TagFilter(**f) for f in data.get("filters", [])),
            group_by=tuple(data.get("group_by", [])),
            start=data["start"],
            end=data["end"],
            interval_ns=data["interval"],
        )


class SeriesSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(required=False)
    tags = serializers.DictField(child=serializers.CharField(), required=False)
    columns = serializers.ListField(child=serializers.CharField())
    values = serializers.ListField(child=serializers.ListField())


class QueryAnswerSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(help_text="the InfluxQL that ran")
    interval = serializers.CharField()
    series = SeriesSerializer(many=True)
    next_group_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="what to group by after drilling into one series (its tags become "
        "filters): the next of service → endpoint → host the series does not pin",
    )


class MetaParamsSerializer(serializers.Serializer[Any]):
    db = name_field()
    measurement = name_field(required=False)
    key = name_field(required=False)


class LatencyParamsSerializer(serializers.Serializer[Any]):
    service = serializers.CharField(max_length=MAX_VALUE_LENGTH, trim_whitespace=False)
    percentile = serializers.FloatField(default=0.95, min_value=0.0, max_value=1.0)
    range = serializers.CharField(default="-1h")
    db = name_field(required=False)

    def validate_percentile(self, value: float) -> float:
        if not 0 < value < 1:
            raise serializers.ValidationError("percentile must be between 0 and 1, e.g. 0.95")
        return value

    def validate_range(self, value: str) -> Any:
        return _time_point(value)


class LatencySerializer(serializers.Serializer[Any]):
    service = serializers.CharField()
    percentile = serializers.FloatField()
    value_ms = serializers.FloatField()
    time = serializers.CharField()


class ServicesParamsSerializer(serializers.Serializer[Any]):
    db = name_field()
    range = serializers.CharField(default="-1h")

    def validate_range(self, value: str) -> Any:
        return _time_point(value)


class GroupStatsSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="the value of the grouping tag")
    requests = serializers.IntegerField()
    rate_per_s = serializers.FloatField()
    p95_ms = serializers.FloatField(allow_null=True)
    p99_ms = serializers.FloatField(allow_null=True)
    error_rate = serializers.FloatField(allow_null=True)
    sparkline = serializers.ListField(child=serializers.FloatField(allow_null=True))
    requests_source = serializers.ChoiceField(
        choices=["counter", "latency"],
        help_text="counter: requests and errors are sums of CRISP_REQUEST_COUNTER; latency: "
        "counts of latency points (no counter in the database, or none for this row)",
    )


class ServiceStatsSerializer(GroupStatsSerializer):
    name = None  # type: ignore[assignment]  # the overview names it "service"
    service = serializers.CharField(source="name")


class ServiceDetailSerializer(serializers.Serializer[Any]):
    service = serializers.CharField()
    summary = GroupStatsSerializer(allow_null=True, help_text="null: no data in the range")
    breakdowns = serializers.DictField(
        child=GroupStatsSerializer(many=True),
        help_text="breakdown tag (CRISP_LATENCY_BREAKDOWN_TAGS) → stats per value",
    )
