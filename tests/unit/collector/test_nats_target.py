import pytest

from crisp.cli.main import main
from crisp.collector.nats_target import NatsTarget, check_consumer_name, parse_nats_url
from crisp.core.settings import SettingError, load_settings


def test_stream_is_the_path_and_the_default_subject() -> None:
    assert parse_nats_url("nats://127.0.0.1:4222/crisp") == NatsTarget(
        "nats://127.0.0.1:4222", "crisp", "crisp"
    )


def test_subject_parameter_port_default_and_credentials() -> None:
    target = parse_nats_url("tls://ingest:s3cret@nats.example:4333/METRICS?subject=metrics.in")
    assert target == NatsTarget("tls://ingest:s3cret@nats.example:4333", "METRICS", "metrics.in")
    assert parse_nats_url("nats://nats.example/s").server == "nats://nats.example:4222"


def test_display_hides_the_password() -> None:
    target = parse_nats_url("nats://ingest:s3cret@nats.example:4222/crisp?subject=a.b")
    assert target.display == "nats://ingest@nats.example:4222/crisp?subject=a.b"
    assert "s3cret" not in target.display


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("nats://127.0.0.1:4222/", "must name the JetStream stream"),
        ("nats://127.0.0.1:4222/a.b", "must name the JetStream stream"),
        ("nats://127.0.0.1:4222/s?subject=a.*", "not a plain NATS subject"),
        ("nats://127.0.0.1:4222/s?subjet=a", "unknown parameter 'subjet'"),
        ("nats://127.0.0.1:99999/s", "bad port"),
        ("http://127.0.0.1:4222/s", "starts with nats://"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_nats_url(url)


def test_consumer_names_follow_stream_name_rules() -> None:
    assert check_consumer_name("crisp-storage_2") == "crisp-storage_2"
    with pytest.raises(ValueError, match="letters, digits"):
        check_consumer_name("a.b")


def test_sink_setting_takes_a_nats_url_and_refuses_one_without_stream() -> None:
    settings = load_settings(environ={"CRISP_SINK": "nats://127.0.0.1:4222/crisp"})
    assert settings.sink == "nats://127.0.0.1:4222/crisp"
    with pytest.raises(SettingError, match="CRISP_SINK"):
        load_settings(environ={"CRISP_SINK": "nats://127.0.0.1:4222"})


def test_consume_without_a_stream_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consume", "--sink", "http://127.0.0.1:8086"]) == 2
    assert "give --nats nats://HOST:PORT/STREAM" in capsys.readouterr().err


def test_consume_refuses_a_nats_sink(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["consume", "--nats", "nats://h:4222/s", "--sink", "nats://h:4222/t"])
    assert code == 2
    assert "is not storage" in capsys.readouterr().err


def test_collector_with_a_bad_stream_name_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["collector", "--sink", "nats://h:4222/a.b"]) == 2
    assert "must name the JetStream stream" in capsys.readouterr().err
