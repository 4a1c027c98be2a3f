"""PDFs fetch only what they are allowed to: local files for sheets and reports, inlined data for the patient's
copy; a network address is left out and never fails the render."""

import base64
import subprocess
from pathlib import Path

import pytest

from clinic.pdf import url_fetcher

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _images(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    rows = listing.strip().splitlines()[2:]  # after two header lines; an alpha channel is a second "smask" row
    return sum(1 for row in rows if row.split()[2] == "image")


def _render(html: str, *schemes: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=url_fetcher(*schemes)).write_pdf()


@pytest.mark.parametrize(("schemes", "kind", "expected"), [
    (("file",), "file", 1),
    (("file",), "data", 0),
    (("data",), "data", 1),
    (("data",), "file", 0),
    (("file", "data"), "http", 0),
])
def test_a_pdf_loads_only_the_schemes_it_allows(tmp_path, schemes, kind, expected):
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    src = {
        "file": image.as_uri(),
        "data": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        "http": "http://127.0.0.1:9/dot.png",  # nothing listens there; must not even be tried
    }[kind]
    pdf = _render(f'<p>Sheet</p><img src="{src}" width="20" height="20">', *schemes)
    assert pdf.startswith(b"%PDF")
    assert _images(pdf, tmp_path) == expected
