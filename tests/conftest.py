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


# --- CI cannot go green by skipping -------------------------------------------------------------
# Under CI=true (.ci/run installs every server the tests use), a real server that is missing or
# does not start fails the run; elsewhere its tests skip. A skip is allowed only for a reason in
# ALLOWED_SKIPS (the README's Development section lists them); under CI any other skip fails the
# run at the end, and pytest's skip summary (-rs) names every skip.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")

ALLOWED_SKIPS = {
    "shared corpus not found": "outside CI only: ../shared/corpus is absent",
    "server unavailable": "outside CI only: Dovecot or Radicale is not installed or would not "
                          "start here",
    "needs root": "a test that must switch to another user (chown, setuid) run by a non-root user",
    "needs a non-root user": "a permission test run as root with no unprivileged user to become",
}
ALLOWED_UNDER_CI = ("needs root", "needs a non-root user")


def server_unavailable(name: str, exc: Exception):
    """Skip (outside CI) or fail (under CI) the tests that need a real server that is missing or
    would not start. Every server fixture goes through here."""
    if IN_CI:
        pytest.fail(f"{name} did not start under CI=true (a server CI needs must run; .ci/run "
                    f"installs it): {exc}", pytrace=False)
    pytest.skip(f"server unavailable: {name}: {exc}")


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


def disallowed_skips(skips: list[tuple[str, str]], in_ci: bool) -> list[tuple[str, str]]:
    allowed = ALLOWED_UNDER_CI if in_ci else tuple(ALLOWED_SKIPS)
    return [(node, reason) for node, reason in skips if not reason.startswith(allowed)]


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
