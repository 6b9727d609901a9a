"""CI cannot go green by skipping: the rules in tests/skips.py, and a real pytest run under them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tests.skips as skips

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "skip_policy" / "skipping.py"


def test_under_ci_a_server_that_does_not_start_fails_the_test(monkeypatch):
    monkeypatch.setattr(skips, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="Radicale server did not start under CI=true"):
        skips.server_unavailable("Radicale server", RuntimeError("radicale exited with status 1"))


def test_outside_ci_a_server_that_does_not_start_skips_its_tests(monkeypatch):
    monkeypatch.setattr(skips, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="^server unavailable: Radicale server: "):
        skips.server_unavailable("Radicale server", RuntimeError("radicale exited with status 1"))


def test_only_the_listed_reasons_are_allowed():
    found = [("a", "shared corpus not found: x"), ("b", "server unavailable: Dovecot: y"),
             ("c", "needs a non-root user: z"), ("d", "flaky on Tuesdays")]
    assert skips.disallowed_skips(found, in_ci=False) == [("d", "flaky on Tuesdays")]
    assert skips.disallowed_skips(found, in_ci=True) == [
        ("a", "shared corpus not found: x"), ("b", "server unavailable: Dovecot: y"),
        ("d", "flaky on Tuesdays")]


def test_the_readme_lists_every_allowed_skip():
    development = (ROOT / "README.md").read_text().split("## Development", 1)[1]
    assert [reason for reason in skips.ALLOWED_SKIPS if f"*{reason}*" not in development] == []


def run_sample(*args, ci: bool):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                           str(SAMPLE), *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_a_skip_for_an_unlisted_reason_fails_the_run():
    proc = run_sample("-k", "nobody_listed or passes", ci=False)
    assert proc.returncode == 1, proc.stdout
    assert "skips that are not allowed" in proc.stdout and "flaky on Tuesdays" in proc.stdout


def test_a_listed_reason_passes_outside_ci_and_is_summarised():
    proc = run_sample("-k", "corpus_is_absent or passes", ci=False)
    assert proc.returncode == 0, proc.stdout
    assert "SKIPPED [1]" in proc.stdout and "shared corpus not found" in proc.stdout


def test_under_ci_a_missing_corpus_fails_the_run():
    proc = run_sample("-k", "corpus_is_absent or passes", ci=True)
    assert proc.returncode == 1, proc.stdout
    assert "skips that are not allowed" in proc.stdout
