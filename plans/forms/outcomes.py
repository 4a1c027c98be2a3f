"""Filters of the outcomes page."""

from django import forms

from clinic.formkit import DateInput
from plans.forms.visits import ERR_PERIOD


class CourseStartPeriodForm(forms.Form):
    started_from = forms.DateField(label="Courses started from", widget=DateInput(), required=False)
    started_to = forms.DateField(label="Courses started to", widget=DateInput(), required=False)

    def clean(self):
        data = super().clean()
        if data.get("started_from") and data.get("started_to") and data["started_from"] > data["started_to"]:
            raise forms.ValidationError(ERR_PERIOD)
        return data
