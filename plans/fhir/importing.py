"""A new patient from a FHIR R4 `Patient` resource (issue 15 §4): the inverse of ``mapping.patient_resource`` for
the fields of the patient form.

Pure: the uploaded bytes in; the form's values, and every element that is invalid or has no place on the form,
out. No queries and nothing saved: the new-patient page shows the form filled in and the user saves it as any new
patient. The file is a `Patient`, or a `Bundle` holding exactly one `Patient` (this app's own export is a Bundle);
it is validated by the independent ``fhir.resources`` library (R4B models, which validate R4 structures), whose
messages are put next to the form field the element fills where there is one.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from plans.fhir.ids import HL7_TERMINOLOGY, mrn_system
from plans.fhir.mapping import GENDER

# A Patient is a few KB; this app's whole-record Bundle, aftercare PDFs included, is some hundreds of KB.
MAX_BYTES = 1024 * 1024
MAX_LISTED = 40  # problems listed one by one; past that a count (a hostile file must not make a huge page)

ERR_TOO_LARGE = f"The file is larger than {MAX_BYTES // 2**20} MB: upload the Patient resource on its own."
ERR_NOT_UTF8 = "The file is not UTF-8 text: a FHIR JSON file is UTF-8."
ERR_NOT_JSON = "The file is not valid JSON: {detail}."
ERR_TOO_DEEP = "The file is nested too deeply to be a FHIR Patient."
ERR_NOT_FHIR = "The file is JSON but not a FHIR resource: it has no resourceType."
ERR_NOT_PATIENT = "The file is a FHIR {type} resource, not a Patient: upload a Patient (or a Bundle holding one)."
ERR_BUNDLE_NO_PATIENT = "The Bundle holds no Patient resource."
ERR_BUNDLE_MANY_PATIENTS = "The Bundle holds {count} Patient resources: upload a file with one patient."

FHIR_TO_SEX = {code: sex for sex, code in GENDER.items()} | {"other": "X"}  # the export writes "X" as "unknown"
IMPORTED_FIELDS = ("mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "email_consent",
                   "address", "emergency_contact")
EMERGENCY_CONTACT = ("C", f"{HL7_TERMINOLOGY}/v2-0131")
# Elements of Patient with no place on the form, and what they are, for the "not imported" list.
ELEMENT_LABELS = {
    "id": "the record's id at its source", "meta": "record metadata", "implicitRules": "implicit rules",
    "language": "language of the record", "text": "narrative text", "contained": "contained resources",
    "maritalStatus": "marital status", "multipleBirthBoolean": "multiple birth",
    "multipleBirthInteger": "multiple birth", "communication": "languages spoken",
    "generalPractitioner": "general practitioner", "managingOrganization": "managing organisation",
    "link": "links to other patient records",
}
NOTE_NO_EMAIL_CONSENT = ("'Agrees to email' is left unticked: a FHIR Patient does not say whether the patient "
                         "agreed to email. Ask them.")
NOTE_NO_MRN = ("The file has no record number under this clinic's system ({system}): enter the MRN this clinic "
               "gives the patient.")


class ImportRefused(ValueError):
    """The upload is not a FHIR Patient at all; the message says why, for the upload field."""


@dataclass(frozen=True)
class Problem:
    element: str  # where in the file: "birthDate", "telecom[2]", "name[0].given"
    message: str
    field: str = ""  # the form field it is shown next to; "" for the list above the form


@dataclass
class PatientImport:
    values: dict  # form field -> value, for every field in IMPORTED_FIELDS ("" where the file has nothing)
    invalid: list[Problem] = field(default_factory=list)  # invalid or missing: the user must look
    not_imported: list[Problem] = field(default_factory=list)  # valid, but no place for it on the form
    notes: list[str] = field(default_factory=list)

    @property
    def general_problems(self) -> list[Problem]:
        return [p for p in self.invalid if not p.field]

    @property
    def field_problems(self) -> list[Problem]:
        return [p for p in self.invalid if p.field]


def patient_import(raw: bytes) -> PatientImport:
    """The whole import of an upload: parse, find the Patient, validate, map. Raises ImportRefused."""
    if len(raw) > MAX_BYTES:
        raise ImportRefused(ERR_TOO_LARGE)
    resource, others = patient_in(parse_json(raw))
    result = patient_form_values(resource)
    result.invalid[:0] = validation_problems(resource)
    if others:
        counts = ", ".join(f"{kind} ×{n}" for kind, n in sorted(Counter(others).items()))
        result.not_imported.insert(0, Problem("Bundle", f"the Bundle's other resources ({counts}): only the "
                                                        "patient's details are imported"))
    result.invalid = _capped(_deduplicated(result.invalid))
    result.not_imported = _capped(result.not_imported)
    return result


# --- reading the file --------------------------------------------------------------------------------------


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is tolerated
    except UnicodeDecodeError:
        raise ImportRefused(ERR_NOT_UTF8) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)  # NaN and Infinity are not JSON
    except RecursionError:
        raise ImportRefused(ERR_TOO_DEEP) from None
    except json.JSONDecodeError as error:
        detail = f"{error.msg} at line {error.lineno}, column {error.colno}"
        raise ImportRefused(ERR_NOT_JSON.format(detail=detail)) from None
    except ValueError as error:  # NaN, or an integer of thousands of digits
        raise ImportRefused(ERR_NOT_JSON.format(detail=str(error)[:100])) from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ImportRefused(ERR_NOT_FHIR)
    return data


def patient_in(resource: dict) -> tuple[dict, list[str]]:
    """The Patient of the file, and the resource types of a Bundle's other entries (not imported)."""
    kind = resource["resourceType"]
    if kind == "Patient":
        return resource, []
    if kind != "Bundle":
        raise ImportRefused(ERR_NOT_PATIENT.format(type=kind[:40]))
    inner = [e.get("resource") for e in _list(resource.get("entry")) if isinstance(e, dict)]
    inner = [r for r in inner if isinstance(r, dict)]
    patients = [r for r in inner if r.get("resourceType") == "Patient"]
    if not patients:
        raise ImportRefused(ERR_BUNDLE_NO_PATIENT)
    if len(patients) > 1:
        raise ImportRefused(ERR_BUNDLE_MANY_PATIENTS.format(count=len(patients)))
    return patients[0], [str(r.get("resourceType"))[:40] for r in inner if r is not patients[0]]


