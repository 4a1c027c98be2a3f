"""Plans app models, one module per area:

- course.py      protocol templates, plans (courses), adjuncts, finding overrides, consent
- products.py    exosome products and lots
- visits.py      treatment sessions, pre-session checks, amendments, assessments, photos, adverse events
- scheduling.py  rooms, devices, clinician hours, appointments, reminders, calendar feeds
- aftercare.py   versioned aftercare texts and the sheets given to patients
- exports.py     downloads of bulk FHIR exports and copies of a record given to a patient (who, what, when)
"""

from plans.models.aftercare import *  # noqa: F401,F403
from plans.models.course import *  # noqa: F401,F403
from plans.models.products import *  # noqa: F401,F403
from plans.models.scheduling import *  # noqa: F401,F403
from plans.models.visits import *  # noqa: F401,F403
from plans.models.exports import *  # noqa: F401,F403
