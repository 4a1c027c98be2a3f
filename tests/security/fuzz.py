"""Property-based form fuzzing (issue 7): random, oversized, empty and odd-Unicode values posted to a form.

Never a 500; when the form is rejected (re-rendered with 200) the database is exactly as it was."""

from html.parser import HTMLParser

from django.apps import apps
from django.db import connection
from hypothesis import strategies as st

ODD = st.sampled_from([
    "", " ", "\u0000", "\u202e\u202dRTL", "💉🧴☀️", "Ωμέγα", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ud7ff", "e\u0301" * 50, "<b>x</b>",
    "'; DROP TABLE patients_patient; --", "9" * 40, "-1", "0", "1e309", "NaN", "2026-02-30", "31/31/2031",
    "\t\n\r", "x" * 20_000,
])
VALUE = st.one_of(
    ODD,
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


class _Forms(HTMLParser):
    """Every <form> of a page: its method, action and the names of its fillable fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                             "names": []}
            self.forms.append(self._current)
            return
        name = attrs.get("name")
        if self._current is None or tag not in ("input", "select", "textarea") or not name:
            return
        if name != "csrfmiddlewaretoken" and attrs.get("type") not in ("submit", "button", "file"):
            if name not in self._current["names"]:
                self._current["names"].append(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [form for form in parser.forms if form["names"]]


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