# --- validation (fhir.resources) ---------------------------------------------------------------------------


def validation_problems(resource: dict) -> list[Problem]:
    """fhir.resources' verdict on the Patient, each message next to the form field its element fills."""
    from fhir.resources.R4B import get_fhir_model_class  # imported when first needed: a big package

    model = get_fhir_model_class("Patient")
    try:
        return _validated(model, resource)
    except Exception:  # noqa: BLE001 - the library itself fails on some malformed values (a boolean photo.url)
        problems = []
        for element, value in resource.items():  # element by element, to name the one it cannot read
            if element == "resourceType":
                continue
            try:
                problems += _validated(model, {"resourceType": "Patient", element: value})
            except Exception:  # noqa: BLE001
                problems.append(Problem(element, f"{element}: is not valid FHIR (the validator cannot read it).",
                                        _field_of((element,), resource)))
        return problems


def _validated(model, resource: dict) -> list[Problem]:
    from pydantic import ValidationError

    try:
        model.model_validate(resource)
    except RecursionError:
        return [Problem("Patient", ERR_TOO_DEEP)]
    except ValidationError as error:
        return [_problem_from(item, resource) for item in error.errors(include_url=False)[:MAX_LISTED + 1]]
    return []


def _problem_from(error: dict, resource: dict) -> Problem:
    loc = error["loc"]
    element = _path(loc)
    if error["type"] == "extra_forbidden":
        message = "is not an element of a FHIR R4 Patient"
    else:
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        if "input" in error and not isinstance(error["input"], (dict, list)):
            message += f" (found {_quoted(error['input'])})"
    return Problem(element, f"{element}: {message}.", _field_of(loc, resource))


def _path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _field_of(loc: tuple, resource: dict) -> str:
    """The form field an element fills, for placing its message."""
    top = str(loc[0]).removeprefix("_") if loc else ""
    if top == "name":
        return "last_name" if "family" in loc else "first_name"
    if top == "telecom":
        index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        telecoms = _list(resource.get("telecom"))
        entry = telecoms[index] if index is not None and index < len(telecoms) else None
        return "email" if isinstance(entry, dict) and entry.get("system") == "email" else "phone"
    return {"birthDate": "date_of_birth", "gender": "sex", "identifier": "mrn", "address": "address",
            "contact": "emergency_contact"}.get(top, "")


# --- mapping onto the form ---------------------------------------------------------------------------------


