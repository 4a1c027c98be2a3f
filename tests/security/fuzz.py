"""Property-based form fuzzing (issue 7): random, oversized, empty and odd-Unicode values posted to a form.

Never a 500; when the form is rejected (re-rendered with 200) the database is exactly as it was."""

import functools
import io
import struct
import time
import zlib
from html.parser import HTMLParser

from django.apps import apps
from django.db import connection
from hypothesis import strategies as st
from PIL import Image

ODD = st.sampled_from([
    "", " ", "\u0000", "\u202e\u202dRTL", "💉🧴☀️", "Ωμέγα", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ud7ff", "e\u0301" * 50, "<b>x</b>",
    "'; DROP TABLE patients_patient; --", "9" * 40, "-1", "0", "1e309", "NaN", "2026-02-30", "31/31/2031",
    "\t\n\r", "x" * 20_000, "9999-12-31", "0001-01-01", "9999-12-31T23:59", "0001-01-01T00:00", "23:59",
])
VALUE = st.one_of(
    ODD,
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


class _Forms(HTMLParser):
    """Every <form> of a page: its method, action, the names of its fillable fields, their input types and the
    values the page filled in (what a browser would send if the user changed nothing)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                             "names": [], "files": [], "types": {}, "values": {}}
            self.forms.append(self._current)
            return
        if tag == "option" and self._select is not None and self._current is not None:
            values = self._current["values"]
            if "selected" in attrs or self._select not in values:
                values[self._select] = attrs.get("value", "")
            return
        name = attrs.get("name")
        if self._current is None or tag not in ("input", "select", "textarea") or not name:
            return
        kind = attrs.get("type") or tag
        if kind == "file":
            self._current["files"].append(name)
        if name != "csrfmiddlewaretoken" and kind not in ("submit", "button", "file"):
            if name not in self._current["names"]:
                self._current["names"].append(name)
                self._current["types"][name] = kind
            if tag == "select":
                self._select = name
            elif tag == "textarea":
                self._textarea = name
                self._current["values"].setdefault(name, "")
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._current["values"][name] = attrs.get("value", "on")
            elif attrs.get("value") is not None:
                self._current["values"].setdefault(name, attrs["value"])

    def handle_data(self, data):
        if self._textarea is not None and self._current is not None:
            self._current["values"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [form for form in parser.forms if form["names"]]


def file_fields(html: str) -> list[str]:
    """The names of every file input on a page."""
    parser = _Forms()
    parser.feed(html)
    return [name for form in parser.forms for name in form["files"]]


def main_form(html: str) -> dict | None:
    """The page's main form: the one with the most fields (a page may also have a sign-out or search form)."""
    forms = page_forms(html)
    return max(forms, key=lambda form: len(form["names"])) if forms else None


def form_field_names(html: str) -> list[str]:
    form = main_form(html)
    return form["names"] if form else []


def database_fingerprint() -> dict[str, int]:
    """Row counts of every table (history tables included): a rejected save changes none of them."""
    tables = sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed})
    tables = [t for t in tables if t not in ("django_session", "axes_accessattempt", "axes_accesslog",
                                             "axes_accessfailurelog", "clinic_accesslog")]
    with connection.cursor() as cursor:
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {connection.ops.quote_name(t)}" for t in tables)
        cursor.execute(sql)
        return dict(cursor.fetchall())


# --- Hostile uploads --------------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=16)
def png_claiming(width: int, height: int, *, complete: bool = True) -> bytes:
    """A valid 1-bit greyscale PNG of width × height white pixels: tiny on disk (20,000 × 20,000 is ~50 KiB),
    huge once decoded. `complete=False` keeps only the start of the pixel data (a truncated upload)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(6)
    parts, rows_left, batch = [], height, max(1, 4_000_000 // len(row))
    while rows_left:
        n = min(batch, rows_left)
        parts.append(compressor.compress(row * n))
        rows_left -= n
    parts.append(compressor.flush())
    data = b"".join(parts)
    if not complete:
        data = data[: max(16, len(data) // 3)]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png_header_only(width: int, height: int) -> bytes:
    """Just a PNG header declaring width × height, and a few bytes of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


