import pytest
from pydantic import ValidationError

from core.config import Settings


def test_defaults_are_embedded(monkeypatch) -> None:
    for var in ("DB_URL", "S3_ENDPOINT", "DATA_DIR", "MAX_UPLOAD_MB", "GENERATE_TIMEOUT_S", "PORT"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.resolved_db_url == "sqlite:///data/fitroom.db"
    assert s.s3_endpoint is None
    assert s.max_upload_bytes == 10 * 1024 * 1024
    assert s.generate_timeout_s == 180
    assert (s.host, s.port) == ("127.0.0.1", 7860)


def test_environment_overrides(monkeypatch) -> None:
    monkeypatch.setenv("DB_URL", "postgresql://u:p@127.0.0.1/db")
    monkeypatch.setenv("MAX_UPLOAD_MB", "2.5")
    monkeypatch.setenv("S3_ENDPOINT", "http://127.0.0.1:9000")
    monkeypatch.setenv("TMP_DIR", "/tmp/fitroom-x")
    s = Settings()
    assert s.resolved_db_url.startswith("postgresql://")
    assert s.max_upload_bytes == int(2.5 * 1024 * 1024)
    assert s.s3_endpoint == "http://127.0.0.1:9000"
    assert str(s.resolved_tmp_dir) == "/tmp/fitroom-x"


@pytest.mark.parametrize("var,value", [("MAX_UPLOAD_MB", "-1"), ("PORT", "70000"),
                                       ("GENERATE_TIMEOUT_S", "0"), ("JOB_WORKERS", "abc")])
def test_bad_values_refused(monkeypatch, var, value) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


def test_trusted_proxies() -> None:
    """Per-address limits count X-Forwarded-For only from trusted proxies: loopback by default, any
    peer on a Space (reached only through its proxy), or what the operator names."""
    from core.config import trusted_proxies

    assert trusted_proxies({}) == "127.0.0.1"
    assert trusted_proxies({"SPACE_ID": "me/fitroom"}) == "*"
    assert trusted_proxies({"SPACE_ID": "me/fitroom", "FORWARDED_ALLOW_IPS": "10.0.0.1"}) == "10.0.0.1"