def patient_form_values(resource: dict) -> PatientImport:
    """The patient form's values from a Patient resource (a dict as read from JSON, valid or not), with the
    elements that are missing, unusable or have no place on the form. Email consent is never inferred."""
    result = PatientImport(values=dict.fromkeys(IMPORTED_FIELDS, ""))
    result.values["email_consent"] = False
    mapped = {"resourceType"}
    for element, read in (("identifier", _identifier), ("name", _name), ("gender", _gender),
                          ("birthDate", _birth_date), ("telecom", _telecom), ("address", _address),
                          ("contact", _contact), ("active", _active), ("deceasedBoolean", _deceased),
                          ("deceasedDateTime", _deceased), ("modifierExtension", _modifier_extension)):
        mapped.add(element)
        read(resource.get(element), result, element)
    for element, value in resource.items():
        if element in mapped:
            continue
        if element.startswith("_"):
            result.not_imported.append(Problem(element, f"extensions on {element[1:]}"))
        elif element == "photo":
            result.not_imported.append(Problem(element, f"photo ({len(_list(value))} attached)"))
        elif element == "extension":
            urls = ", ".join(_preview(e.get("url")) for e in _list(value)[:5] if isinstance(e, dict))
            result.not_imported.append(Problem(element, f"extensions: {urls}"))
        elif element in ELEMENT_LABELS:
            result.not_imported.append(Problem(element, f"{ELEMENT_LABELS[element]}: {_preview(value)}"))
        # anything else is not an element of Patient: validation_problems reports it
    return result


def _identifier(value, result: PatientImport, element: str) -> None:
    system = mrn_system()
    for index, identifier in enumerate(_list(value)):
        if not isinstance(identifier, dict):
            continue
        if identifier.get("system") == system and _text(identifier.get("value")) and not result.values["mrn"]:
            result.values["mrn"] = _text(identifier.get("value"))
        else:
            system_text = _preview(identifier.get("system") or "none")
            result.not_imported.append(Problem(
                f"{element}[{index}]", f"identifier {_preview(identifier.get('value'))} (system {system_text})"))
    if not result.values["mrn"]:
        result.notes.append(NOTE_NO_MRN.format(system=system))


NAME_PREFERENCE = {"official": 0, "usual": 1, None: 2}


def _name(value, result: PatientImport, element: str) -> None:
    names = [(i, n) for i, n in enumerate(_list(value)) if isinstance(n, dict)]
    current = [(i, n) for i, n in names if n.get("use") != "old"] or names
    if not current:
        result.invalid.append(Problem(element, "The file has no name for the patient.", "first_name"))
        return
    index, chosen = min(current, key=lambda item: NAME_PREFERENCE.get(_code(item[1].get("use")), 3))
    given = " ".join(g.strip() for g in _list(chosen.get("given")) if isinstance(g, str) and g.strip())
    family = _text(chosen.get("family"))
    result.values["first_name"], result.values["last_name"] = given, family
    where = f"{element}[{index}]"
    if not given and not family and _text(chosen.get("text")):
        result.invalid.append(Problem(
            where, f"The name is only given as the text {_quoted(chosen['text'])}: enter the first and last names.",
            "first_name"))
    else:
        if not given:
            result.invalid.append(Problem(f"{where}.given", "The file gives no first (given) name.", "first_name"))
        if not family:
            result.invalid.append(Problem(f"{where}.family", "The file gives no last (family) name.", "last_name"))
    for part in ("prefix", "suffix"):
        if _list(chosen.get(part)):
            result.not_imported.append(Problem(f"{where}.{part}", f"name {part}: {_preview(chosen[part])}"))
    for other_index, other in names:
        if other_index != index:
            use = _preview(other.get("use") or "no use given")
            result.not_imported.append(Problem(f"{element}[{other_index}]",
                                               f"another name ({use}): {_name_text(other)}"))


def _name_text(name: dict) -> str:
    parts = [g for g in _list(name.get("given")) if isinstance(g, str)] + [_text(name.get("family"))]
    return _preview(" ".join(p for p in parts if p) or name.get("text") or "")


def _gender(value, result: PatientImport, element: str) -> None:
    if value is None:
        result.invalid.append(Problem(element, "The file gives no gender: choose the sex.", "sex"))
    elif _code(value) not in FHIR_TO_SEX:
        result.invalid.append(Problem(
            element, f"gender {_quoted(value)} is not a FHIR code (male, female, other, unknown): choose the sex.",
            "sex"))
    else:
        result.values["sex"] = FHIR_TO_SEX[value]


def _birth_date(value, result: PatientImport, element: str) -> None:
    if value is None:
        result.invalid.append(Problem(element, "The file gives no birth date.", "date_of_birth"))
        return
    result.values["date_of_birth"] = _text(value)[:40]  # as found: the form says what is wrong with it
    if isinstance(value, str) and re.fullmatch(r"\d{4}(-\d{2})?", value):
        result.invalid.append(Problem(
            element, f"The birth date {value} gives only the year or month: enter the full date of birth.",
            "date_of_birth"))


