"""Contraindication screening for one plan (domain reference §3, §4)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .base import *  # noqa: F403
from .base import _check_agent, _check_modality


class FindingKind(StrEnum):
    ABSOLUTE = "absolute"  # never overridable
    RELATIVE = "relative"  # blocks until a clinician overrides with a reason
    ADJUNCT = "adjunct"  # a prescribed agent is contraindicated; blocks until removed/overridden
    REMINDER = "reminder"  # never blocks


_KIND_ORDER = {FindingKind.ABSOLUTE: 0, FindingKind.ADJUNCT: 1, FindingKind.RELATIVE: 2, FindingKind.REMINDER: 3}


@dataclass(frozen=True)
class Finding:
    code: str
    kind: FindingKind
    message: str
    source: str
    blocks_activation: bool


@dataclass(frozen=True)
class ScreeningAnswers:
    """Field names match the Patient model."""

    is_pregnant: bool = False
    is_breastfeeding: bool = False
    pregnancy_status_confirmed_on: date | None = None
    isotretinoin_last_dose: date | None = None
    hsv_history: bool = False
    hsv_last_outbreak: date | None = None
    active_infection_or_lesion: bool = False
    keloid_tendency: bool = False
    anticoagulants: bool = False
    photosensitising_medicines: str = ""  # free text; non-blank means "yes"
    thrombosis_history: bool = False
    hormonal_contraception: str = HORMONAL_CONTRACEPTION_NONE
    pacemaker_or_implant: bool = False  # pacemaker / ICD / implanted electronics
    metal_implants_face: bool = False
    gold_threads_face: bool = False
    autoimmune_or_immunosuppressed: bool = False
    uncontrolled_diabetes: bool = False
    smoker: bool = False
    renal_impairment: bool = False
    last_tan_or_sun_exposure: date | None = None
    allergies: str = ""
    screening_confirmed_on: date | None = None


# --- Codes (stable: UIs store overrides against them) ------------------------
CODE_PREGNANCY_EBD = "pregnancy_ebd"
CODE_BREASTFEEDING_EBD = "breastfeeding_ebd"
CODE_ACTIVE_INFECTION = "active_infection_or_lesion"
CODE_ISOTRETINOIN = "isotretinoin_recent"
CODE_IMPLANTED_ELECTRONICS_RF = "implanted_electronics_rf"
CODE_METAL_IMPLANTS_RF = "metal_implants_rf"
CODE_GOLD_THREADS_RF = "gold_threads_rf"
CODE_HSV_RECENT_OUTBREAK = "hsv_recent_outbreak"
CODE_KELOID = "keloid_tendency"
CODE_ANTICOAGULANTS = "anticoagulants"
CODE_PHOTOSENSITISING = "photosensitising_medicines"
CODE_RECENT_TAN = "recent_tan"
CODE_AUTOIMMUNE = "autoimmune_or_immunosuppressed"
CODE_UNCONTROLLED_DIABETES = "uncontrolled_diabetes"
CODE_ALLERGIES = "allergies"
CODE_HSV_PROPHYLAXIS = "hsv_prophylaxis"
CODE_PREGNANCY_STATUS = "pregnancy_status_unconfirmed"
CODE_HORMONAL_TRIGGER = "hormonal_contraception_trigger"
CODE_TXA_THROMBOSIS = "txa_oral_thrombosis"
CODE_TXA_COMBINED_CONTRACEPTION = "txa_oral_combined_contraception"
CODE_TXA_PREGNANCY = "txa_oral_pregnancy"
CODE_TXA_BREASTFEEDING = "txa_oral_breastfeeding"
CODE_TXA_RENAL = "txa_oral_renal_impairment"
CODE_TXA_SMOKER = "txa_oral_smoker"
CODE_TXA_ANTICOAGULANTS = "txa_oral_anticoagulants"
CODE_TXA_BASELINE = "txa_oral_baseline_screening"
# Per-agent codes are built from the agent key, e.g. "hydroquinone_pregnancy":
CODE_AGENT_PREGNANCY = "{agent}_pregnancy"
CODE_AGENT_BREASTFEEDING = "{agent}_breastfeeding"
CODE_AGENT_PREGNANCY_UNVERIFIED = "{agent}_pregnancy_unverified"
CODE_AGENT_PAUSE = "{agent}_pause"

# --- Messages ---------------------------------------------------------------
MSG_PREGNANCY_EBD = "Pregnant: defer elective energy-device treatment."
MSG_BREASTFEEDING_EBD = "Breastfeeding: defer elective energy-device treatment."
MSG_ACTIVE_INFECTION = "Active infection, open wound or HSV lesion: do not treat until fully healed."
MSG_ISOTRETINOIN = "Isotretinoin taken within the configured wait period: do not treat yet."
MSG_IMPLANTED_ELECTRONICS_RF = "Pacemaker, ICD or implanted electronics: RF is contraindicated."
MSG_METAL_IMPLANTS_RF = "Metal implants in the face: avoid RF (heat and current concentrate)."
MSG_GOLD_THREADS_RF = "Gold threads in the face: avoid RF (heat and current concentrate)."
MSG_HSV_RECENT_OUTBREAK = "HSV outbreak within the last weeks: higher reactivation risk; confirm prophylaxis."
MSG_KELOID = "Keloid or hypertrophic scarring tendency: exclude or treat with caution."
MSG_ANTICOAGULANTS = "Anticoagulants/antiplatelets: do not stop them; expect bruising or bleeding and document."
MSG_PHOTOSENSITISING = (
    "Photosensitising medicine reported (strongest concern for laser): "
    "use conservative settings or a test spot and document."
)
MSG_RECENT_TAN = "Recent sun exposure, tan or self-tanner: wait 1–2 weeks before treating."
MSG_AUTOIMMUNE = "Autoimmune disease or immunosuppression: needs medical clearance."
MSG_UNCONTROLLED_DIABETES = "Uncontrolled diabetes: needs medical clearance."
MSG_ALLERGIES = "Allergies reported: check product components (exosome vehicle, anaesthetic, metals); patch test."
MSG_HSV_PROPHYLAXIS = "HSV history: antiviral prophylaxis before every session (e.g. from 1–2 days before to 5–7 days after)."
MSG_PREGNANCY_STATUS = "If the patient could be pregnant, re-confirm pregnancy status before energy-device sessions."
MSG_HORMONAL_TRIGGER = "Hormonal contraception can sustain melasma: expect relapse if it continues."
MSG_AGENT_PREGNANCY = "{label} is not used in pregnancy: remove it from the plan."
MSG_AGENT_BREASTFEEDING = "{label} while breastfeeding: use only after discussing the risk; document."
MSG_AGENT_PREGNANCY_UNVERIFIED = "{label}: pregnancy safety is not established; document the discussion."
MSG_AGENT_PAUSE = "Stop {label} {days} days before each session."
MSG_TXA_THROMBOSIS = "Oral tranexamic acid is contraindicated with thrombosis history or inherited clotting risk."
MSG_TXA_COMBINED_CONTRACEPTION = "Oral tranexamic acid is contraindicated with combined hormonal contraception."
MSG_TXA_PREGNANCY = "Oral tranexamic acid in pregnancy: label precaution; avoid unless justified."
MSG_TXA_BREASTFEEDING = "Oral tranexamic acid while breastfeeding: label precaution."
MSG_TXA_RENAL = "Oral tranexamic acid with renal impairment: dose caution (label)."
MSG_TXA_SMOKER = "Oral tranexamic acid in a smoker: raised thrombosis risk."
MSG_TXA_ANTICOAGULANTS = "Oral tranexamic acid with anticoagulants: review with the prescriber."
MSG_TXA_BASELINE = (
    "Oral tranexamic acid (off-label): take thromboembolic, cardiovascular and menstrual history "
    "and a baseline coagulation profile."
)

ERR_UNKNOWN_CONTRACEPTION = "Unknown hormonal_contraception value {value!r}."

# Contraindicated in pregnancy; breastfeeding is a caution (S31 row "Pregnancy / breastfeeding").
_PREGNANCY_CONTRAINDICATED_SOURCES = {
    HYDROQUINONE: "S40, S31",
    TRETINOIN: "S36, S31",
    TRIPLE_COMBINATION: "S36, S31",
}


def _finding(code: str, kind: FindingKind, message: str, source: str, *, blocks: bool | None = None) -> Finding:
    if blocks is None:
        blocks = kind is not FindingKind.REMINDER
    return Finding(code=code, kind=kind, message=message, source=source, blocks_activation=blocks)


def isotretinoin_clear_on(last_dose: date, cfg: RuleConfig = DEFAULT_CONFIG) -> date:
    """First day energy devices are allowed after isotretinoin (S27 [U])."""
    return add_months(last_dose, cfg.isotretinoin_wait_months)


def screening_is_stale(confirmed_on: date | None, today: date, cfg: RuleConfig = DEFAULT_CONFIG) -> bool:
    """Answers confirmed exactly max_age days ago still count; one day more does not."""
    if confirmed_on is None:
        return True
    return (today - confirmed_on).days > cfg.screening_max_age_days


def screen(
    answers: ScreeningAnswers,
    modality: str,
    adjuncts: Sequence[AdjunctSpec],
    today: date,
    cfg: RuleConfig = DEFAULT_CONFIG,
) -> list[Finding]:
    """Contraindications for one plan, ordered absolute → adjunct → relative → reminder."""
    _check_modality(modality)
    for spec in adjuncts:
        _check_agent(spec.agent)
    if answers.hormonal_contraception not in dict(HORMONAL_CONTRACEPTION_CHOICES):
        raise ValueError(ERR_UNKNOWN_CONTRACEPTION.format(value=answers.hormonal_contraception))

    A, R, J, M = FindingKind.ABSOLUTE, FindingKind.RELATIVE, FindingKind.ADJUNCT, FindingKind.REMINDER
    findings: list[Finding] = []
    add = findings.append
    is_rf = modality == RF_MICRONEEDLING
    has_hsv = answers.hsv_history or answers.hsv_last_outbreak is not None

    # --- Patient-level, every energy device (all three modalities are EBDs) ---
    if answers.is_pregnant:
        add(_finding(CODE_PREGNANCY_EBD, A, MSG_PREGNANCY_EBD, "S31"))
    if answers.is_breastfeeding:
        add(_finding(CODE_BREASTFEEDING_EBD, A, MSG_BREASTFEEDING_EBD, "S31"))
    if answers.active_infection_or_lesion:
        add(_finding(CODE_ACTIVE_INFECTION, A, MSG_ACTIVE_INFECTION, "S31, S30"))
    if answers.isotretinoin_last_dose is not None and today < isotretinoin_clear_on(answers.isotretinoin_last_dose, cfg):
        add(_finding(CODE_ISOTRETINOIN, A, MSG_ISOTRETINOIN, "S27, S31"))
    if answers.hsv_last_outbreak is not None:
        if (today - answers.hsv_last_outbreak).days < cfg.hsv_recent_outbreak_weeks * 7:
            add(_finding(CODE_HSV_RECENT_OUTBREAK, R, MSG_HSV_RECENT_OUTBREAK, "S30"))
    if answers.keloid_tendency:
        add(_finding(CODE_KELOID, R, MSG_KELOID, "S31, S79"))
    if answers.anticoagulants:
        add(_finding(CODE_ANTICOAGULANTS, R, MSG_ANTICOAGULANTS, "S33"))
    if answers.photosensitising_medicines.strip():
        add(_finding(CODE_PHOTOSENSITISING, R, MSG_PHOTOSENSITISING, "S34"))
    if answers.last_tan_or_sun_exposure is not None:
        if (today - answers.last_tan_or_sun_exposure).days < cfg.recent_tan_days:
            add(_finding(CODE_RECENT_TAN, R, MSG_RECENT_TAN, "S35, S31"))
    if answers.autoimmune_or_immunosuppressed:
        add(_finding(CODE_AUTOIMMUNE, R, MSG_AUTOIMMUNE, "S31, S32"))
    if answers.uncontrolled_diabetes:
        add(_finding(CODE_UNCONTROLLED_DIABETES, R, MSG_UNCONTROLLED_DIABETES, "S31, S32"))
    if answers.allergies.strip():
        add(_finding(CODE_ALLERGIES, R, MSG_ALLERGIES, "S31"))

    # --- RF only: current and heat concentrate in metal and electronics ---
    if is_rf:
        if answers.pacemaker_or_implant:
            add(_finding(CODE_IMPLANTED_ELECTRONICS_RF, A, MSG_IMPLANTED_ELECTRONICS_RF, "S32, S31"))
        if answers.metal_implants_face:
            add(_finding(CODE_METAL_IMPLANTS_RF, A, MSG_METAL_IMPLANTS_RF, "S32, S80"))
        if answers.gold_threads_face:
            kind = A if cfg.gold_threads_rf_absolute else R
            add(_finding(CODE_GOLD_THREADS_RF, kind, MSG_GOLD_THREADS_RF, "S32, S80"))

    # --- Adjuncts (§3, §4) ---
    agents = {spec.agent for spec in adjuncts}
    for agent in sorted(agents):
        label = AGENT_LABELS[agent]
        if agent in _PREGNANCY_CONTRAINDICATED_SOURCES:
            source = _PREGNANCY_CONTRAINDICATED_SOURCES[agent]
            if answers.is_pregnant:
                add(_finding(CODE_AGENT_PREGNANCY.format(agent=agent), J, MSG_AGENT_PREGNANCY.format(label=label), source))
            if answers.is_breastfeeding:
                add(
                    _finding(
                        CODE_AGENT_BREASTFEEDING.format(agent=agent), R, MSG_AGENT_BREASTFEEDING.format(label=label), source
                    )
                )
        if agent == CYSTEAMINE and answers.is_pregnant:
            kind = J if cfg.cysteamine_blocks_in_pregnancy else R
            add(_finding(CODE_AGENT_PREGNANCY.format(agent=agent), kind, MSG_AGENT_PREGNANCY.format(label=label), "S42"))
        if agent in cfg.pregnancy_unverified_agents and (answers.is_pregnant or answers.is_breastfeeding):
            add(
                _finding(
                    CODE_AGENT_PREGNANCY_UNVERIFIED.format(agent=agent),
                    M,
                    MSG_AGENT_PREGNANCY_UNVERIFIED.format(label=label),
                    "S43, S44, S45",
                )
            )

    if TXA_ORAL in agents:
        # Label contraindications (S47); dermatology protocols add smokers and anticoagulants (S48).
        if answers.thrombosis_history:
            add(_finding(CODE_TXA_THROMBOSIS, J, MSG_TXA_THROMBOSIS, "S47, S46"))
        if answers.hormonal_contraception == HORMONAL_CONTRACEPTION_COMBINED:
            add(_finding(CODE_TXA_COMBINED_CONTRACEPTION, J, MSG_TXA_COMBINED_CONTRACEPTION, "S47"))
        if answers.is_pregnant:
            add(_finding(CODE_TXA_PREGNANCY, R, MSG_TXA_PREGNANCY, "S47, S48"))
        if answers.is_breastfeeding:
            add(_finding(CODE_TXA_BREASTFEEDING, R, MSG_TXA_BREASTFEEDING, "S47"))
        if answers.renal_impairment:
            add(_finding(CODE_TXA_RENAL, R, MSG_TXA_RENAL, "S47"))
        if answers.smoker:
            add(_finding(CODE_TXA_SMOKER, R, MSG_TXA_SMOKER, "S48"))
        if answers.anticoagulants:
            add(_finding(CODE_TXA_ANTICOAGULANTS, R, MSG_TXA_ANTICOAGULANTS, "S48"))
        add(_finding(CODE_TXA_BASELINE, M, MSG_TXA_BASELINE, "S46"))

    # --- Reminders (never block) ---
    if has_hsv:
        add(_finding(CODE_HSV_PROPHYLAXIS, M, MSG_HSV_PROPHYLAXIS, "S28, S29, S30"))
    if not answers.is_pregnant and screening_is_stale(answers.pregnancy_status_confirmed_on, today, cfg):
        add(_finding(CODE_PREGNANCY_STATUS, M, MSG_PREGNANCY_STATUS, "S31"))
    if answers.hormonal_contraception != HORMONAL_CONTRACEPTION_NONE:
        add(_finding(CODE_HORMONAL_TRIGGER, M, MSG_HORMONAL_TRIGGER, "S78"))
    for spec in sorted(adjuncts, key=lambda s: s.agent):
        days = effective_pause_days(spec)
        if days:
            add(
                _finding(
                    CODE_AGENT_PAUSE.format(agent=spec.agent),
                    M,
                    MSG_AGENT_PAUSE.format(label=AGENT_LABELS[spec.agent], days=days),
                    "S35, S70",
                )
            )

    return sorted(findings, key=lambda f: _KIND_ORDER[f.kind])
