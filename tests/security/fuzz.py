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


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag in ("input", "select", "textarea") and name and name != "csrfmiddlewaretoken":
            if attrs.get("type") not in ("submit", "button", "file") and name not in self.names:
                self.names.append(name)


def form_field_names(html: str) -> list[str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.names


def database_fingerprint() -> dict[str, int]:
    """Row counts of every table (history tables included): a rejected save changes none of them."""
    tables = sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed})
    tables = [t for t in tables if t not in ("django_session", "axes_accessattempt", "axes_accesslog",
                                             "axes_accessfailurelog", "clinic_accesslog")]
    with connection.cursor() as cursor:
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {connection.ops.quote_name(t)}" for t in tables)
        cursor.execute(sql)
        return dict(cursor.fetchall())
