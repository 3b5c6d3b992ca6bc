"""Write tokens per tenant, limited to databases (CRISP_WRITE_TOKENS_FILE)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from crisp.cli.main import main
from crisp.collector.write_tokens import WriteTokensFile, hash_token, parse_write_tokens
from tests.unit.collector.helpers import Harness

PAYMENTS = "crisp_payments-token"
OPS = "crisp_ops-token"
OLD = "crisp_expired-token"
LINE = b"m v=1 1\n"


def write_file(path: Path, tokens: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"tokens": tokens}))
    return path


def tokens_file(tmp_path: Path) -> Path:
    return write_file(
        tmp_path / "tokens.json",
        [
            {"name": "payments", "sha256": hash_token(PAYMENTS),
             "databases": ["payments", "payments_*"]},
            {"name": "ops", "sha256": hash_token(OPS), "databases": ["*"]},
            {"name": "old", "sha256": hash_token(OLD), "databases": ["*"],
             "expires": "2020-01-01T00:00:00Z"},
        ],
    )  # fmt: skip


@pytest.fixture
def h(tmp_path: Path) -> Any:
    harness = Harness(
        tmp_path, admin_token="admin-s3cret", write_tokens=WriteTokensFile(tokens_file(tmp_path))
    )
    with harness.client:
        yield harness
    harness.close()


def post(h: Harness, db: str, token: str | None, path: str = "/write") -> Any:
    headers = {"Authorization": f"Token {token}"} if token else {}
    return h.client.post(path, params={"db": db}, content=LINE, headers=headers)


def test_a_tenant_token_writes_to_its_databases_only(h: Harness) -> None:
    assert post(h, "payments", PAYMENTS).status_code == 204
    assert post(h, "payments_eu", PAYMENTS).status_code == 204
    refused = post(h, "billing", PAYMENTS)
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "token 'payments' may not write to database 'billing' "
        "(it may write to: payments, payments_*)"
    )
    assert [db for db, _, _, _ in h.rows()] == ["payments", "payments_eu"]


def test_every_credential_form_and_the_admin_token_work(h: Harness) -> None:
    v1 = h.client.post("/write", params={"db": "payments", "u": "x", "p": PAYMENTS}, content=LINE)
    assert v1.status_code == 204
    basic = h.client.post(
        "/api/v2/write", params={"bucket": "payments"}, content=LINE, auth=("x", PAYMENTS)
    )
    assert basic.status_code == 204
    assert post(h, "anything", OPS).status_code == 204
    assert post(h, "anything", "admin-s3cret").status_code == 204
    json_write = h.client.post(
        "/api/v1/metrics",
        params={"db": "billing"},
        json={"measurement": "m", "fields": {"v": 1}},
        headers={"Authorization": f"Bearer {PAYMENTS}"},
    )
    assert json_write.status_code == 403


def test_unknown_expired_and_missing_tokens_get_401(h: Harness) -> None:
    assert post(h, "payments", "crisp_nobody").status_code == 401
    assert post(h, "payments", OLD).status_code == 401
    missing = post(h, "payments", None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Basic realm="crisp"'
    assert h.rows() == []


def test_a_changed_file_is_reloaded_and_a_broken_change_keeps_the_old_tokens(
    tmp_path: Path,
) -> None:
    now = [0.0]
    path = tokens_file(tmp_path)
    tokens = WriteTokensFile(path, clock=lambda: now[0])
    assert tokens.lookup(PAYMENTS) is not None
    write_file(path, [{"name": "new", "sha256": hash_token("crisp_new"), "databases": ["n"]}])
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock
    now[0] = 2.0
    assert tokens.lookup(PAYMENTS) is None
    new = tokens.lookup("crisp_new")
    assert new is not None
    assert new.allows("n")
    path.write_text("{not json")
    now[0] = 4.0
    assert tokens.lookup("crisp_new") is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", 'expected {"tokens": [...]}'),
        ('{"tokens": [{"sha256": "ab", "databases": ["x"]}]}', "token 1: sha256 must be 64"),
        ('{"tokens": [{"sha256": "' + "a" * 64 + '", "databases": []}]}', "databases must be"),
        ('{"tokens": [{"sha256": "' + "a" * 64 + '", "databases": ["x"], "db": 1}]}',
         "unknown key 'db'"),
        ('{"tokens": [{"sha256": "' + "a" * 64 + '", "databases": ["x"], '
         '"expires": "2027-01-01T00:00:00"}]}', "needs a time zone"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_entry(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"^settings-tokens:") as error:
        parse_write_tokens(text, "settings-tokens")
    assert problem in str(error.value)


def test_hash_token_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PAYMENTS + "\n"))
    assert main(["collector", "hash-token"]) == 0
    assert capsys.readouterr().out.strip() == hash_token(PAYMENTS)


def test_collector_with_a_broken_tokens_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{}")
    assert main(["collector", "--write-tokens-file", str(path)]) == 2
    assert 'expected {"tokens": [...]}' in capsys.readouterr().err
