"""Form pieces every app shares: HTML5 date and time inputs in the formats browsers send, the range of dates the
app computes with, formsets capped to what a clinic needs, and a layout row."""

import datetime as dt

from crispy_forms.layout import Div
from django import forms
from django.core.exceptions import ValidationError


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class TimeInput(forms.TimeInput):
    """Quarter-hour steps, as appointments are booked."""

    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", attrs={"step": 900}, **kwargs)


def row(*names, **attrs):
    """Fields side by side on wide screens, stacked on narrow ones."""
    return Div(*[Div(name, css_class="col-md") for name in names], css_class="row", **attrs)


def add_service_errors(form, error) -> None:
    """Put a service's ValidationError on the form: next to its field when it names one, else on the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Dates read from a query string -----------------------------------------------------------------------------

# The dates the app computes with. Calendars add days and weeks, reminders and windows add months and time zones:
# near the ends of Python's range (year 1, year 9999) that arithmetic overflows. Every date read from a query
# string goes through QueryDateField, so a hostile ?date=9999-12-31 gets a message, never a 500.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
ERR_DATE_RANGE = f"Enter a date between {EARLIEST_DATE:%-d %b %Y} and {LATEST_DATE:%-d %b %Y}."


def parse_query_date(value: str) -> dt.date | None:
    """The one parser of dates from query strings: ISO "YYYY-MM-DD" inside EARLIEST_DATE..LATEST_DATE, None for
    an empty value, else ValidationError (a message for the page)."""
    return QueryDateField(required=False).clean(value)


class QueryDateField(forms.DateField):
    """A date from a query string (calendars, report periods), inside the range the app computes with."""

    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD.", "out_of_range": ERR_DATE_RANGE}

    def to_python(self, value):
        if isinstance(value, str) and len(value) > 40:  # a date is 10 characters: don't parse a novel
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        day = super().to_python(value)
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return day


# --- Formsets ---------------------------------------------------------------------------------------------------


def capped_formset_factory(form, *, max_num: int, too_many: str, formset=forms.BaseFormSet, **kwargs):
    """A formset that never builds more than `max_num` forms, whatever the posted TOTAL_FORMS says.

    Django's default builds up to max_num + 1,000 forms (absolute_max), so `TOTAL_FORMS=1000000` cost seconds
    and a multi-megabyte page. Here absolute_max == max_num and validate_max is on: one row too many is refused
    with `too_many` (a non-form error, "%(num)d" is the cap) before any row is validated.
    tests/security/test_hostile_input.py checks every formset of the project is built here."""
    capped = type(f"Capped{formset.__name__}", (formset,), {
        "default_error_messages": {"too_many_forms": too_many},
    })
    return forms.formset_factory(form, formset=capped, max_num=max_num, absolute_max=max_num, validate_max=True,
                                 **kwargs)
