from django.urls import path

from patients import views
from plans.fhir import views as fhir_views
from plans.views import patient_copy as copy_views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/confirm-screening/", views.patient_confirm_screening, name="confirm_screening"),
    path("<int:patient_id>/archive/", views.patient_archive, name="archive"),
    path("<int:patient_id>/restore/", views.patient_restore, name="restore"),
    path("<int:patient_id>/history/", views.patient_history, name="history"),
    path("<int:patient_id>/fhir/", fhir_views.patient_fhir_bundle, name="fhir"),
    path("<int:patient_id>/copy/", copy_views.patient_copy, name="copy"),
]
