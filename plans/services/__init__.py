"""Every write in the plans app, one module per area: course.py (plans, consent, lifecycle), visits.py
(sessions, assessments, photos, adverse events, lots), scheduling.py (bookings, reminders), aftercare.py.
Services own the transaction, lock the row they change, check the rule in plans.rules, and keep history."""


def clean_save(instance, *, by):
    """Validate and save a record, with `by` as the author of its history row (django-simple-history)."""
    instance._history_user = by
    instance.full_clean()
    instance.save()
    return instance
