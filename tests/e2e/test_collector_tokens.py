"""``crisp collector --write-tokens-file``: tenant tokens limited to databases, live reload."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.crisp_process import crisp

pytestmark = pytest.mark.e2e


def sha256_of(token: str) -> str:
    """The hash as a user gets it: `crisp collector hash-token` reading stdin."""
    result = subprocess.run(
        [sys.executable, "-m", "crisp", "collector", "hash-token"],
        input=token + "\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def replace_atomically(path: Path, document: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document))
    tmp.replace(path)


def test_tenant_tokens_are_limited_to_their_databases_and_reloaded(tmp_path: Path) -> None:
    tokens = tmp_path / "write-tokens.json"
    replace_atomically(
        tokens,
        {"tokens": [{"name": "payments", "sha256": sha256_of("crisp_pay"),
                     "databases": ["payments"]}]},
    )  # fmt: skip
    port = free_port()
    args = (
        "collector", "--listen", f"127.0.0.1:{port}", "--sink", "embedded",
        "--data-dir", str(tmp_path / "data"), "--spool-dir", str(tmp_path / "spool"),
        "--write-tokens-file", str(tokens),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with crisp(*args, env={"CRISP_LOG_LEVEL": "warning"}) as collector:
        collector.wait_ready()

        def write(db: str, token: str) -> int:
            return httpx.post(
                f"{url}/write", params={"db": db}, content=b"m v=1 1\n",
                headers={"Authorization": f"Token {token}"},
            ).status_code  # fmt: skip

        assert write("payments", "crisp_pay") == 204
        assert write("billing", "crisp_pay") == 403
        assert write("payments", "crisp_unknown") == 401
        anonymous = httpx.post(f"{url}/write", params={"db": "payments"}, content=b"m v=1\n")
        assert anonymous.status_code == 401

        # The console (or an operator) grants billing too: no restart.
        replace_atomically(
            tokens,
            {"tokens": [{"name": "payments", "sha256": sha256_of("crisp_pay"),
                         "databases": ["payments", "billing"]}]},
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while write("billing", "crisp_pay") != 204 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert write("billing", "crisp_pay") == 204
        assert collector.stop() == 0
