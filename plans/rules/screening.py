"""Contraindication screening for one plan (domain reference §3, §4)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .base import *  # noqa: F403
from .base import _check_agent, _check_modality


class FindingKind(StrEnum):
    ABSOLUTE = "absolute"  # about the patient; never overridable
    RELATIVE = "relative"  # about the patient; blocks until a clinician overrides with a written reason
    ADJUNCT = "adjunct"  # about a prescribed agent: a hard stop (remove it) or a caution (written override)
    REMINDER = "reminder"  # never blocks

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    FindingKind.ABSOLUTE: "Absolute contraindication",
    FindingKind.RELATIVE: "Relative contraindication",
    FindingKind.ADJUNCT: "Adjunct",
    FindingKind.REMINDER: "Reminder",
}
_KIND_ORDER = {FindingKind.ABSOLUTE: 0, FindingKind.ADJUNCT: 1, FindingKind.RELATIVE: 2, FindingKind.REMINDER: 3}

# What activation needs, shown beside every finding the same way on every page.
ACTION_CANNOT_OVERRIDE = "Cannot be overridden: the plan cannot be activated while this applies."
ACTION_REMOVE_ADJUNCT = "Hard stop: remove this adjunct from the plan to activate it; it cannot be overridden."
ACTION_OVERRIDE = "Needs a written reason (override) before the plan can be activated."
ACTION_NONE = "For information: does not block activation."


@dataclass(frozen=True)
class Finding:
    code: str
    kind: FindingKind
    message: str
    source: str  # source keys (S#): for code, logs and a staff-only tooltip; never in text a patient reads
    blocks_activation: bool
    hard_stop: bool = False  # an adjunct the reference contraindicates: blocks until removed, no override

    @property
    def overridable(self) -> bool:
        return self.blocks_activation and self.kind is not FindingKind.ABSOLUTE and not self.hard_stop

    @property
    def action(self) -> str:
        if not self.blocks_activation:
            return ACTION_NONE
        if self.kind is FindingKind.ABSOLUTE:
            return ACTION_CANNOT_OVERRIDE
        if self.hard_stop:
            return ACTION_REMOVE_ADJUNCT
        return ACTION_OVERRIDE


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
    # Demographics the rules need: who could be pregnant, and skin type for adjunct cautions.
    sex: str = ""
    date_of_birth: date | None = None
    fitzpatrick_type: int | None = None


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
CODE_HSV_ACTIVE_OUTBREAK = "hsv_outbreak_today"
CODE_HYDROQUINONE_DURATION = "hydroquinone_duration"
CODE_TRIPLE_COMBINATION_DURATION = "triple_combination_duration"
CODE_TRIPLE_COMBINATION_DARK_SKIN = "triple_combination_dark_skin"

# --- Messages ---------------------------------------------------------------
MSG_PREGNANCY_EBD = "Pregnant: defer elective energy-device treatment."
MSG_BREASTFEEDING_EBD = "Breastfeeding: defer elective energy-device treatment."
MSG_ACTIVE_INFECTION = "Active infection, open wound or HSV lesion: do not treat until fully healed."
MSG_ISOTRETINOIN = (
    "Isotretinoin taken within the last {months} months (last dose {last_dose:%d %B %Y}): "
    "energy-device treatment is possible from {clear_on:%d %B %Y}."
)
MSG_HSV_ACTIVE_OUTBREAK = "Herpes outbreak today: an active lesion; do not treat until it has fully healed."
MSG_HYDROQUINONE_DURATION = (
    "Hydroquinone continuously from {start:%d %B %Y} {until}: more than {months} months raises the risk of "
    "ochronosis (blue-black darkening). Plan a pause (cycles of about 12–16 weeks) or write why it continues."
)
MSG_TRIPLE_COMBINATION_DURATION = (
    "Triple combination from {start:%d %B %Y} {until}: beyond the label's {weeks} weeks (not for maintenance). "
    "Plan a stop date or write why it continues."
)
MSG_TRIPLE_COMBINATION_DARK_SKIN = (
    "Triple combination in Fitzpatrick V–VI: risk of excessive bleaching (lighter patches); "
    "discuss it with the patient and review the skin at each visit."
)
UNTIL_STOP = "to {stop:%d %B %Y}"
UNTIL_OPEN = "with no stop date (through the course, to {until:%d %B %Y})"
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
MSG_AGENT_PREGNANCY_CAUTION = "{label} in pregnancy: avoid unless the benefit justifies it; document the discussion."
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


# Skin types with a risk of excessive bleaching from triple combination (S36 label).
TRIPLE_COMBINATION_BLEACHING_FROM_FITZPATRICK = 5


def _finding(
    code: str, kind: FindingKind, message: str, source: str, *, blocks: bool | None = None, hard_stop: bool = False
) -> Finding:
    if blocks is None:
        blocks = kind is not FindingKind.REMINDER
    return Finding(code=code, kind=kind, message=message, source=source, blocks_activation=blocks, hard_stop=hard_stop)


def age_on(date_of_birth: date, today: date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def could_be_pregnant(answers: "ScreeningAnswers", today: date, cfg: RuleConfig = DEFAULT_CONFIG) -> bool:
    """Whether pregnancy and breastfeeding questions and reminders apply to this patient.

    Recorded pregnancy or breastfeeding always applies. Otherwise not for a man, nor after
    cfg.pregnancy_questions_last_age (a patient of exactly that age is still asked); "other / not
    stated" and an unknown birth date are asked, to be safe (S31).
    """
    if answers.is_pregnant or answers.is_breastfeeding:
        return True
    if answers.sex == SEX_MALE:
        return False
    if answers.date_of_birth is not None and cfg.pregnancy_questions_last_age:
        return age_on(answers.date_of_birth, today) <= cfg.pregnancy_questions_last_age
    return True


def adjunct_continues_until(spec: AdjunctSpec, today: date, course_end: date | None = None) -> date:
    """The last day of continuous use: the stop date, else (no stop planned) the later of today and the
    course's last session, since it continues through the course."""
    if spec.stop_date is not None:
        return spec.stop_date
    return max(today, course_end or today)


