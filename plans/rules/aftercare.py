"""Which sections the printed aftercare sheet holds (domain reference §5, §8)."""

from collections.abc import Iterable

from .base import *  # noqa: F403
from .base import _check_agent, _check_modality


# Display order of the printed sheet (§8, §5). Phase sections hold modality-specific text.
AFTERCARE_SECTIONS = (
    "phase_0_24h",
    "phase_24_72h",
    "phase_3_7d",
    "phase_after",
    "exosome",
    "topicals_restart",
    "sun_protection",
    "call_clinic",
    "emergency",
    "txa_oral_warning",
    "antiviral",
)
# Only NAFL has an "ongoing" phase: sun avoidance 1–2 months, sunscreen ≥ 3 months (S69, S70).
_PHASES = {
    MICRONEEDLING: ("phase_0_24h", "phase_24_72h", "phase_3_7d"),  # S71, S67
    RF_MICRONEEDLING: ("phase_0_24h", "phase_24_72h", "phase_3_7d"),  # S72, S35
    NAFL: ("phase_0_24h", "phase_24_72h", "phase_3_7d", "phase_after"),  # S69, S70
}


def aftercare_sections(
    modality: str, agents: Iterable[str], hsv_history: bool, *, exosome_applied: bool = True
) -> list[str]:
    """Section keys for the sheet, in AFTERCARE_SECTIONS order, leaving out what does not apply."""
    _check_modality(modality)
    agents = set(agents)
    for agent in agents:
        _check_agent(agent)
    wanted = set(_PHASES[modality]) | {"sun_protection", "call_clinic", "emergency"}
    if exosome_applied:
        wanted.add("exosome")
    if agents & DEFAULT_PAUSE_DAYS.keys():
        wanted.add("topicals_restart")  # S70, S71
    if TXA_ORAL in agents:
        wanted.add("txa_oral_warning")  # thrombosis warning signs (S47)
    if hsv_history:
        wanted.add("antiviral")  # S28, S29
    return [section for section in AFTERCARE_SECTIONS if section in wanted]


# When the exosome product went on, as the clinician recorded it (§6: "during or right after" the procedure).
EXOSOME_APPLIED_DURING = "during the procedure"
EXOSOME_APPLIED_AFTER = "immediately after"
EXOSOME_APPLIED_CHOICES = [
    (EXOSOME_APPLIED_DURING, "During the procedure"),
    (EXOSOME_APPLIED_AFTER, "Immediately after"),
]
_EXOSOME_APPLIED_PHRASES = {
    EXOSOME_APPLIED_DURING: "during your treatment",
    EXOSOME_APPLIED_AFTER: "straight after your treatment",
}
EXOSOME_APPLIED_UNRECORDED = "at your treatment"


def exosome_applied_phrase(recorded: str) -> str:
    """The sheet's words for when the product was applied: what was recorded, never a guess."""
    return _EXOSOME_APPLIED_PHRASES.get((recorded or "").strip().lower(), EXOSOME_APPLIED_UNRECORDED)
