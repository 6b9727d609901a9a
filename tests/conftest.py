"""Settings every test needs before anything imports Prefect, and shared fixtures."""

import os
import tempfile
from pathlib import Path

import pytest

# Prefect reads these at import: keep its state out of ~/.prefect, keep it offline and quiet.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="kith-prefect-home-")
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("KITH_DB", None)
os.environ["KITH_PHONE_REGION"] = "US"

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real export files; tests that need it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "kith.duckdb"


@pytest.fixture(scope="session")
def radicale_server():
    """A real Radicale (CalDAV and CardDAV) on 127.0.0.1 with temporary storage, started once
    for the whole test session."""
    from tests.servers.radicale import RadicaleServer, RadicaleUnavailable
    try:
        server = RadicaleServer.create()
        server.start()
    except RadicaleUnavailable as exc:
        pytest.skip(f"Radicale server unavailable: {exc}")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def xandikos_server():
    """A real Xandikos (CalDAV and CardDAV, no authentication) on 127.0.0.1 with temporary
    storage, started once for the whole test session. Skipped when the package is missing; an
    installed Xandikos that will not start fails the run under CI=true."""
    from tests.servers.xandikos import XandikosServer, XandikosUnavailable
    try:
        server = XandikosServer.create()
    except XandikosUnavailable as exc:
        pytest.skip(f"Xandikos server unavailable: {exc}")
    try:
        server.start()
    except XandikosUnavailable as exc:
        server.cleanup()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Xandikos is installed but would not start: {exc}")
        pytest.skip(f"Xandikos server unavailable: {exc}")
    yield server
    server.cleanup()