def hydroquinone_too_long(
    spec: AdjunctSpec, today: date, course_end: date | None = None, cfg: RuleConfig = DEFAULT_CONFIG
) -> bool:
    """More than cfg.hydroquinone_max_continuous_months of continuous use (S39, S40); exactly that many is not."""
    if spec.start_date is None or not cfg.hydroquinone_max_continuous_months:
        return False
    limit = add_months(spec.start_date, cfg.hydroquinone_max_continuous_months)
    return adjunct_continues_until(spec, today, course_end) > limit


def triple_combination_too_long(
    spec: AdjunctSpec, today: date, course_end: date | None = None, cfg: RuleConfig = DEFAULT_CONFIG
) -> bool:
    """Beyond the label's cfg.triple_combination_max_weeks (S36, S78); exactly that many weeks is not."""
    if spec.start_date is None or not cfg.triple_combination_max_weeks:
        return False
    days = (adjunct_continues_until(spec, today, course_end) - spec.start_date).days
    return days > cfg.triple_combination_max_weeks * 7


def _until_text(spec: AdjunctSpec, today: date, course_end: date | None) -> str:
    if spec.stop_date is not None:
        return UNTIL_STOP.format(stop=spec.stop_date)
    return UNTIL_OPEN.format(until=adjunct_continues_until(spec, today, course_end))


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
    *,
    course_end: date | None = None,
) -> list[Finding]:
    """Contraindications for one plan, ordered absolute → adjunct → relative → reminder.

    course_end (the last session's date) lets an adjunct with no stop date be judged through the course.
    """
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
        message = MSG_ISOTRETINOIN.format(
            months=cfg.isotretinoin_wait_months,
            last_dose=answers.isotretinoin_last_dose,
            clear_on=isotretinoin_clear_on(answers.isotretinoin_last_dose, cfg),
        )
        add(_finding(CODE_ISOTRETINOIN, A, message, "S27, S31"))
    if answers.hsv_last_outbreak is not None and answers.hsv_last_outbreak >= today:
        # An outbreak dated today is an active lesion (S31, S30); the recent-outbreak finding follows too.
        add(_finding(CODE_HSV_ACTIVE_OUTBREAK, A, MSG_HSV_ACTIVE_OUTBREAK, "S31, S30"))
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
            if answers.is_pregnant:  # "not recommended" / "avoid" / "delay" (S40, S36): a hard stop
                add(
                    _finding(
                        CODE_AGENT_PREGNANCY.format(agent=agent), J, MSG_AGENT_PREGNANCY.format(label=label), source,
                        hard_stop=True,
                    )
                )
            if answers.is_breastfeeding:  # retinoids "avoided" (§3): a caution with a written override
                add(
                    _finding(
                        CODE_AGENT_BREASTFEEDING.format(agent=agent), J, MSG_AGENT_BREASTFEEDING.format(label=label), source
                    )
                )
        if agent == CYSTEAMINE and answers.is_pregnant:
            # "Avoid" is unverified (S42 [U]): a hard stop, or a caution with a written override.
            if cfg.cysteamine_blocks_in_pregnancy:
                message = MSG_AGENT_PREGNANCY.format(label=label)
            else:
                message = MSG_AGENT_PREGNANCY_CAUTION.format(label=label)
            add(
                _finding(
                    CODE_AGENT_PREGNANCY.format(agent=agent), J, message, "S42",
                    hard_stop=cfg.cysteamine_blocks_in_pregnancy,
                )
            )
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
        # Label contraindications (S47) are hard stops; label precautions and the dermatology protocols'
        # flags (smokers, anticoagulants, S48) are cautions with a written override.
        if answers.thrombosis_history:
            add(_finding(CODE_TXA_THROMBOSIS, J, MSG_TXA_THROMBOSIS, "S47, S46", hard_stop=True))
        if answers.hormonal_contraception == HORMONAL_CONTRACEPTION_COMBINED:
            add(_finding(CODE_TXA_COMBINED_CONTRACEPTION, J, MSG_TXA_COMBINED_CONTRACEPTION, "S47", hard_stop=True))
        if answers.is_pregnant:
            add(_finding(CODE_TXA_PREGNANCY, J, MSG_TXA_PREGNANCY, "S47, S48"))
        if answers.is_breastfeeding:
            add(_finding(CODE_TXA_BREASTFEEDING, J, MSG_TXA_BREASTFEEDING, "S47"))
        if answers.renal_impairment:
            add(_finding(CODE_TXA_RENAL, J, MSG_TXA_RENAL, "S47"))
        if answers.smoker:
            add(_finding(CODE_TXA_SMOKER, J, MSG_TXA_SMOKER, "S48"))
        if answers.anticoagulants:
            add(_finding(CODE_TXA_ANTICOAGULANTS, J, MSG_TXA_ANTICOAGULANTS, "S48"))
        add(_finding(CODE_TXA_BASELINE, M, MSG_TXA_BASELINE, "S46"))

    # --- Adjunct duration and skin type (§4); one finding per code even with two rows of an agent ---
    seen: set[str] = set()
    for spec in sorted(adjuncts, key=lambda s: (s.agent, s.start_date or today)):
        until = _until_text(spec, today, course_end)
        if CODE_HYDROQUINONE_DURATION not in seen and spec.agent == HYDROQUINONE and hydroquinone_too_long(
            spec, today, course_end, cfg
        ):
            seen.add(CODE_HYDROQUINONE_DURATION)
            message = MSG_HYDROQUINONE_DURATION.format(
                start=spec.start_date, until=until, months=cfg.hydroquinone_max_continuous_months
            )
            add(_finding(CODE_HYDROQUINONE_DURATION, J, message, "S39, S40"))
        if CODE_TRIPLE_COMBINATION_DURATION not in seen and spec.agent == TRIPLE_COMBINATION and (
            triple_combination_too_long(spec, today, course_end, cfg)
        ):
            seen.add(CODE_TRIPLE_COMBINATION_DURATION)
            message = MSG_TRIPLE_COMBINATION_DURATION.format(
                start=spec.start_date, until=until, weeks=cfg.triple_combination_max_weeks
            )
            add(_finding(CODE_TRIPLE_COMBINATION_DURATION, J, message, "S36, S78"))
    fitzpatrick = answers.fitzpatrick_type
    if TRIPLE_COMBINATION in agents and fitzpatrick and fitzpatrick >= TRIPLE_COMBINATION_BLEACHING_FROM_FITZPATRICK:
        add(_finding(CODE_TRIPLE_COMBINATION_DARK_SKIN, J, MSG_TRIPLE_COMBINATION_DARK_SKIN, "S36"))

    # --- Reminders (never block) ---
    if has_hsv:
        add(_finding(CODE_HSV_PROPHYLAXIS, M, MSG_HSV_PROPHYLAXIS, "S28, S29, S30"))
    if (
        not answers.is_pregnant
        and could_be_pregnant(answers, today, cfg)
        and screening_is_stale(answers.pregnancy_status_confirmed_on, today, cfg)
    ):
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
