"""Vocabulary every topic shares: modalities, adjunct agents and their pauses, Fitzpatrick types, and
RuleConfig, the [U] thresholds a clinic sets (plans/config.py builds it from settings)."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


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

# Patient.sex values the rules read (pregnancy applies only where it can).
SEX_FEMALE, SEX_MALE, SEX_OTHER = "F", "M", "X"

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


def treat_as_darker_skin(fitzpatrick: int | None) -> bool:
    """Types IV–VI, or a type not recorded (to be safe): conservative settings and their ceilings (S18, S73)."""
    return fitzpatrick is None or fitzpatrick >= FITZPATRICK_HIGH_PIH_RISK_FROM

ERR_UNKNOWN_MODALITY = "Unknown modality {modality!r}."
ERR_UNKNOWN_AGENT = "Unknown adjunct agent {agent!r}."


@dataclass(frozen=True)
class AdjunctSpec:
    agent: str
    strength: str = ""
    pause_days_before: int = 0  # 0 = use DEFAULT_PAUSE_DAYS for the agent
    start_date: date | None = None  # when the patient started (or will start) the agent; None = not recorded
    stop_date: date | None = None  # None = no stop planned: it continues through the course


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


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    # Cysteamine: excluded from trials, "avoid" in pregnancy is unverified (S42 [U]). True = a hard stop like
    # hydroquinone; False = a caution the clinician may override with a written reason.
    cysteamine_blocks_in_pregnancy: bool = True
    # One split-face trial found 1550 nm worsened melasma; contested (S19 [U]).
    warn_nafl_1550: bool = True
    # Pregnancy safety only "generally considered" (S43, S44, S45 [U]): non-blocking reminder.
    pregnancy_unverified_agents: tuple[str, ...] = (NIACINAMIDE, KOJIC_ACID, VITAMIN_C)
    # Hydroquinone: cycles of about 12–16 weeks; more than 6 months continuous raises the risk of
    # exogenous ochronosis (S39, S40). 0 disables the rule.
    hydroquinone_max_continuous_months: int = 6
    # Triple combination: the label says up to 8 weeks; a 12-month study found acceptable safety
    # (S36, S78, S37 [U] on duration). 0 disables the rule.
    triple_combination_max_weeks: int = 8
    # Pregnancy and breastfeeding questions apply to patients who could be pregnant: not to men, and
    # not after this age (clinic convention; the reference gives no age). 0 = every age.
    pregnancy_questions_last_age: int = 55
    # Not here on purpose: exosome storage temperatures and post-reconstitution times are
    # product-specific (§6 [U]) and belong on the product record. MELASQOL's "7–70" vs
    # "10–70" discrepancy (§1.4 [U]) is not a threshold: the total follows from 10 items × 1–7.


DEFAULT_CONFIG = RuleConfig()


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamping to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
