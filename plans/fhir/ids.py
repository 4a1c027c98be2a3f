"""Stable ids, fullUrls, references and the app's own system URIs.

Every resource has an id made from its table and primary key ("procedure-40"); its fullUrl is a urn:uuid made
from that id under a fixed namespace, so the same row gets the same fullUrl in every export, and every
reference in a Bundle points at a fullUrl inside it.
"""

import contextlib
import contextvars
import uuid

from django.conf import settings

# Fixed for ever: changing it would give every exported resource a new fullUrl.
FHIR_NAMESPACE = uuid.UUID("6f1c3f5e-4b8e-5d0a-9a57-2f0d3c1e8b42")

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
HL7_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"


def base() -> str:
    return settings.CLINIC_FHIR_BASE.rstrip("/")


def mrn_system() -> str:
    return f"{base()}/sid/mrn"


def code_system(name: str) -> str:
    """The app's own CodeSystems: melasma-scores, modality, adverse-event-type, ctcae-grade, adjunct-agent …"""
    return f"{base()}/CodeSystem/{name}"


def resource_id(kind: str, pk) -> str:
    return f"{kind}-{pk}"


def full_url(resource_type: str, rid: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(FHIR_NAMESPACE, f"{resource_type}/{rid}"))


# In a Bundle references are fullUrls; in bulk NDJSON (no Bundle around them) they are relative, "Type/id".
_relative = contextvars.ContextVar("fhir_relative_references", default=False)


@contextlib.contextmanager
def relative_references():
    token = _relative.set(True)
    try:
        yield
    finally:
        _relative.reset(token)


def reference(resource_type: str, rid: str, display: str = "") -> dict:
    ref = {"reference": f"{resource_type}/{rid}" if _relative.get() else full_url(resource_type, rid)}
    if display:
        ref["display"] = display
    return ref
