"""Bench-only URLs: the app's own, plus Django's admin at /bench-admin/ over the rows the key pages show.

The admin is set up as a careful Django developer would for these lists: the patient changelist searches the
same name and record-number fields, 25 a page; the appointment changelist shows a day (date_hierarchy) with
every related row selected in the same query (list_select_related); change forms use raw-id widgets so a form
never lists 10,000 patients."""

from django.contrib import admin
from django.urls import path

from clinic.urls import urlpatterns as app_urlpatterns
from patients.models import Patient
from plans.models import Appointment, Plan, TreatmentSession

site = admin.AdminSite(name="bench_admin")


@admin.register(Patient, site=site)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "mrn", "date_of_birth", "phone")
    search_fields = ("^first_name", "^last_name", "=mrn")
    list_per_page = 25
    ordering = ("last_name", "first_name", "id")
    raw_id_fields = ("screening_confirmed_by",)


@admin.register(Appointment, site=site)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("start", "end", "patient", "kind", "session", "room", "clinician", "device", "status", "plan")
    list_select_related = ("patient", "room", "device", "clinician", "plan__patient", "session")
    date_hierarchy = "start"
    list_per_page = 100  # a whole day on one page, as the calendar shows it
    ordering = ("start", "id")
    raw_id_fields = ("patient", "plan", "session", "room", "device", "clinician", "created_by")


@admin.register(Plan, site=site)
class PlanAdmin(admin.ModelAdmin):
    raw_id_fields = ("patient", "template", "exosome_product", "created_by", "approved_by")


@admin.register(TreatmentSession, site=site)
class TreatmentSessionAdmin(admin.ModelAdmin):
    raw_id_fields = ("plan", "performed_by", "exosome_lot")


urlpatterns = [path("bench-admin/", site.urls), *app_urlpatterns]
