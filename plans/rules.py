"""Pure clinical rules for melasma treatment courses.

No ORM and no Django here: plain values in, plain values out, so services, forms and
views share one implementation and the tests need no database.

Every rule names its source key (S#) in the domain reference
``shared/domain/melasma.md``. Numbers the reference tags [U] (uncertain or contested)
are fields of ``RuleConfig`` so a clinic can change them from settings; the rest are
module constants.

Sections (search for the banner):
    1. MODALITIES AND ADJUNCT AGENTS
    2. CONFIGURATION
    3. SCREENING
    4. SCORING
    5. DEVICE SETTINGS
    6. COURSE SCHEDULE
    7. PLAN LIFECYCLE AND ACTIVATION
    8. PRE-SESSION CHECK AND BOOKING HOLDS
    9. ADVERSE EVENTS
   10. AFTERCARE
"""

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

# =============================================================================
# 1. MODALITIES AND ADJUNCT AGENTS
# =============================================================================

MICRONEEDLING = "microneedling"
NAFL = "nafl"
RF_MICRONEEDLING = "rf_microneedling"
MODALITY_CHOICES = [
    (MICRONEEDLING, "Microneedling"),
    (NAFL, "Non-ablative fractional laser"),
    (RF_MICRONEEDLING, "RF microneedling"),
]
MODALITIES = frozenset(key for key, _ in MODALITY_CHOICES)

HYDROQUINONE = "hydroquinone"
TRIPLE_COMBINATION = "triple_combination"
TRETINOIN = "tretinoin"
AZELAIC_ACID = "azelaic_acid"
CYSTEAMINE = "cysteamine"
TXA_TOPICAL = "txa_topical"
TXA_ORAL = "txa_oral"
NIACINAMIDE = "niacinamide"
KOJIC_ACID = "kojic_acid"
VITAMIN_C = "vitamin_c"
OTHER_AGENT = "other"
AGENT_CHOICES = [
    (HYDROQUINONE, "Hydroquinone"),
    (TRIPLE_COMBINATION, "Triple combination (fluocinolone + hydroquinone + tretinoin)"),
    (TRETINOIN, "Tretinoin"),
    (AZELAIC_ACID, "Azelaic acid"),
    (CYSTEAMINE, "Cysteamine"),
    (TXA_TOPICAL, "Tranexamic acid, topical"),
    (TXA_ORAL, "Tranexamic acid, oral"),
    (NIACINAMIDE, "Niacinamide"),
    (KOJIC_ACID, "Kojic acid"),
    (VITAMIN_C, "Vitamin C (ascorbic acid)"),
    (OTHER_AGENT, "Other"),
]
AGENTS = frozenset(key for key, _ in AGENT_CHOICES)
AGENT_LABELS = dict(AGENT_CHOICES)

# Irritants are stopped before a session (S35, S70: "retinoids, acids, HQ/TC and vitamin C",
# 3–7 days; §3 says 5–7, some clinics 3). We default to the top of the range because
# irritation before an energy device is what tips melasma into PIH (S73). Azelaic and kojic
# acid are read as "acids". Not listed, so they continue: niacinamide, cysteamine (rinse-off),
# topical TXA (it is delivered during the session, S13, S26) and oral TXA. A plan can still
# set AdjunctSpec.pause_days_before for any agent.
DEFAULT_PAUSE_DAYS: dict[str, int] = {
    HYDROQUINONE: 7,
    TRIPLE_COMBINATION: 7,
    TRETINOIN: 7,
    VITAMIN_C: 7,
    AZELAIC_ACID: 7,
    KOJIC_ACID: 7,
}

# Earliest restart after re-epithelialisation: about 5–7 days after MN/RFMN, 7 after NAFL
# (S70, S71). The aftercare sheet adds "only if the skin is calm" (§8).
RESTART_DAYS_AFTER: dict[str, int] = {
    MICRONEEDLING: 5,
    RF_MICRONEEDLING: 5,
    NAFL: 7,
}

HORMONAL_CONTRACEPTION_NONE = "none"
HORMONAL_CONTRACEPTION_COMBINED = "combined"
HORMONAL_CONTRACEPTION_PROGESTIN_ONLY = "progestin_only"
HORMONAL_CONTRACEPTION_CHOICES = [
    (HORMONAL_CONTRACEPTION_NONE, "None"),
    (HORMONAL_CONTRACEPTION_COMBINED, "Combined (oestrogen + progestin)"),
    (HORMONAL_CONTRACEPTION_PROGESTIN_ONLY, "Progestin only"),
]

# S8; types IV–VI carry the highest PIH risk after procedures (S73).
FITZPATRICK_CHOICES = [(1, "I"), (2, "II"), (3, "III"), (4, "IV"), (5, "V"), (6, "VI")]
FITZPATRICK_HIGH_PIH_RISK_FROM = 4

ERR_UNKNOWN_MODALITY = "Unknown modality {modality!r}."
ERR_UNKNOWN_AGENT = "Unknown adjunct agent {agent!r}."


@dataclass(frozen=True)
class AdjunctSpec:
    agent: str
    strength: str = ""
    pause_days_before: int = 0  # 0 = use DEFAULT_PAUSE_DAYS for the agent


def _check_modality(modality: str) -> None:
    if modality not in MODALITIES:
        raise ValueError(ERR_UNKNOWN_MODALITY.format(modality=modality))


