"""Which skips are allowed, and what a missing test server does: skip here, fail under CI.

Under CI=true (.ci/run installs every server the tests use), a real server that is missing or does
not start fails the run; elsewhere its tests skip. A skip is allowed only for a reason in
ALLOWED_SKIPS (the README's Development section lists them); under CI any other skip fails the
run at the end (tests/conftest.py), and pytest's skip summary (-rs) names every skip.
"""

import os

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")

ALLOWED_SKIPS = {
    "shared corpus not found": "outside CI only: ../shared/corpus is absent",
    "server unavailable": "outside CI only: Dovecot, Radicale or Xandikos is not installed or "
                          "would not start here",
    "tool not installed": "outside CI only: Tesseract or Chromium is not installed here",
    "needs a non-root user": "a permission test run as root where the capabilities that bypass "
                             "file permissions cannot be dropped (no setpriv)",
    # tests/dav: a contract test for a feature a server fixture does not have (LACKS there)
    "radicale lacks": "a DAV contract test of a feature Radicale does not have",
    "xandikos lacks": "a DAV contract test of a feature Xandikos does not have",
}
ALLOWED_UNDER_CI = ("needs a non-root user", "radicale lacks", "xandikos lacks")


def server_unavailable(name: str, exc: Exception):
    """Skip (outside CI) or fail (under CI) the tests that need a real server that is missing or
    would not start. Every server fixture goes through here."""
    if IN_CI:
        pytest.fail(f"{name} did not start under CI=true (a server CI needs must run; .ci/run "
                    f"installs it): {exc}", pytrace=False)
    pytest.skip(f"server unavailable: {name}: {exc}")


def tool_missing(message: str):
    """Skip (outside CI) or fail (under CI) the tests that need a program .ci/run installs
    (Tesseract, Chromium) when it is not there."""
    if IN_CI:
        pytest.fail(f"{message} under CI=true (.ci/run installs it)", pytrace=False)
    pytest.skip(f"tool not installed: {message}")


def disallowed_skips(skips: list[tuple[str, str]], in_ci: bool) -> list[tuple[str, str]]:
    """The (test, reason) pairs whose reason is not allowed (under CI, or anywhere)."""
    allowed = ALLOWED_UNDER_CI if in_ci else tuple(ALLOWED_SKIPS)
    return [(node, reason) for node, reason in skips if not reason.startswith(allowed)]
