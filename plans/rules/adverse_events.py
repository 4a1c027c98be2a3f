"""Adverse event types, CTCAE grades, expected courses and the hold rule (domain reference §7, §9)."""

from .base import *  # noqa: F403
from .base import _check_modality, _is_whole


AE_ERYTHEMA = "erythema"
AE_EDEMA = "edema"
AE_PAIN = "pain"
AE_BLEEDING_BRUISING = "bleeding_bruising"
AE_BRONZING = "bronzing"
AE_GRID_MARKS = "grid_marks"
AE_PIH = "pih"
AE_REBOUND = "rebound"
AE_HYPOPIGMENTATION = "hypopigmentation"
AE_BACTERIAL_INFECTION = "bacterial_infection"
AE_HSV_REACTIVATION = "hsv_reactivation"
AE_CONTACT_DERMATITIS_GRANULOMA = "contact_dermatitis_granuloma"
AE_ACNEIFORM = "acneiform"
AE_MILIA = "milia"
AE_SCARRING = "scarring"
AE_BURN_BLISTER = "burn_blister"
AE_OTHER = "other"
AE_TYPES = [
    (AE_ERYTHEMA, "Erythema"),
    (AE_EDEMA, "Edema"),
    (AE_PAIN, "Pain / heat"),
    (AE_BLEEDING_BRUISING, "Pinpoint bleeding / bruising"),
    (AE_BRONZING, "Bronzing / flaking"),
    (AE_GRID_MARKS, "Grid marks"),
    (AE_PIH, "Post-inflammatory hyperpigmentation"),
    (AE_REBOUND, "Rebound / worsened melasma"),
    (AE_HYPOPIGMENTATION, "Mottled hypopigmentation"),
    (AE_BACTERIAL_INFECTION, "Bacterial infection"),
    (AE_HSV_REACTIVATION, "HSV reactivation"),
    (AE_CONTACT_DERMATITIS_GRANULOMA, "Contact dermatitis / allergy / granuloma"),
    (AE_ACNEIFORM, "Acneiform eruption"),
    (AE_MILIA, "Milia"),
    (AE_SCARRING, "Scarring"),
    (AE_BURN_BLISTER, "Burn / blister"),
    (AE_OTHER, "Other"),
]
AE_TYPE_KEYS = frozenset(key for key, _ in AE_TYPES)

# CTCAE v5.0 general grades (S74); a semicolon in the text means "or".
CTCAE_GRADES = [
    (1, "Mild: asymptomatic or mild symptoms; observation only; no intervention"),
    (
        2,
        "Moderate: minimal, local or non-invasive treatment indicated; limits age-appropriate instrumental "
        "activities of daily living (ADL), e.g., meals, shopping, phone, money",
    ),
    (
        3,
        "Severe or medically significant but not immediately life-threatening: hospitalization or longer stay "
        "indicated; disabling; limits self-care ADL (bathing, dressing, feeding, toilet, medications)",
    ),
    (4, "Life-threatening; urgent intervention indicated"),
    (5, "Death related to the AE"),
]
REPORTABLE_FROM_GRADE = 3

# Expected resolution in days, from the "expected course" column (S67, S69, S70, S71, S72).
# Missing = no expected course: the event is unexpected or has no fixed time.
_AE_EXPECTED_DAYS: dict[str, dict[str, int]] = {
    AE_ERYTHEMA: {MICRONEEDLING: 3, RF_MICRONEEDLING: 2, NAFL: 3},  # ~72 h / 24–48 h / 2–3 days
    AE_EDEMA: {MICRONEEDLING: 7, RF_MICRONEEDLING: 7, NAFL: 7},  # gone in < 1 week (S69, S70)
    AE_PAIN: {MICRONEEDLING: 1, RF_MICRONEEDLING: 1, NAFL: 3},  # hours; NAFL up to 2–3 days (S70)
    AE_BLEEDING_BRUISING: {MICRONEEDLING: 7, RF_MICRONEEDLING: 7, NAFL: 7},  # bruises ~1 week (S71)
    AE_BRONZING: {NAFL: 7},  # sloughs days 3–7 (S70)
    AE_GRID_MARKS: {RF_MICRONEEDLING: 7},  # up to ~1 week (S72)
}
ERYTHEMA_ESCALATE_AFTER_DAYS = 7  # beyond 7 days, worsening, or with pain/pus/fever (S67, S72, S70)
# "Any case" / "always report" in §7: escalate whenever seen.
AE_ALWAYS_ESCALATE = frozenset(
    {
        AE_PIH,
        AE_REBOUND,
        AE_HYPOPIGMENTATION,
        AE_BACTERIAL_INFECTION,
        AE_HSV_REACTIVATION,
        AE_CONTACT_DERMATITIS_GRANULOMA,
        AE_SCARRING,
        AE_BURN_BLISTER,
    }
)
# Hold rule: PIH or rebound pauses energy devices (§9, S18, S73).
AE_PAUSES_ENERGY_DEVICES = frozenset({AE_PIH, AE_REBOUND})

ERR_GRADE = "CTCAE grade must be 1 to 5, got {grade!r}."
ERR_UNKNOWN_AE_TYPE = "Unknown adverse event type {ae_type!r}."


def ae_is_reportable(grade: int, serious: bool) -> bool:
    """Severity (grade) and seriousness are separate (S74, S75, S58); either can make it reportable."""
    if not _is_whole(grade) or not 1 <= grade <= 5:
        raise ValueError(ERR_GRADE.format(grade=grade))
    return serious or grade >= REPORTABLE_FROM_GRADE


def ae_expected_resolution_days(ae_type: str, modality: str) -> int | None:
    if ae_type not in AE_TYPE_KEYS:
        raise ValueError(ERR_UNKNOWN_AE_TYPE.format(ae_type=ae_type))
    _check_modality(modality)
    return _AE_EXPECTED_DAYS.get(ae_type, {}).get(modality)


def ae_pauses_energy_devices(ae_type: str) -> bool:
    if ae_type not in AE_TYPE_KEYS:
        raise ValueError(ERR_UNKNOWN_AE_TYPE.format(ae_type=ae_type))
    return ae_type in AE_PAUSES_ENERGY_DEVICES
