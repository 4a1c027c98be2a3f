"""Form pieces every app shares: HTML5 date and time inputs in the formats browsers send, and a layout row."""

from crispy_forms.layout import Div
from django import forms


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