def _check_agent(agent: str) -> None:
    if agent not in AGENTS:
        raise ValueError(ERR_UNKNOWN_AGENT.format(agent=agent))


def effective_pause_days(spec: AdjunctSpec) -> int:
    """Days the agent must be stopped before a session: the plan's value, else the default."""
    _check_agent(spec.agent)
    if spec.pause_days_before > 0:
        return spec.pause_days_before
    return DEFAULT_PAUSE_DAYS.get(spec.agent, 0)


def restart_day(agent: str, modality: str, session_date: date) -> date | None:
    """First day a paused topical may restart; None when the agent is never paused."""
    _check_agent(agent)
    _check_modality(modality)
    if agent not in DEFAULT_PAUSE_DAYS:
        return None
    return session_date + timedelta(days=RESTART_DAYS_AFTER[modality])


# =============================================================================
# 2. CONFIGURATION
# =============================================================================


@dataclass(frozen=True)
class RuleConfig:
    """Every [U] threshold plus clinic conventions; the project builds it from settings."""

    # Label says 6 months; ASDS finds no reason to delay non-ablative devices; clinics use 6–12 (S27 [U]).
    # 0 disables the rule.
    isotretinoin_wait_months: int = 6
    recent_tan_days: int = 14  # avoid 1–2 weeks before (S35, S31)
    screening_max_age_days: int = 30  # clinic convention: re-confirm older answers
    hsv_recent_outbreak_weeks: int = 8  # outbreak within 6–8 weeks = higher risk (S30)
    window_before_days: int = 3  # clinic convention around the 4-week target
    window_after_days: int = 7
    default_interval_days: int = 28  # 4 weeks (S13, S16, S22, S63)
    followup_months: tuple[int, ...] = (1, 3, 6)  # S16; relapse shows between 1 and 3 months
    late_cancel_hours: int = 24  # clinic policy
    # Depth is contested: specialists advise ~0.1–0.2 mm delivery-only needling (S15 [U]);
    # the exosome trial used a 0.5 mm roller in types III–IV (S14).
    microneedling_depth_default_mm: float = 0.5
    microneedling_depth_fitz_iv_vi_mm: float = 0.2
    # Rodrigues mMASI→severity cut-offs not verified (S4 [U]). None = do not band.
    # Often quoted: (3.2, 6.6) meaning mild < 3.2 ≤ moderate ≤ 6.6 < severe.
    mmasi_band_cutoffs: tuple[float, float] | None = None
    # No validated MCID; changes of about ≤1 point are within rater noise (§1.3 [U], S5).
    min_meaningful_change_points: Decimal = Decimal("1.0")
    # Gold threads are named only in device/clinic lists (S32, S80 [U]); False = relative.
    gold_threads_rf_absolute: bool = True
    # Cysteamine: excluded from trials, "avoid" in pregnancy is unverified (S42 [U]); False = relative.
    cysteamine_blocks_in_pregnancy: bool = True
    # One split-face trial found 1550 nm worsened melasma; contested (S19 [U]).
    warn_nafl_1550: bool = True
    # Pregnancy safety only "generally considered" (S43, S44, S45 [U]): non-blocking reminder.
    pregnancy_unverified_agents: tuple[str, ...] = (NIACINAMIDE, KOJIC_ACID, VITAMIN_C)
    # Not here on purpose: exosome storage temperatures and post-reconstitution times are
    # product-specific (§6 [U]) and belong on the product record. MELASQOL's "7–70" vs
    # "10–70" discrepancy (§1.4 [U]) is not a threshold: the total follows from 10 items × 1–7.


DEFAULT_CONFIG = RuleConfig()


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamping to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# =============================================================================
# 3. SCREENING
# =============================================================================


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


# =============================================================================
# 4. SCORING
# =============================================================================

MASI_REGIONS = ("forehead", "right_malar", "left_malar", "chin")
# Kimbrough-Green weights (S1, S2); nose and upper lip are not scored (S5).
REGION_WEIGHTS: dict[str, Decimal] = {
    "forehead": Decimal("0.3"),
    "right_malar": Decimal("0.3"),
    "left_malar": Decimal("0.3"),
    "chin": Decimal("0.1"),
}
AREA_MAX = 6  # 0 none … 6 = 90–100 % (S1)
DARKNESS_MAX = 4  # 0 absent … 4 maximum (S1)
HOMOGENEITY_MAX = 4
MASI_MAX = Decimal("48")  # S1
MMASI_MAX = Decimal("24")  # 0.9·6·4 + 0.1·6·4 (S3)

MELASQOL_ITEMS = 10  # S6
MELASQOL_ITEM_MIN, MELASQOL_ITEM_MAX = 1, 7
# The total is 10–70 by arithmetic; much literature says "7–70" (S6, S7 [U]). We validate items,
# so the total can only be 10–70.

SCORE_QUANTUM = Decimal("0.1")

ERR_MISSING_REGIONS = "MASI needs all four regions; missing: {regions}."
ERR_UNKNOWN_REGIONS = "Unknown MASI region(s): {regions}."
ERR_SCORE_RANGE = "{region}: {component} must be a whole number from 0 to {maximum}, got {value!r}."
ERR_HOMOGENEITY_MISSING = "{region}: homogeneity is needed for MASI (mMASI does not use it)."
ERR_MELASQOL_COUNT = "MELASQOL has exactly 10 items, got {count}."
ERR_MELASQOL_ITEM = "MELASQOL item {number} must be a whole number from 1 to 7, got {value!r}."
ERR_NEGATIVE_SCORE = "Scores cannot be negative."

