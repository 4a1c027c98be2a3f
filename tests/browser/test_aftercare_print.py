"""The front desk opens a session's aftercare sheet in Chromium: nothing overflows an A4-wide page on screen or
in print, the toolbar disappears in print, and Chromium's own print to A4 and US Letter gives at most two pages
with the patient's name and date of birth on each."""

import subprocess

import pytest

from tests.browser.conftest import login, shot
from tests.factories import UserFactory
from tests.plans.test_aftercare_content import completed_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A4_WIDTH_PX = 794  # 210 mm at 96 dpi
LONGEST_REGIMEN = ["triple_combination", "hydroquinone", "tretinoin", "azelaic_acid", "vitamin_c", "txa_oral", "niacinamide"]


def overflow(page) -> dict:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " widest: Math.max(...[...document.querySelectorAll('.ac-sheet *')].map(e => e.getBoundingClientRect().right))})"
    )


def pdf_pages(pdf: bytes, tmp_path, name: str) -> list[str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def test_print_view_fits_the_page_and_prints_on_two_pages_at_most(page, tmp_path):
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    session = completed_session(modality="nafl", hsv=True, agents=LONGEST_REGIMEN)
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": 1123})
    login(page, "frontdesk")

    page.goto(f"/sessions/{session.pk}/aftercare/")
    page.get_by_role("heading", name="Aftercare after your Non-ablative fractional laser treatment").wait_for()
    assert page.get_by_role("button", name="Print").is_visible()
    size = overflow(page)
    assert size["scroll"] <= size["inner"] and size["widest"] <= size["inner"], size
    font_px = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.ac-section li')).fontSize)")
    assert font_px >= 11 * 96 / 72 - 0.1  # at least 11 pt
    shot(page, "aftercare-01-print-view")

    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Print").is_visible()  # toolbar hidden on paper
    size = overflow(page)
    assert size["scroll"] <= size["inner"] and size["widest"] <= size["inner"], size
    shot(page, "aftercare-02-print-media")

    for paper in ("A4", "Letter"):
        pages = pdf_pages(page.pdf(format=paper, prefer_css_page_size=True), tmp_path, paper)
        assert 1 <= len(pages) <= 2, (paper, len(pages))
        for text in pages:
            assert "Nadia Rahman" in text and "Date of birth 14 March 1985" in text, (paper, text[:200])


def test_print_view_on_a_narrow_screen_does_not_overflow(page):
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    session = completed_session(agents=["hydroquinone"])
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "frontdesk")

    page.goto(f"/sessions/{session.pk}/aftercare/")
    page.get_by_role("heading", name="The first 24 hours").wait_for()
    size = overflow(page)
    assert size["scroll"] <= size["inner"], size
    shot(page, "aftercare-03-phone")


def test_print_in_one_click_from_the_session_page_link(page):
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    session = completed_session()
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    login(page, "frontdesk")

    page.goto(f"/sessions/{session.pk}/aftercare/?print=1")  # the session page's "Print aftercare sheet" link
    page.get_by_role("heading", name="The first 24 hours").wait_for()
    page.wait_for_function("() => window.__printed === 1")

    page.get_by_role("button", name="Print").click()
    assert page.evaluate("() => window.__printed") == 2
