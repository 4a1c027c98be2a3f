from django.urls import path

from plans.views import _stub

urlpatterns = [
    path("sessions/<int:session_id>/", _stub.not_built, name="session"),
]