MMASI_BAND_MILD = "mild"
MMASI_BAND_MODERATE = "moderate"
MMASI_BAND_SEVERE = "severe"


@dataclass(frozen=True)
class RegionScore:
    area: int
    darkness: int
    homogeneity: int | None = None


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_component(region: str, component: str, value: object, maximum: int) -> None:
    if not _is_whole(value) or not 0 <= value <= maximum:
        raise ValueError(ERR_SCORE_RANGE.format(region=region, component=component, maximum=maximum, value=value))


def _validated(regions: Mapping[str, RegionScore], *, need_homogeneity: bool) -> None:
    missing = [r for r in MASI_REGIONS if r not in regions]
    if missing:
        raise ValueError(ERR_MISSING_REGIONS.format(regions=", ".join(missing)))
    unknown = sorted(set(regions) - set(MASI_REGIONS))
    if unknown:
        raise ValueError(ERR_UNKNOWN_REGIONS.format(regions=", ".join(unknown)))
    for region in MASI_REGIONS:
        score = regions[region]
        _check_component(region, "area", score.area, AREA_MAX)
        _check_component(region, "darkness", score.darkness, DARKNESS_MAX)
        if score.homogeneity is None:
            if need_homogeneity:
                raise ValueError(ERR_HOMOGENEITY_MISSING.format(region=region))
        else:
            _check_component(region, "homogeneity", score.homogeneity, HOMOGENEITY_MAX)


def _quantize(value: Decimal) -> Decimal:
    # Weights are tenths and components whole numbers, so MASI/mMASI are always exact tenths and
    # this never rounds them; it fixes one decimal place for storage. percent_change does round
    # (half up).
    return value.quantize(SCORE_QUANTUM, rounding=ROUND_HALF_UP)


def masi(regions: Mapping[str, RegionScore]) -> Decimal:
    """MASI 0–48 = Σ weight·A·(D+H) (S1, S2)."""
    _validated(regions, need_homogeneity=True)
    total = sum(
        (REGION_WEIGHTS[r] * regions[r].area * (regions[r].darkness + regions[r].homogeneity) for r in MASI_REGIONS),
        Decimal(0),
    )
    return _quantize(total)


def mmasi(regions: Mapping[str, RegionScore]) -> Decimal:
    """mMASI 0–24 = Σ weight·A·D; homogeneity dropped for poor inter-rater agreement (S3)."""
    _validated(regions, need_homogeneity=False)
    total = sum((REGION_WEIGHTS[r] * regions[r].area * regions[r].darkness for r in MASI_REGIONS), Decimal(0))
    return _quantize(total)


def mmasi_band(score: Decimal, cfg: RuleConfig = DEFAULT_CONFIG) -> str | None:
    """Severity band, or None while the cut-offs are unverified (S4 [U])."""
    if cfg.mmasi_band_cutoffs is None:
        return None
    low, high = (Decimal(str(c)) for c in cfg.mmasi_band_cutoffs)
    if score < low:
        return MMASI_BAND_MILD
    if score <= high:
        return MMASI_BAND_MODERATE
    return MMASI_BAND_SEVERE


def melasqol(items: Sequence[int]) -> int:
    """MELASQOL total, 10–70; higher is worse (S6, S7)."""
    if len(items) != MELASQOL_ITEMS:
        raise ValueError(ERR_MELASQOL_COUNT.format(count=len(items)))
    for number, value in enumerate(items, start=1):
        if not _is_whole(value) or not MELASQOL_ITEM_MIN <= value <= MELASQOL_ITEM_MAX:
            raise ValueError(ERR_MELASQOL_ITEM.format(number=number, value=value))
    return sum(items)


def _decimal(value: Decimal | int | float) -> Decimal:
    # str() so 0.1 becomes Decimal("0.1"), not its binary approximation.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def percent_change(baseline: Decimal | int | float, current: Decimal | int | float) -> Decimal | None:
    """Change from baseline in %, 0.1 half-up; negative = improvement (S13, S20). None if baseline is 0."""
    base, now = _decimal(baseline), _decimal(current)
    if base < 0 or now < 0:
        raise ValueError(ERR_NEGATIVE_SCORE)
    if base == 0:
        return None
    return _quantize((now - base) / base * 100)


def is_meaningful_change(
    baseline: Decimal | int | float,
    current: Decimal | int | float,
    min_points: Decimal | int | float | None = None,
    cfg: RuleConfig = DEFAULT_CONFIG,
) -> bool:
    """True when the change exceeds rater noise: a change of exactly min_points is not real (§1.3)."""
    threshold = _decimal(cfg.min_meaningful_change_points if min_points is None else min_points)
    return abs(_decimal(current) - _decimal(baseline)) > threshold


# =============================================================================
# 5. DEVICE SETTINGS
# =============================================================================

