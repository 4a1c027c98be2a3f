"""Staff roles and what each may do: the permission matrix, in one place.

Roles are auth Groups. The groups are created by a migration (clinic/migrations/0002_roles.py) and their
permissions are synced after every migrate (clinic/apps.py), so a permission added with a new model reaches
its roles without a hand-written migration. README's "Permission matrix" is this table in prose.
Views check permissions (``user.has_perm``), never group names.
"""

CLINICIAN = "clinician"
FRONT_DESK = "front_desk"
MANAGER = "manager"
ROLES = [CLINICIAN, FRONT_DESK, MANAGER]
ROLE_LABELS = {CLINICIAN: "Clinician", FRONT_DESK: "Front desk", MANAGER: "Manager"}

# permission ("app_label.codename") -> roles holding it
PERMISSION_MATRIX: dict[str, set[str]] = {
    # patients
    "patients.view_patient": {CLINICIAN, FRONT_DESK, MANAGER},
    "patients.add_patient": {CLINICIAN, FRONT_DESK, MANAGER},
    "patients.change_patient": {CLINICIAN, FRONT_DESK, MANAGER},  # demographics and contact
    "patients.view_clinical_history": {CLINICIAN, MANAGER},
    "patients.change_clinical_history": {CLINICIAN},  # melasma history and screening answers
    "patients.archive_patient": {CLINICIAN, MANAGER},
    "patients.view_patient_history": {MANAGER},  # the audit trail of changes
    # staff and audit
    "clinic.manage_staff": {MANAGER},
    "clinic.view_accesslog": {MANAGER},
    # plans (course builder)
    "plans.view_plan": {CLINICIAN, FRONT_DESK, MANAGER},
    "plans.add_plan": {CLINICIAN},
    "plans.change_plan": {CLINICIAN},
    "plans.approve_plan": {CLINICIAN},
    "plans.view_protocoltemplate": {CLINICIAN, MANAGER},
    "plans.change_protocoltemplate": {MANAGER},
    "plans.add_protocoltemplate": {MANAGER},
    "plans.view_consenttext": {CLINICIAN, MANAGER},
    "plans.add_consenttext": {MANAGER},
    "plans.add_consent": {CLINICIAN},
    # sessions, assessments, photos, adverse events, products and lots
    "plans.view_treatmentsession": {CLINICIAN, FRONT_DESK, MANAGER},
    "plans.record_session": {CLINICIAN},
    "plans.view_assessment": {CLINICIAN, MANAGER},
    "plans.add_assessment": {CLINICIAN},
    "plans.view_photo": {CLINICIAN, MANAGER},
    "plans.add_photo": {CLINICIAN},
    "plans.view_adverseevent": {CLINICIAN, MANAGER},
    "plans.add_adverseevent": {CLINICIAN},
    "plans.change_adverseevent": {CLINICIAN},
    "plans.view_lot": {CLINICIAN, MANAGER},
    "plans.add_lot": {CLINICIAN, MANAGER},
    "plans.change_lot": {CLINICIAN, MANAGER},
    "plans.add_exosomeproduct": {CLINICIAN, MANAGER},
    # scheduling
    "plans.view_appointment": {CLINICIAN, FRONT_DESK, MANAGER},
    "plans.add_appointment": {FRONT_DESK, MANAGER},
    "plans.change_appointment": {FRONT_DESK, MANAGER},  # reschedule, check in, no-show, cancel
    "plans.manage_resources": {MANAGER},  # rooms, devices, hours, appointment lengths
    "plans.export_fhir": {MANAGER},  # bulk FHIR exports of every patient (plans/fhir/bulk.py)
    "plans.export_patient_copy": {MANAGER},  # a patient's own copy of their record (subject access request)
    # aftercare
    "plans.print_aftercare": {CLINICIAN, FRONT_DESK, MANAGER},
    "plans.add_aftercaretext": {MANAGER},
    # outcomes and product-safety registry (aggregates only)
    "plans.view_outcomes": {CLINICIAN, MANAGER},
    "plans.export_adverseevents": {MANAGER},  # a period's events and kept reports for an inspector (S58)
}


def permissions_for(role: str) -> list[str]:
    return sorted(perm for perm, roles in PERMISSION_MATRIX.items() if role in roles)
