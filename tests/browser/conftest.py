"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

Screenshots go to artifacts/screenshots/ (CI keeps that folder). Use ``shot(page, "name")``.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session", autouse=True)
def _one_request_at_a_time_on_sqlite():
    """On SQLite the test database is one in-memory connection that the live server's request threads share;
    two requests at once (a page and its photo, say) use it from two threads and SQLite fails with "bad parameter
    or other API misuse", now and then. There the live server answers one request at a time; on PostgreSQL each
    thread has its own connection and the server stays threaded."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    lock = threading.Lock()

    class OneRequestAtATime(ThreadedWSGIServer):
        """Still a thread per connection (browsers keep connections open); the app answers one at a time."""

        def set_app(self, application):
            def in_turn(environ, start_response):
                with lock:
                    result = application(environ, start_response)
                    try:
                        return list(result)  # the whole body is produced while the lock is held
                    finally:
                        if hasattr(result, "close"):
                            result.close()

            super().set_app(in_turn)

    threaded, LiveServerThread.server_class = LiveServerThread.server_class, OneRequestAtATime
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    # A Content-Security-Policy violation or a JavaScript error is a bug the user would meet.
    assert not errors, f"browser console errors: {errors}"


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, username: str, password: str = "demo-clinic"):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