# "Impossible" limits catch typos (errors); published melasma ranges ask for confirmation (warnings).
MAX_NEEDLE_DEPTH_MM = 3.5  # deepest facial MN/RFMN tips; beyond is a typo
MN_MELASMA_MAX_DEPTH_MM = 1.5  # deepest published melasma protocol (S12); deep needling contested (S15)
NAFL_WAVELENGTHS_NM = (1550, 1565, 1927)  # §2.2
NAFL_MELASMA_ENERGY_MJ = (6, 40)  # 1927: 10–20 mJ (S16); 1550: 6–40 mJ (S17)
NAFL_MAX_ENERGY_MJ = 100  # above any fractional NAFL handpiece: a typo
NAFL_MELASMA_MAX_DENSITY_PERCENT = 29  # 1550 treatment level 10 = 29 % (S17); PIH rises with density (S18)
USUAL_PASSES = (1, 10)  # up to 6–8 (S16) and 8–10 (S17) passes

MICRONEEDLING_ZONE_FIELDS = ("needle_depth_mm", "depth_forehead_mm", "depth_malar_mm", "depth_chin_mm")
ZONE_DEPTHS_FIELD = "zone_depths_mm"  # {zone: mm}; errors are keyed "zone_depths_mm.<zone>"

ERR_NOT_A_NUMBER = "Enter a number."
ERR_NOT_POSITIVE = "Must be greater than zero."
ERR_NOT_WHOLE = "Must be a whole number of at least 1."
ERR_TOO_DEEP = f"Needle depth above {MAX_NEEDLE_DEPTH_MM} mm is not possible on the face."
ERR_WAVELENGTH = "Wavelength must be 1550, 1565 or 1927 nm."
ERR_ENERGY_TOO_HIGH = f"Pulse energy above {NAFL_MAX_ENERGY_MJ} mJ is not possible for a fractional laser."
ERR_DENSITY = "Density must be above 0 and at most 100 %."
ERR_ZONE_DEPTHS = "Zone depths must be a mapping of zone to millimetres."
WARN_MN_DEPTH = (
    f"Deeper than the deepest published melasma protocol ({MN_MELASMA_MAX_DEPTH_MM} mm); "
    "deep needling may worsen melasma. Confirm."
)
WARN_NAFL_ENERGY = "Outside the published melasma range of 6–40 mJ. Confirm."
WARN_NAFL_DENSITY = "Above the published melasma maximum of 29 % coverage; PIH rises with density. Confirm."
WARN_NAFL_1550 = "A split-face trial found 1550 nm worsened melasma (contested). Confirm."
WARN_PASSES = "Outside the usual 1–10 passes. Confirm."


