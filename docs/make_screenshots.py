"""Screenshots for README from the demo clinic: `python docs/make_screenshots.py http://127.0.0.1:8000`
against a server running `make demo` data. Uses Debian's Chromium through Playwright."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def login(page, username):
    page.context.clear_cookies()
    page.goto(f"{BASE}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-clinic")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def shot(page, name, path):
    page.goto(f"{BASE}{path}")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    login(page, "clinician")
    shot(page, "clinician-dashboard", "/")
    page.goto(f"{BASE}/plans/")  # noqa: the plan list lives on patient pages; pick an active plan below
    plan_link = None
    for pk in range(1, 80):
        response = page.goto(f"{BASE}/plans/{pk}/")
        if response.ok and "Active" in page.content() and "Severity trend" in page.content() and "% " in page.content():
            plan_link = f"/plans/{pk}/"
            break
    if plan_link:
        page.screenshot(path=str(OUT / "plan-page.png"), full_page=True)
    login(page, "frontdesk")
    shot(page, "schedule-day", "/schedule/")
    for pk in range(1, 200):
        response = page.goto(f"{BASE}/sessions/{pk}/aftercare/")
        if response.ok:
            page.screenshot(path=str(OUT / "aftercare-sheet.png"), full_page=False)
            break
    browser.close()
