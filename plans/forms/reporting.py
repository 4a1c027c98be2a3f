"""Forms of the reporting clock: generate a report, record that it was reported."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from clinic.formkit import DateTimeInput
from plans.models import ReportChannel
from plans.rules.outcomes import SERIOUSNESS_CRITERIA


class ReportGenerateForm(forms.Form):
    criteria = forms.MultipleChoiceField(
        label="Seriousness criteria met", choices=SERIOUSNESS_CRITERIA, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("submit", "Generate and keep the report (PDF)", css_class="btn-secondary"))


class MarkReportedForm(forms.Form):
    reported_at = forms.DateTimeField(label="Reported at", widget=DateTimeInput())
    how = forms.ChoiceField(label="How", choices=[("", "—")] + ReportChannel.choices)
    reference = forms.CharField(label="Reference received", max_length=120)

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("submit", "Record as reported"))
