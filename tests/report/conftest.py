"""A real headless Chromium (Debian's `chromium`, driven by Playwright) that opens report pages
offline and records every request, console error and script error."""

import os
import shutil
from dataclasses import dataclass, field

import pytest

from tests.skips import tool_missing

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-domain-reliability",
                 "--metrics-recording-only"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)),
        None)


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        tool_missing("Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class OpenedPage:
    """A page opened from disk, and what it tried to do while loading."""
    page: object
    requests: list[str] = field(default_factory=list)      # every request but the page itself
    errors: list[str] = field(default_factory=list)        # console errors and script errors


@pytest.fixture
def open_page(browser):
    """open_page(path, width=1280) -> OpenedPage. The context is offline, and every request
    other than the file itself is aborted and recorded."""
    contexts = []

    def opener(path, width: int = 1280) -> OpenedPage:
        context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = OpenedPage(page)
        url = path.resolve().as_uri()

        def on_request(request):
            if request.url != url:
                opened.requests.append(request.url)

        def block(route):
            if route.request.url == url:
                route.continue_()
            else:
                route.abort()

        page.on("request", on_request)
        context.route("**/*", block)
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
        page.on("dialog", lambda d: (opened.errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(url, wait_until="load")
        return opened

    yield opener
    for context in contexts:
        context.close()