@dataclass(frozen=True)
class ParamCheck:
    errors: dict[str, str]
    warnings: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def _number(value: object) -> float | None:
    """The value as a finite float, or None if it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _check_positive(field: str, value: object, errors: dict[str, str]) -> float | None:
    number = _number(value)
    if number is None:
        errors[field] = ERR_NOT_A_NUMBER
    elif number <= 0:
        errors[field] = ERR_NOT_POSITIVE
    else:
        return number
    return None


def _check_count(field: str, value: object, errors: dict[str, str]) -> int | None:
    number = _number(value)
    if number is None:
        errors[field] = ERR_NOT_A_NUMBER
    elif number < 1 or not number.is_integer():
        errors[field] = ERR_NOT_WHOLE
    else:
        return int(number)
    return None


def _check_depth(field: str, value: object, errors: dict[str, str]) -> float | None:
    depth = _check_positive(field, value, errors)
    if depth is not None and depth > MAX_NEEDLE_DEPTH_MM:
        errors[field] = ERR_TOO_DEEP
        return None
    return depth


def _check_passes(params: Mapping[str, object], errors: dict[str, str], warnings: dict[str, str]) -> None:
    if params.get("passes") is None:
        return
    passes = _check_count("passes", params["passes"], errors)
    if passes is not None and not USUAL_PASSES[0] <= passes <= USUAL_PASSES[1]:
        warnings["passes"] = WARN_PASSES


def check_device_settings(
    modality: str, params: Mapping[str, object], cfg: RuleConfig = DEFAULT_CONFIG
) -> ParamCheck:
    """Errors for impossible values, warnings outside published melasma ranges.

    None means "not recorded" and is skipped; keys that are not settings of the modality are
    ignored so a form can pass its whole cleaned_data.
    """
    _check_modality(modality)
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}

    def present(field: str) -> bool:
        return params.get(field) is not None

    if modality == MICRONEEDLING:
        depths: dict[str, object] = {f: params[f] for f in MICRONEEDLING_ZONE_FIELDS if present(f)}
        if present(ZONE_DEPTHS_FIELD):
            zone_depths = params[ZONE_DEPTHS_FIELD]
            if not isinstance(zone_depths, Mapping):
                errors[ZONE_DEPTHS_FIELD] = ERR_ZONE_DEPTHS
            else:
                depths.update({f"{ZONE_DEPTHS_FIELD}.{zone}": mm for zone, mm in zone_depths.items() if mm is not None})
        for field, value in depths.items():
            depth = _check_depth(field, value, errors)
            if depth is not None and depth > MN_MELASMA_MAX_DEPTH_MM:
                warnings[field] = WARN_MN_DEPTH
        if present("speed"):
            _check_positive("speed", params["speed"], errors)  # device-specific scale: no range

    elif modality == NAFL:
        if present("wavelength_nm"):
            if _number(params["wavelength_nm"]) not in NAFL_WAVELENGTHS_NM:
                errors["wavelength_nm"] = ERR_WAVELENGTH
            elif params["wavelength_nm"] == 1550 and cfg.warn_nafl_1550:
                warnings["wavelength_nm"] = WARN_NAFL_1550
        if present("energy_mj"):
            energy = _check_positive("energy_mj", params["energy_mj"], errors)
            if energy is not None and energy > NAFL_MAX_ENERGY_MJ:
                errors["energy_mj"] = ERR_ENERGY_TOO_HIGH
            elif energy is not None and not NAFL_MELASMA_ENERGY_MJ[0] <= energy <= NAFL_MELASMA_ENERGY_MJ[1]:
                warnings["energy_mj"] = WARN_NAFL_ENERGY
        if present("density_percent"):
            density = _check_positive("density_percent", params["density_percent"], errors)
            if density is not None and density > 100:
                errors["density_percent"] = ERR_DENSITY
            elif density is not None and density > NAFL_MELASMA_MAX_DENSITY_PERCENT:
                warnings["density_percent"] = WARN_NAFL_DENSITY
        if present("total_energy_kj"):
            _check_positive("total_energy_kj", params["total_energy_kj"], errors)

    else:  # RF microneedling: no standard melasma depth or energy (S24–S26 [U]), so errors only.
        if present("needle_depth_mm"):
            _check_depth("needle_depth_mm", params["needle_depth_mm"], errors)
        for field in ("power_level", "pulse_duration_ms"):
            if present(field):
                _check_positive(field, params[field], errors)
        if present("pins"):
            _check_count("pins", params["pins"], errors)

    _check_passes(params, errors, warnings)
    return ParamCheck(errors=errors, warnings=warnings)


def suggest_device_settings(modality: str, fitzpatrick: int, cfg: RuleConfig = DEFAULT_CONFIG) -> dict[str, object]:
    """Conservative starting settings; lower depth, energy and density for types IV–VI (S15, S18, S73).

    Keys match check_device_settings, plus "cooling", "endpoint" and "note". The clinician
    sets the final values.
    """
    _check_modality(modality)
    if not _is_whole(fitzpatrick) or not 1 <= fitzpatrick <= 6:
        raise ValueError(f"Fitzpatrick type must be 1–6, got {fitzpatrick!r}.")
    darker = fitzpatrick >= FITZPATRICK_HIGH_PIH_RISK_FROM
    if modality == MICRONEEDLING:
        return {
            "needle_depth_mm": cfg.microneedling_depth_fitz_iv_vi_mm if darker else cfg.microneedling_depth_default_mm,
            "endpoint": "erythema",  # slight redness, not pinpoint bleeding (S14)
            "cooling": darker,
            "note": "Shallow, delivery-focused needling; depth is contested (S15).",
        }
    if modality == NAFL:
        # 1927 nm at the low end of S16 (10–20 mJ); in Asian skin PIH tracked density more than
        # energy (S18), so darker types get the lower density.
        # Fewer passes for darker types keeps total coverage down, for the same reason.
        return {
            "wavelength_nm": 1927,
            "energy_mj": 10,
            "density_percent": 10 if darker else 20,
            "passes": 4 if darker else 6,
            "cooling": True,
            "note": "Low density and cooling for darker skin (S18)." if darker else "",
        }
    return {
        "cooling": True,
        "note": "No standard melasma settings are published: use the device's lowest melasma preset "
        "and record it (S24–S26)." + (" Darker skin: low energy and cooling (S18, S73)." if darker else ""),
    }


_CAPPED_FOR_DARKER_SKIN = ("energy_mj", "density_percent", "passes")


def conservative_device_settings(
    modality: str, fitzpatrick: int | None, base: Mapping[str, object], cfg: RuleConfig = DEFAULT_CONFIG
) -> dict[str, object]:
    """A template's settings adjusted for one patient: gaps filled from suggest_device_settings, and for
    types IV–VI (or an unrecorded type, to be safe) no depth, energy, density or passes above the
    suggestion, with cooling on (S15, S18, S73)."""
    darker = fitzpatrick is None or fitzpatrick >= FITZPATRICK_HIGH_PIH_RISK_FROM
    suggestion = suggest_device_settings(modality, fitzpatrick or FITZPATRICK_HIGH_PIH_RISK_FROM, cfg)
    result = dict(base)
    for key, value in suggestion.items():
        if result.get(key) in (None, ""):
            result[key] = value
    if not darker:
        return result
    result["cooling"] = True
    depth_cap = _number(suggestion.get("needle_depth_mm"))
    if depth_cap is not None:
        for field in MICRONEEDLING_ZONE_FIELDS:
            depth = _number(result.get(field))
            if depth is not None and depth > depth_cap:
                result[field] = depth_cap
        zones = result.get(ZONE_DEPTHS_FIELD)
        if isinstance(zones, Mapping):
            result[ZONE_DEPTHS_FIELD] = {
                zone: (depth_cap if (_number(mm) or 0) > depth_cap else mm) for zone, mm in zones.items()
            }
    for field in _CAPPED_FOR_DARKER_SKIN:
        cap, value = _number(suggestion.get(field)), _number(result.get(field))
        if cap is not None and value is not None and value > cap:
            result[field] = suggestion[field]
    return result


# =============================================================================
# 6. COURSE SCHEDULE
# =============================================================================

COURSE_SESSIONS_USUAL = (3, 4)  # 3–4 sessions (S13, S16, S63)
COURSE_SESSIONS_ALLOWED = (1, 6)  # up to 6 seen in published protocols (S14)
INTERVAL_DAYS_PUBLISHED = (14, 56)  # 2–3 to 8 weeks (§2.4)

ERR_COURSE_SIZE = "A course has 1 to 6 sessions."
WARN_COURSE_SIZE = "Usual courses have 3–4 sessions; confirm this number."
WARN_INTERVAL = "Published intervals are 2 to 8 weeks apart; confirm this interval."
ERR_SESSION_NUMBER = "Session number {number} is outside 1–{sessions}."
ERR_INTERVAL = "The interval must be at least 1 day."


@dataclass(frozen=True)
class Window:
    number: int
    target: date
    earliest: date
    latest: date


def session_windows(
    start: date,
    sessions: int,
    interval_days: int,
    performed: Mapping[int, date] | None = None,
    booked: Mapping[int, date] | None = None,
    cfg: RuleConfig = DEFAULT_CONFIG,
) -> list[Window]:
    """Target and allowed window per session; each target follows the previous session's actual date.

    A late session pushes every later target, so spacing (which drives healing, S13, S16) holds.
    Actual = performed date, else booked date, else the target.
    """
    performed = performed or {}
    booked = booked or {}
    if sessions < 1:
        raise ValueError(ERR_COURSE_SIZE)
    if interval_days < 1:
        raise ValueError(ERR_INTERVAL)
    for number in (*performed, *booked):
        if not 1 <= number <= sessions:
            raise ValueError(ERR_SESSION_NUMBER.format(number=number, sessions=sessions))

    windows = []
    target = start
    for number in range(1, sessions + 1):
        windows.append(
            Window(
                number=number,
                target=target,
                earliest=target - timedelta(days=cfg.window_before_days),
                latest=target + timedelta(days=cfg.window_after_days),
            )
        )
        actual = performed.get(number) or booked.get(number) or target
        target = actual + timedelta(days=interval_days)
    return windows


def outside_window(window: Window, when: date) -> bool:
    """Both window edges are inside."""
    return not window.earliest <= when <= window.latest


# --- 6b. SESSION SEQUENCE AND RESCHEDULE CASCADE (helper `sequence`, issue 12) -------------------------------
# Sessions are performed in order (§9: a course of 3–4 sessions about 4 weeks apart, S13, S16, S63) inside the
# window around their target (RULE_WINDOW_* settings); a later session's window follows the actual date of the
# session before it (session_windows), so moving one booking moves the later windows with it.

SESSION_COMPLETED = "completed"
SESSION_SKIPPED = "skipped"
SESSION_CANCELLED = "cancelled"
# An earlier session in one of these states no longer stands in the way of the next one (S13, S16).
SESSION_CLOSED_STATES = frozenset({SESSION_COMPLETED, SESSION_SKIPPED, SESSION_CANCELLED})

ERR_RECORD_OUT_OF_ORDER = (
    "Session {earlier} is not recorded yet: record it first, or skip it with a reason, before recording "
    "session {number}."
)
ERR_OUTSIDE_WINDOW_REASON = (
    "{day:%a %d %b %Y} is outside session {number}'s window ({earliest:%d %b} to {latest:%d %b %Y}): "
    "give the reason for treating on this day."
)


def record_order_error(number: int, earlier_states: Mapping[int, str]) -> str | None:
    """Why session ``number`` may not be recorded yet, or None.

    Every earlier session must be recorded, or skipped or cancelled with a reason: spacing between
    treatments drives healing and response (S13, S16), so a session is never recorded ahead of one that
    is still to come. ``earlier_states`` maps each earlier session number to its status; a number missing
    from it counts as not done.
    """
    if number < 1:
        raise ValueError(ERR_SESSION_NUMBER.format(number=number, sessions="n"))
    for earlier in range(1, number):
        if earlier_states.get(earlier) not in SESSION_CLOSED_STATES:
            return ERR_RECORD_OUT_OF_ORDER.format(earlier=earlier, number=number)
    return None


def outside_window_reason_error(window: Window, day: date, reason: str) -> str | None:
    """Recording outside the window needs a written reason (§9 spacing; RULE_WINDOW_* settings); inside the
    window (both edges included) nothing extra is asked."""
    if not outside_window(window, day) or reason.strip():
        return None
    return ERR_OUTSIDE_WINDOW_REASON.format(
        day=day, number=window.number, earliest=window.earliest, latest=window.latest
    )


def later_bookings_outside(windows: Sequence[Window], booked: Mapping[int, date], after: int) -> list[int]:
    """Numbers of sessions after ``after`` whose booked day now falls outside their (recomputed) window."""
    by_number = {window.number: window for window in windows}
    return sorted(
        number for number, day in booked.items()
        if number > after and number in by_number and outside_window(by_number[number], day)
    )


def nearest_free_start(
    preferred: datetime, window: Window, free_starts: Iterable[tuple[date, datetime]]
) -> datetime | None:
    """The free start closest in time to ``preferred`` whose clinic day lies inside the window; on a tie the
    earlier one (the course keeps its rhythm, S13, S16). ``free_starts`` are (clinic day, start) pairs so the
    caller's time zone decides the day. None when the window has no free start."""
    best = None
    for day, start in free_starts:
        if outside_window(window, day):
            continue
        key = (abs(start.timestamp() - preferred.timestamp()), start.timestamp())  # real time, across clock changes
        if best is None or key < best[0]:
            best = (key, start)
    return best[1] if best else None
