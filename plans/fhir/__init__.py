"""FHIR R4 export of a patient's record (issue 15).

``selectors.patient_record`` loads one patient's rows in a fixed number of queries; ``mapping`` turns rows into
FHIR resources (pure functions, plain dicts); ``bundle.patient_bundle`` puts them into a Bundle of type
collection whose references all resolve inside it. ``importing`` reads a FHIR Patient back onto the new-patient
form (the inverse of ``mapping.patient_resource``).
"""
