"""``crisp collector replay-dead-letters``: resend dead-lettered batches.

Each file is posted as line protocol to ``/write`` of a running collector (by
default; ``--to`` may name a storage node or any InfluxDB-compatible server) and
deleted only once that answers 2xx. Through a collector the points go through the
spool again, so a resend is as safe as the original write; a file the target still
refuses stays, with the reason printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crisp.collector.deadletter import DeadLetters, read_dead_letter


@dataclass
class ReplayReport:
    sent: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    unreachable: str | None = None


def replay_dead_letters(
    directory: Path,
    target_url: str,
    *,
    token: str = "",
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> ReplayReport:
    report = ReplayReport()
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Token {token}"
    with httpx.Client(
        base_url=target_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
    ) as client:
        for path in DeadLetters(directory).files():
            try:
                letter = read_dead_letter(path)
            except ValueError as error:
                report.refused.append((path, str(error)))
                continue
            params = {"db": letter.database, "precision": "ns"}
            if letter.rp:
                params["rp"] = letter.rp
            try:
                response = client.post("/write", params=params, content=letter.body)
            except httpx.HTTPError as error:
                # The target is down: stop here, the remaining files stay for next time.
                report.unreachable = f"{target_url}: {type(error).__name__}: {error}"
                return report
            if 200 <= response.status_code < 300:
                path.unlink()
                report.sent.append(path)
            else:
                report.refused.append((path, f"{response.status_code}: {response.text[:300]}"))
    return report