# name -> (file name, content, content type): what the upload fuzz posts to every file field of the project.
HOSTILE_UPLOADS = {
    "pixels over the limit (20,000 × 20,000 in ~50 KiB)": ("bomb.png", lambda: png_claiming(20_000, 20_000), "image/png"),
    "13,000 × 13,000 (under Pillow's own bomb limit)": ("big.png", lambda: png_claiming(13_000, 13_000), "image/png"),
    "declares 65,535 × 65,535, header only": ("huge.png", lambda: png_header_only(65_535, 65_535), "image/png"),
    "declares 7,000 × 7,000, header only": ("huge2.png", lambda: png_header_only(7_000, 7_000), "image/png"),
    "truncated PNG": ("cut.png", lambda: png(64, 64)[:60], "image/png"),
    "truncated pixel data, valid header": ("cut2.png", lambda: png_claiming(2_000, 2_000, complete=False), "image/png"),
    "text file named .png": ("notes.png", lambda: b"just some text, not an image\n" * 20, "image/png"),
    "zero bytes": ("empty.png", lambda: b"", "image/png"),
    "JPEG header then garbage": ("x.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 200, "image/jpeg"),
    "PDF magic then garbage": ("x.pdf", lambda: b"%PDF-1.7\n" + b"\x00" * 100, "application/pdf"),
    "over the 10 MB byte limit": ("big.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), "image/png"),
}


# --- Hostile query strings --------------------------------------------------------------------------------------

# Every parameter name a page of the project reads from its query string, plus the ones its GET forms show
# (found on the page): each is sent hostile values.
QUERY_NAMES = ["date", "by", "page", "q", "archived", "template", "kind", "print", "date_from", "date_to", "next",
               "user", "patient", "staff", "status", "sort", "view", "section", "modality", "month", "week"]
# The sharpest values, each sent in every parameter at once on every GET page.
QUERY_SWEEP = ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01", "9" * 400, "-1", "-9223372036854775809",
               "x" * 20_000, "💉Ωμέγα\u202e\u0000", "2026-02-30"]
QUERY_VALUE = st.one_of(
    st.sampled_from(QUERY_SWEEP + [
        "", " ", "0", "2147483648", str(2**63), "1e309", "NaN", "inf", "-0", "1.5", "true", "' OR 1=1 --",
        "<script>alert(1)</script>", "%00", "..%2f..%2fetc%2fpasswd", "//evil.example/", "javascript:alert(1)",
        "2026-13-45", "26-1-1", "2026/01/01", "+002026-01-01", "2026-01-01T00:00:00+99:00", "１２３", "٣",
    ]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=200),
)
# A parameter sent once, or repeated (?date=a&date=b: Django reads the last; nothing may read a list wrongly).
QUERY_PARAM = st.lists(QUERY_VALUE, min_size=1, max_size=3)


def get_form_names(html: str) -> list[str]:
    """The field names of a page's GET forms (search boxes, period filters)."""
    return [name for form in page_forms(html) if form["method"] == "get" for name in form["names"]]


SLOWEST = 2.0  # seconds: no request may take longer (a guard against a hang, not a benchmark)


def timed(call, *, tries: int = 3):
    """`call()`'s response and how long it took (time.perf_counter). Over SLOWEST the same request is made again
    (up to `tries` in all) and the fastest time kept, so a moment of load on a shared 2-core machine is not taken
    for a hang: a hostile input (a bomb, a million-row formset) is slow every time."""
    best = None
    for _ in range(tries):
        start = time.perf_counter()
        response = call()
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
        if best < SLOWEST:
            break
    return response, best


# Sent one at a time in each date, time and number field of a form (by its input type), the rest of the form as
# the page filled it.
EXTREME_FIELD_VALUES = {
    "date": ["9999-12-31", "0001-01-01"],
    "datetime-local": ["9999-12-31T23:59", "0001-01-01T00:00"],
    "time": ["23:59", "00:00"],
    "number": ["9" * 40, "-9223372036854775809", "1e309"],
}


def extreme_values(form: dict, field: str) -> list[str]:
    kind = form["types"].get(field)
    if kind in EXTREME_FIELD_VALUES:
        return EXTREME_FIELD_VALUES[kind]
    return EXTREME_FIELD_VALUES["date"] if "date" in field else []
