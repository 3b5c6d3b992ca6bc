"""``crisp serve``: every component in one process, on embedded defaults."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from crisp.cli.options import add_setting_flags
from crisp.cli.running import run_until_stopped
from crisp.core.settings import Settings

EXIT_USAGE = 2
HELP = "run everything in one process (storage, collector, console) on embedded defaults"
SETTINGS = (
    "data_dir",
    "listen",
    "console_listen",
    "collector_listen",
    "spool_dir",
    "writer_batch_size",
    "writer_flush_interval",
    "wal_fsync",
    "worker_lease",
    "alert_history_retention",
    "write_ack",
    "max_body_size",
    "database_url",
    "secret_key",
    "allowed_hosts",
    "debug",
    "metrics_timeout",
    "latency_measurement",
    "latency_field",
    "latency_service_tag",
    "latency_breakdown_tags",
    "request_counter",
    "console_default_db",
    "demo_data",
    "admin_token",
    "log_format",
    "log_level",
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `crisp --help` and `crisp config` stay fast and light.
    from prometheus_client import CollectorRegistry

    from crisp.collector.node import collector_node
    from crisp.console.alerts.components import WorkerComponent
    from crisp.console.components import console_components
    from crisp.runtime.storage_node import engine_component, storage_api

    # One engine serves the storage API, the collector's embedded sink and the console's
    # in-process backend; it starts first and stops last, after everything using it.
    registry = CollectorRegistry()
    engine = engine_component(settings, registry)
    local = replace(settings, sink="embedded")
    try:
        collector = collector_node(local, registry, engine=engine)
    except (ValueError, OSError) as error:  # a bad tokens or aggregation rules file
        print(f"crisp serve: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return run_until_stopped(
        [
            engine,
            storage_api(engine, settings, registry),
            *collector,
            *console_components(settings, lambda: engine.engine),
            # Alerting evaluates on the console's in-process backend, so it comes after it.
            WorkerComponent(settings, registry),
        ]
    )
