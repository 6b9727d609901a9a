"""Settings every test needs before anything imports Prefect, and shared fixtures."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.skips import IN_CI, disallowed_skips, server_unavailable

# Prefect reads these at import: keep its state out of ~/.prefect, keep it offline and quiet.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="kith-prefect-home-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("KITH_DB", None)
os.environ["KITH_PHONE_REGION"] = "US"
# Tables printed in-process (CliRunner) are 160 characters wide unless COLUMNS says otherwise;
# pytest-xdist's workers set it to 80, which wraps the cells tests look for.
os.environ.pop("COLUMNS", None)
# An unexpected exception inside a connector escapes `kith import` instead of refusing the file:
# in tests a bug in kith's own code fails loudly (tests of the refusal itself set it to 0).
os.environ["KITH_RAISE_ERRORS"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


# --- CI cannot go green by skipping (tests/skips.py) --------------------------------------------
_skips: list[tuple[str, str]] = []


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skips.append((report.nodeid, _skip_reason(report)))


def pytest_collectreport(report):
    if report.skipped:
        _skips.append((report.nodeid, _skip_reason(report)))


def pytest_sessionfinish(session, exitstatus):
    bad = disallowed_skips(_skips, IN_CI)
    if bad and exitstatus == 0:
        session.exitstatus = 1
    session.config._kith_bad_skips = bad


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    bad = getattr(config, "_kith_bad_skips", [])
    if bad:
        where = "under CI=true" if IN_CI else "anywhere"
        terminalreporter.section("skips that are not allowed", sep="=", red=True, bold=True)
        terminalreporter.write_line(f"{len(bad)} test(s) skipped for a reason not allowed {where} "
                                    "(see ALLOWED_SKIPS in tests/conftest.py and the README's "
                                    "Development section); the run fails:")
        for node, reason in bad:
            terminalreporter.write_line(f"  {node}: {reason}")


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
        server_unavailable("Radicale server", exc)
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
