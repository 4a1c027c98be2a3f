from django.urls import path

from plans.views import _stub

urlpatterns = [
    path("patients/<int:patient_id>/plans/new/", _stub.not_built, name="new"),
    path("plans/<int:plan_id>/", _stub.not_built, name="detail"),
]