def _telecom(value, result: PatientImport, element: str) -> None:
    for index, telecom in enumerate(_list(value)):
        if not isinstance(telecom, dict):
            continue
        system, text = telecom.get("system"), _text(telecom.get("value"))
        if not text:
            continue  # nothing to import; a value that is not text is reported by validation_problems
        target = {"phone": "phone", "email": "email"}.get(_code(system))
        if target and not result.values[target] and telecom.get("use") != "old":
            result.values[target] = text
        else:
            use = f" ({telecom['use']})" if isinstance(telecom.get("use"), str) else ""
            result.not_imported.append(Problem(f"{element}[{index}]", f"{_preview(system or 'contact')}{use} {text}"))
    if result.values["email"]:
        result.notes.append(NOTE_NO_EMAIL_CONSENT)


def _address(value, result: PatientImport, element: str) -> None:
    addresses = [(i, a) for i, a in enumerate(_list(value)) if isinstance(a, dict)]
    current = [(i, a) for i, a in addresses if a.get("use") not in ("old", "billing")] or addresses
    if not current:
        return
    index, chosen = min(current, key=lambda item: 0 if item[1].get("use") == "home" else 1)
    result.values["address"] = address_text(chosen)
    for other_index, other in addresses:
        if other_index != index:
            result.not_imported.append(Problem(
                f"{element}[{other_index}]", f"another address ({_preview(other.get('use') or 'no use given')}): "
                                             f"{_preview(address_text(other))}"))


def address_text(address: dict) -> str:
    """One address as the form's text: the text when the file gives it (the export does), else its parts."""
    if _text(address.get("text")):
        return _text(address["text"])
    lines = [line.strip() for line in _list(address.get("line")) if isinstance(line, str) and line.strip()]
    town = " ".join(_text(address.get(part)) for part in ("city", "district", "state", "postalCode")).split()
    country = _text(address.get("country"))
    return "\n".join(part for part in [*lines, " ".join(town), country] if part)


def _contact(value, result: PatientImport, element: str) -> None:
    for index, contact in enumerate(_list(value)):
        if not isinstance(contact, dict):
            continue
        codes = {(_code(c.get("code")), _code(c.get("system"))) for r in _list(contact.get("relationship")) if isinstance(r, dict)
                 for c in _list(r.get("coding")) if isinstance(c, dict)}
        text = _contact_text(contact)
        if EMERGENCY_CONTACT in codes and text and not result.values["emergency_contact"]:
            result.values["emergency_contact"] = text
        else:
            result.not_imported.append(Problem(f"{element}[{index}]", f"contact: {_preview(text or contact)}"))


def _contact_text(contact: dict) -> str:
    name = contact.get("name") if isinstance(contact.get("name"), dict) else {}
    who = _text(name.get("text")) or _name_text(name)
    phones = [_text(t.get("value")) for t in _list(contact.get("telecom")) if isinstance(t, dict)]
    return ", ".join(part for part in [who, *phones] if part)


def _active(value, result: PatientImport, element: str) -> None:
    if value is False:
        result.not_imported.append(Problem(element, "active: false — the record is inactive at its source; the new "
                                                    "patient is created active."))


def _deceased(value, result: PatientImport, element: str) -> None:
    if value not in (None, False):
        result.invalid.append(Problem(element, f"The file records the patient as deceased ({_quoted(value)}); "
                                               "this app does not record deaths: check before saving."))


def _modifier_extension(value, result: PatientImport, element: str) -> None:
    # FHIR: a receiver that does not understand a modifier extension must warn, as it may change the meaning.
    urls = [_preview(e.get("url")) for e in _list(value) if isinstance(e, dict)]
    if urls:
        result.invalid.append(Problem(element, f"The file has modifier extensions this app does not understand "
                                               f"({', '.join(urls[:5])}): they may change the meaning of the "
                                               "values below; check them with the sender before saving."))


# --- small pieces ------------------------------------------------------------------------------------------


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _code(value) -> str | None:
    """A code as found, or None when it is not text (a list or an object where a code belongs)."""
    return value if isinstance(value, str) else None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _preview(value, limit: int = 80) -> str:
    """A short, safe rendering of any JSON value for a message: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (RecursionError, ValueError, TypeError):
            text = "…"
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}…"


def _quoted(value) -> str:
    return f"'{_preview(value)}'" if isinstance(value, str) else _preview(value)


def _deduplicated(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_LISTED:
        return problems
    hidden = len(problems) - MAX_LISTED
    return [*problems[:MAX_LISTED], Problem("…", f"and {hidden} more not listed.")]
