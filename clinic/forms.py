from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from patients.models import Patient

from clinic.formkit import QueryDateField
from clinic.roles import ROLE_LABELS

ROLE_CHOICES = list(ROLE_LABELS.items())


class StaffCreateForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]+$", max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    password = forms.CharField(widget=forms.PasswordInput, help_text="They can change it after signing in.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Add staff member"))

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class StaffEditForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    is_active = forms.BooleanField(required=False, label="Account enabled")
    new_password = forms.CharField(
        widget=forms.PasswordInput, required=False, label="Set a new password",
        help_text="Only to help someone who forgot theirs; leave blank to keep the current one.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save"))

    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        if password:
            validate_password(password, user=self.user)
        return password


# --------------------------------------------------------------------------- audit filters

ERR_DATES_REVERSED = "The end date is before the start date."
ERR_NO_SUCH_MRN = "No patient has that record number."
ERR_NO_SUCH_STAFF = "Choose a staff member from the list."


class _MrnField(forms.ModelChoiceField):
    def to_python(self, value):
        return super().to_python(value.strip() if isinstance(value, str) else value)


class _StaffField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.username})" if name else user.username


def _audit_date(label):
    # The project's one reader of dates from a query string, with the range every such date keeps to.
    return QueryDateField(required=False, label=label, widget=forms.DateInput(attrs={"type": "date"}))


class AccessLogFilterForm(forms.Form):
    """The manager's filters on the access log (a GET form: the address can be bookmarked or linked to)."""

    patient = _MrnField(
        queryset=Patient.objects.all(), to_field_name="mrn", required=False, label="Patient record number (MRN)",
        widget=forms.TextInput, error_messages={"invalid_choice": ERR_NO_SUCH_MRN},
    )
    user = _StaffField(
        queryset=User.objects.order_by("last_name", "first_name", "username"), required=False, label="Staff member",
        error_messages={"invalid_choice": ERR_NO_SUCH_STAFF},
    )
    date_from = _audit_date("From")
    date_to = _audit_date("To (included)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.field_class = ""
        self.helper.layout = Layout(
            Div("patient", css_class="col-md-3"), Div("user", css_class="col-md-3"),
            Div("date_from", css_class="col-md-2"), Div("date_to", css_class="col-md-2"),
            Div(Submit("filter", "Filter", css_class="mb-3"), css_class="col-md-2"),
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", ERR_DATES_REVERSED)
        return cleaned

    def filters(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ("patient", "user", "date_from", "date_to")}


class StaffChangeFilterForm(forms.Form):
    member = _StaffField(
        queryset=User.objects.order_by("last_name", "first_name", "username"), required=False, label="Staff member",
        error_messages={"invalid_choice": ERR_NO_SUCH_STAFF},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.layout = Layout(
            Div("member", css_class="col-md-4"), Div(Submit("filter", "Show", css_class="mb-3"), css_class="col-md-2"),
        )