# --- end of 6b (helper `sequence`) ----------------------------------------------------------------------------


def followup_dates(
    last_session: date, months: Sequence[int] | None = None, cfg: RuleConfig = DEFAULT_CONFIG
) -> list[date]:
    """Follow-ups in calendar months after the last session (S16), day clamped to month end."""
    return [add_months(last_session, m) for m in (cfg.followup_months if months is None else months)]


def is_late_cancellation(start: datetime, cancelled_at: datetime, cfg: RuleConfig = DEFAULT_CONFIG) -> bool:
    """Less than late_cancel_hours before start is late; exactly on the limit is not."""
    return start - cancelled_at < timedelta(hours=cfg.late_cancel_hours)


def course_size_warning(sessions: int) -> str | None:
    """None for 3–4 sessions, a warning for 1–2 or 5–6; raises ValueError outside 1–6."""
    if not _is_whole(sessions) or not COURSE_SESSIONS_ALLOWED[0] <= sessions <= COURSE_SESSIONS_ALLOWED[1]:
        raise ValueError(ERR_COURSE_SIZE)
    if COURSE_SESSIONS_USUAL[0] <= sessions <= COURSE_SESSIONS_USUAL[1]:
        return None
    return WARN_COURSE_SIZE


def interval_warning(interval_days: int) -> str | None:
    """A warning outside the published 2–8 week spacing (§2.4); 4 weeks is the default."""
    if interval_days < 1:
        raise ValueError(ERR_INTERVAL)
    if INTERVAL_DAYS_PUBLISHED[0] <= interval_days <= INTERVAL_DAYS_PUBLISHED[1]:
        return None
    return WARN_INTERVAL


