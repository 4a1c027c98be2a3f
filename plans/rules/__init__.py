"""Pure clinical rules for melasma treatment courses, one module per topic.

No ORM and no Django here: plain values in, plain values out, so services, forms, selectors and
views share one implementation and the tests need no database. Every rule names its source key
(S#) in the domain reference ``shared/domain/melasma.md`` in a code comment; numbers the reference
tags [U] are fields of ``RuleConfig`` (``base.py``) so a clinic can change them from settings.

    base.py            modalities, adjunct agents and their pauses, Fitzpatrick, RuleConfig
    screening.py       contraindications for one plan (§3, §4)
    scores.py          MASI, mMASI, MELASQOL, meaningful change (§1)
    devices.py         device settings: errors, warnings, conservative suggestions (§2)
    schedule.py        course size, session windows, follow-ups, late cancellation (§2.4, §9)
    lifecycle.py       plan states and what blocks activation
    presession.py      day-of check, booking holds, the steps a reminder gives the patient
    adverse_events.py  AE types, CTCAE grades, expected courses, hold rule (§7)
    aftercare.py       the sections of the printed sheet (§5, §8)
    contact.py         whether the clinic may email a patient
    text.py            no source keys in text a patient reads
    outcomes.py        the registry's maths: response, relapse, Wilson intervals, lot signal, reporting clock

Every public name stays importable from ``plans.rules``.
"""

from .base import *  # noqa: F403
from .screening import *  # noqa: F403
from .scores import *  # noqa: F403
from .devices import *  # noqa: F403
from .schedule import *  # noqa: F403
from .lifecycle import *  # noqa: F403
from .presession import *  # noqa: F403
from .adverse_events import *  # noqa: F403
from .aftercare import *  # noqa: F403
from .contact import *  # noqa: F403
from .text import *  # noqa: F403
from .outcomes import *  # noqa: F403
