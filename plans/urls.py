"""All plans URLs, gathered from each area's views module (each defines its own ``urlpatterns``)."""

from plans.fhir import views as fhir
from plans.views import aftercare, course, maintenance, outcomes, reporting, scheduling, visits

app_name = "plans"

urlpatterns = (
    course.urlpatterns + visits.urlpatterns + scheduling.urlpatterns + aftercare.urlpatterns + fhir.urlpatterns
    + outcomes.urlpatterns + reporting.urlpatterns + maintenance.urlpatterns
)
