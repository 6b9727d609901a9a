"""Fixtures for card photos: real Tesseract, and cards drawn with known truth."""

import shutil

import pytest

from tests.skips import tool_missing


@pytest.fixture(scope="session")
def tesseract():
    """Tesseract must be there: skipped on a developer's machine without it, a failure in CI
    (which installs it, see .ci/run)."""
    if shutil.which("tesseract") is None:
        tool_missing("tesseract (Debian: apt-get install tesseract-ocr)")
    return shutil.which("tesseract")