# =============================================================================
# 7. PLAN LIFECYCLE AND ACTIVATION
# =============================================================================

PLAN_DRAFT = "draft"
PLAN_ACTIVE = "active"
PLAN_COMPLETED = "completed"
PLAN_STOPPED = "stopped"
PLAN_STATE_CHOICES = [
    (PLAN_DRAFT, "Draft"),
    (PLAN_ACTIVE, "Active"),
    (PLAN_COMPLETED, "Completed"),
    (PLAN_STOPPED, "Stopped"),
]
# draft → active → completed | stopped. Completed and stopped are final: a new course is a new plan.
# A draft may also be stopped (discarded with a reason) so an abandoned draft is closed, never deleted.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PLAN_DRAFT: frozenset({PLAN_ACTIVE, PLAN_STOPPED}),
    PLAN_ACTIVE: frozenset({PLAN_COMPLETED, PLAN_STOPPED}),
    PLAN_COMPLETED: frozenset(),
    PLAN_STOPPED: frozenset(),
}

ERR_UNKNOWN_STATE = "Unknown plan state {state!r}."
BLOCK_SCREENING_STALE = "Screening answers are missing or out of date: re-confirm them with the patient."
BLOCK_CONSENT_MODALITY = "Consent for the energy-device treatment is missing."
BLOCK_CONSENT_EXOSOME = "Consent for the exosome product is missing."
BLOCK_ABSOLUTE = "Absolute contraindication (cannot be overridden): {message}"
BLOCK_NEEDS_OVERRIDE = "Needs a documented clinician override: {message}"


def can_transition(from_state: str, to_state: str) -> bool:
    for state in (from_state, to_state):
        if state not in PLAN_TRANSITIONS:
            raise ValueError(ERR_UNKNOWN_STATE.format(state=state))
    return to_state in PLAN_TRANSITIONS[from_state]


def activation_blockers(
    findings: Iterable[Finding],
    overridden_codes: set[str],
    consent_modality: bool,
    consent_exosome: bool,
    screening_stale: bool,
) -> list[str]:
    """What still stops a draft becoming active; empty means it may activate.

    Absolute findings ignore overrides; relative and adjunct findings clear once their code is
    overridden (with a reason, which the service records).
    """
    blockers = []
    if screening_stale:
        blockers.append(BLOCK_SCREENING_STALE)
    if not consent_modality:
        blockers.append(BLOCK_CONSENT_MODALITY)
    if not consent_exosome:
        blockers.append(BLOCK_CONSENT_EXOSOME)
    for finding in findings:
        if not finding.blocks_activation:
            continue
        if finding.kind is FindingKind.ABSOLUTE:
            blockers.append(BLOCK_ABSOLUTE.format(message=finding.message))
        elif finding.code not in overridden_codes:
            blockers.append(BLOCK_NEEDS_OVERRIDE.format(message=finding.message))
    return blockers


# =============================================================================
# 8. PRE-SESSION CHECK AND BOOKING HOLDS
# =============================================================================

