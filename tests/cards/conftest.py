"""Fixtures for card photos: real Tesseract, and cards drawn with known truth."""

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def tesseract():
    """Tesseract must be there: skipped on a developer's machine without it, a failure in CI
    (which installs it, see .ci/run)."""
    if shutil.which("tesseract") is None:
        message = "tesseract is not installed (Debian: apt-get install tesseract-ocr)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return shutil.which("tesseract")
