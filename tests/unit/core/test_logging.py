import io
import json
import logging
from collections.abc import Iterator

import pytest

from crisp.core.logging import configure_logging
from crisp.core.settings import Settings


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_format_writes_one_object_per_line_with_extras() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), stream)
    logging.getLogger("crisp.test").warning("disk %s", "full", extra={"database": "db1"})
    entry = json.loads(stream.getvalue().strip())
    assert entry["level"] == "warning"
    assert entry["logger"] == "crisp.test"
    assert entry["message"] == "disk full"
    assert entry["database"] == "db1"


def test_text_format_is_human_readable_and_respects_level() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_level="warning"), stream)
    logging.getLogger("crisp.test").info("hidden")
    logging.getLogger("crisp.test").error("shown")
    output = stream.getvalue()
    assert "hidden" not in output
    assert "ERROR" in output
    assert "crisp.test: shown" in output