PRE_PREGNANT = "Patient may be pregnant: do not treat (defer energy-device treatment)."
PRE_NEW_MEDICINES = (
    "New medicines reported: update the screening (photosensitisers, anticoagulants, isotretinoin) before treating."
)
PRE_RECENT_SUN = "Recent sun exposure or tan: reschedule 1–2 weeks later."
PRE_ACTIVE_LESION = "Active infection or lesion: do not treat until fully healed."
PRE_PAUSES_NOT_KEPT = "Topical pauses were not kept: reschedule once they have been stopped long enough."
PRE_ANTIVIRAL_NOT_TAKEN = "Prescribed antiviral prophylaxis not taken: start it before treating."
PRE_OPEN_ADVERSE_EVENTS = "Adverse events since the last visit are not reviewed: review them first."

HOLD_CONSENT = "Consent is incomplete."
HOLD_ADVERSE_EVENTS = "Open adverse events must be reviewed before booking."
HOLD_PAUSE_TOO_SHORT = "{label} must be stopped {days} days before the appointment; the patient cannot pause in time."
ERR_BOOKING_DATES = "The appointment cannot be before the booking day."
ERR_NEGATIVE_COUNT = "A count of adverse events cannot be negative."


@dataclass(frozen=True)
class PreSessionAnswers:
    pregnant: bool
    new_medicines: str
    recent_sun_or_tan: bool
    active_lesion_or_infection: bool
    topical_pauses_kept: bool
    antiviral_taken: bool | None  # None = not prescribed


def pre_session_blockers(
    answers: PreSessionAnswers, modality: str, open_unreviewed_adverse_events: int
) -> list[str]:
    """Day-of-treatment checks; any entry means do not treat today (§3, §9)."""
    _check_modality(modality)
    if open_unreviewed_adverse_events < 0:
        raise ValueError(ERR_NEGATIVE_COUNT)
    blockers = []
    if answers.pregnant:
        blockers.append(PRE_PREGNANT)  # S31
    if answers.new_medicines.strip():
        blockers.append(PRE_NEW_MEDICINES)  # S34, S33, S27
    if answers.recent_sun_or_tan:
        blockers.append(PRE_RECENT_SUN)  # S35, S31
    if answers.active_lesion_or_infection:
        blockers.append(PRE_ACTIVE_LESION)  # S31, S30
    if not answers.topical_pauses_kept:
        blockers.append(PRE_PAUSES_NOT_KEPT)  # S35, S70
    if answers.antiviral_taken is False:
        blockers.append(PRE_ANTIVIRAL_NOT_TAKEN)  # S28, S29
    if open_unreviewed_adverse_events:
        blockers.append(PRE_OPEN_ADVERSE_EVENTS)  # §9: review AEs before each session; PIH/rebound hold
    return blockers


def booking_holds(
    *,
    consent_complete: bool,
    open_adverse_events: int,
    adjuncts: Sequence[AdjunctSpec],
    pause_started_on: Mapping[str, date] | None,
    appointment_date: date,
    booked_on: date,
) -> list[str]:
    """Reasons a session should not be booked on this date yet.

    A pause counts from pause_started_on[agent] when the patient has already stopped the
    agent, otherwise from the booking day (they stop today at the earliest). It is too short
    when the appointment falls fewer than the agent's pause days after that start.
    """
    if appointment_date < booked_on:
        raise ValueError(ERR_BOOKING_DATES)
    if open_adverse_events < 0:
        raise ValueError(ERR_NEGATIVE_COUNT)
    pause_started_on = pause_started_on or {}
    holds = []
    if not consent_complete:
        holds.append(HOLD_CONSENT)
    if open_adverse_events:
        holds.append(HOLD_ADVERSE_EVENTS)  # §9 hold rule
    for spec in adjuncts:
        days = effective_pause_days(spec)  # S35, S70
        if not days:
            continue
        paused_from = pause_started_on.get(spec.agent, booked_on)
        if (appointment_date - paused_from).days < days:
            holds.append(HOLD_PAUSE_TOO_SHORT.format(label=AGENT_LABELS[spec.agent], days=days))
    return holds


PREP_STOP_AGENT = "Stop {label} from {stop_on:%A %d %B %Y} ({days} days before your session)."
PREP_NO_SUN = (
    "No sunbathing, sunbeds, tanning or self-tanner for {days} days before your session; "
    "wear broad-spectrum SPF 30+ every day."
)
PREP_ANTIVIRAL = (
    "Take your antiviral medicine (e.g. valacyclovir) as prescribed, starting 1–2 days before your session."
)


def pre_session_instructions(
    *, adjuncts: Sequence[AdjunctSpec], hsv_history: bool, session_date: date, cfg: RuleConfig = DEFAULT_CONFIG
) -> list[str]:
    """What this patient must do before a session, for the reminder: pauses with their start dates,
    sun avoidance, antiviral when HSV history calls for prophylaxis."""
    steps = []
    for spec in sorted(adjuncts, key=lambda s: s.agent):
        days = effective_pause_days(spec)  # S35, S70
        if days:
            stop_on = session_date - timedelta(days=days)
            steps.append(PREP_STOP_AGENT.format(label=AGENT_LABELS[spec.agent], stop_on=stop_on, days=days))
    steps.append(PREP_NO_SUN.format(days=cfg.recent_tan_days))  # S35, S31
    if hsv_history:
        steps.append(PREP_ANTIVIRAL)  # S28, S29
    return steps


# =============================================================================
# 9. ADVERSE EVENTS
# =============================================================================

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


# =============================================================================
# 10. AFTERCARE
# =============================================================================

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
