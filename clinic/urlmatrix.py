"""Who may use each page: the documented matrix, walked by tests/security/test_url_matrix.py for every URL of
the project as anonymous and as each role, and shown in README by `manage.py permission_matrix --pages`.

Each row: method the test uses, the roles allowed (anything else: 403; anonymous: sign-in page), and for
POST-only actions the statuses an allowed role may get for an empty submission (a message or a redirect,
never a 500)."""

C, F, M = "clinician", "front_desk", "manager"
ALL = frozenset({C, F, M})
PUBLIC = "public"


def page(*roles, **extra):
    return {"method": "get", "roles": frozenset(roles), **extra}


def action(*roles, **extra):
    return {"method": "post", "roles": frozenset(roles), "status": {200, 302, 400, 409}, **extra}


URL_MATRIX: dict[str, dict] = {
    # clinic
    "login": {"method": "get", "roles": PUBLIC},
    "healthz": {"method": "get", "roles": PUBLIC},
    "livez": {"method": "get", "roles": PUBLIC},
    "logout": {"method": "post", "roles": PUBLIC},
    "dashboard": page(*ALL),
    "password_change": page(*ALL),
    "password_change_done": page(*ALL),
    "staff_list": page(M),
    "staff_new": page(M),
    "staff_edit": page(M),
    "staff_changes": page(M),
    "access_log": page(M),
    "access_log_export": page(M),
    # patients
    "patients:list": page(*ALL),
    "patients:new": page(*ALL),
    "patients:detail": page(*ALL),
    "patients:edit": page(*ALL),
    "patients:history": page(M),
    "patients:fhir": page(C, M),
    "patients:copy": action(M, status={200}),  # answers with the ZIP
    "patients:confirm_screening": action(C),
    "patients:archive": action(C, M),
    "patients:restore": action(C, M),
    # course plans
    "plans:new": page(C),
    "plans:detail": page(*ALL),
    "plans:edit": page(C),
    "plans:summary": page(*ALL),
    "plans:override": action(C),
    "plans:consent": page(C),
    "plans:activate": action(C),
    "plans:stop": action(C),
    "plans:complete": action(C),
    "plans:consent_scan": page(C, M),
    "plans:templates": page(C, M),
    "plans:template_new": page(M),
    "plans:template_edit": page(M),
    "plans:consent_texts": page(C, M),
    "plans:consent_text_new": page(M),
    # sessions, assessments, photos, adverse events, lots
    "plans:session": page(*ALL),
    "plans:session_check": page(C, kwargs={"session_id": "@planned_session_id"}),
    "plans:session_record": page(C, kwargs={"session_id": "@planned_session_id"}, status={200, 302}),  # asks for the check first
    "plans:session_amend": page(C),
    "plans:session_skip": page(C),
    "plans:session_assessment_new": page(C),
    "plans:session_photo_new": page(C),
    "plans:session_adverse_event_new": page(C),
    "plans:plan_assessment_new": page(C),
    "plans:plan_photo_new": page(C),
    "plans:plan_adverse_event_new": page(C),
    "plans:photo": page(C, M),
    "plans:adverse_events": page(C, M),
    "plans:adverse_events_export": page(C, M),
    "plans:adverse_events_report": page(C, M),
    "plans:adverse_event": page(C, M),
    "plans:adverse_event_note": action(C),
    "plans:adverse_event_review": action(C),
    "plans:adverse_event_resolve": action(C),
    "plans:adverse_event_correct": page(C),
    "plans:lots": page(C, M),
    "plans:lot_new": page(C, M),
    "plans:products": page(C, M),
    "plans:product_new": page(C, M),
    "plans:lot": page(C, M),
    "plans:lot_recall": action(C, M),
    # scheduling
    "plans:schedule_day": page(*ALL),
    "plans:schedule_week": page(*ALL),
    "plans:schedule_day_sheet": page(*ALL),
    "plans:schedule_reminders": page(*ALL),
    "plans:plan_book": page(F, M),
    "plans:appointment_new": page(F, M),
    "plans:appointment_reschedule": page(F, M),
    "plans:appointment_cancel": action(F, M),
    "plans:appointment_check_in": action(F, M),
    "plans:appointment_no_show": action(F, M),
    "plans:resources": page(M),
    "plans:resource_new": page(M, kwargs={"kind": "room"}),
    "plans:resource_edit": page(M, kwargs={"kind": "hours"}),
    "plans:hours_delete": action(M),
    "plans:calendar_settings": page(*ALL),
    "plans:calendar_regenerate": action(*ALL),
    "plans:calendar_feed": {"method": "get", "roles": PUBLIC},
    # aftercare
    "plans:aftercare": page(*ALL),
    "plans:aftercare_pdf": page(*ALL),
    "plans:aftercare_email": action(*ALL),
    "plans:aftercare_texts": page(M),
    "plans:aftercare_text_edit": page(M),
    # outcomes and product-safety registry
    "plans:outcomes": page(C, M),
    "plans:outcomes_csv": page(C, M),
    "plans:adverse_event_report_new": action(C),
    "plans:adverse_event_reported": action(C),
    "plans:adverse_event_report_pdf": page(C, M),
    "plans:adverse_events_inspector_export": page(M),
    "plans:recalls": page(*ALL),
    # FHIR bulk exports
    "plans:fhir_exports": page(M),
    "plans:fhir_export_file": page(M, kwargs={"export": "no-such-export", "filename": "Patient.ndjson"}, status={404}),
}
