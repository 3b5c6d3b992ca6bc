"""``CRISP_COLLECTOR_WORKERS``: what each worker gets, what the supervisor refuses."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from crisp.cli.collector_cmd import worker_command
from crisp.cli.main import build_parser
from crisp.cli.options import settings_from_args
from crisp.collector.workers import check_workers, worker_settings
from crisp.core.settings import Address, load_settings


def test_each_worker_has_its_own_spool_and_only_worker_0_reads_udp(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "CRISP_SPOOL_DIR": str(tmp_path),
            "CRISP_COLLECTOR_WORKERS": "2",
            "CRISP_COLLECTOR_UDP_LISTEN": "127.0.0.1:8089",
        }
    )
    first, second = worker_settings(settings, 0), worker_settings(settings, 1)
    assert (first.spool_dir, second.spool_dir) == (tmp_path / "worker-0", tmp_path / "worker-1")
    assert first.collector_udp_listen == Address("127.0.0.1", 8089)
    assert second.collector_udp_listen is None
    assert first.collector_workers == second.collector_workers == 1


def test_workers_refuse_the_embedded_sink_and_a_busy_port() -> None:
    with pytest.raises(ValueError, match="only one process may own the data directory"):
        check_workers(load_settings(environ={"CRISP_COLLECTOR_WORKERS": "2"}))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = load_settings(
            environ={
                "CRISP_COLLECTOR_WORKERS": "2",
                "CRISP_SINK": "http://127.0.0.1:8086",
                "CRISP_COLLECTOR_LISTEN": f"127.0.0.1:{port}",
            }
        )
        with pytest.raises(ValueError, match=f"cannot listen on 127.0.0.1:{port}"):
            check_workers(settings)


def test_a_worker_is_started_with_the_supervisors_flags_and_its_index() -> None:
    args = build_parser().parse_args(
        ["collector", "--listen", "127.0.0.1:9100", "--sink", "http://db:8086",
         "--collector-workers", "3", "--writer-flush-interval", "50ms"]
    )  # fmt: skip
    command = worker_command(args, 2)
    assert command[:4] == [sys.executable, "-m", "crisp", "collector"]
    worker_args = build_parser().parse_args(command[3:])
    assert worker_args.worker_index == 2
    settings = settings_from_args(worker_args, environ={})
    assert settings == settings_from_args(args, environ={})
    assert settings.writer_flush_interval == 0.05
