"""Every write in the plans app, one module per area: course.py (plans, consent, lifecycle), visits.py
(sessions, assessments, photos, adverse events, lots), scheduling.py (bookings, reminders), aftercare.py.
Services own the transaction, lock the row they change, check the rule in plans.rules, and keep history."""
