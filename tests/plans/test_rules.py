"""Tests for plans.rules. Pure functions: no database and no Django needed."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from plans import rules as r
from plans.rules import (
    MICRONEEDLING,
    NAFL,
    RF_MICRONEEDLING,
    AdjunctSpec,
    Finding,
    FindingKind,
    PreSessionAnswers,
    RegionScore,
    RuleConfig,
    ScreeningAnswers,
    Window,
)

TODAY = date(2025, 6, 15)
CLEAN = ScreeningAnswers(pregnancy_status_confirmed_on=TODAY, screening_confirmed_on=TODAY)
ALL_MODALITIES = [MICRONEEDLING, NAFL, RF_MICRONEEDLING]


def codes(findings):
    return {f.code for f in findings}


def by_code(findings, code):
    [finding] = [f for f in findings if f.code == code]
    return finding


# =============================================================================
# Modalities, agents, pauses
# =============================================================================


def test_choice_keys_are_the_published_interface():
    assert [k for k, _ in r.MODALITY_CHOICES] == ["microneedling", "nafl", "rf_microneedling"]
    assert {k for k, _ in r.AGENT_CHOICES} == {
        "hydroquinone",
        "triple_combination",
        "tretinoin",
        "azelaic_acid",
        "cysteamine",
        "txa_topical",
        "txa_oral",
        "niacinamide",
        "kojic_acid",
        "vitamin_c",
        "other",
    }


@pytest.mark.parametrize(
    "agent, paused",
    [
        (r.HYDROQUINONE, True),
        (r.TRIPLE_COMBINATION, True),
        (r.TRETINOIN, True),
        (r.VITAMIN_C, True),
        (r.AZELAIC_ACID, True),
        (r.KOJIC_ACID, True),
        (r.TXA_ORAL, False),
        (r.TXA_TOPICAL, False),
        (r.NIACINAMIDE, False),
        (r.CYSTEAMINE, False),
        (r.OTHER_AGENT, False),
    ],
)
def test_which_agents_pause_before_a_session(agent, paused):
    assert (agent in r.DEFAULT_PAUSE_DAYS) is paused
    if paused:
        assert 3 <= r.DEFAULT_PAUSE_DAYS[agent] <= 7  # S35, S70 range


@pytest.mark.parametrize(
    "agent, modality, expected",
    [
        (r.TRETINOIN, MICRONEEDLING, date(2025, 6, 20)),
        (r.TRETINOIN, RF_MICRONEEDLING, date(2025, 6, 20)),
        (r.TRETINOIN, NAFL, date(2025, 6, 22)),
        (r.HYDROQUINONE, NAFL, date(2025, 6, 22)),
        (r.TXA_ORAL, NAFL, None),
        (r.NIACINAMIDE, MICRONEEDLING, None),
    ],
)
def test_restart_day(agent, modality, expected):
    assert r.restart_day(agent, modality, TODAY) == expected


@pytest.mark.parametrize("agent, modality", [("retinol", NAFL), (r.TRETINOIN, "ipl")])
def test_restart_day_rejects_unknown_keys(agent, modality):
    with pytest.raises(ValueError):
        r.restart_day(agent, modality, TODAY)


@pytest.mark.parametrize(
    "spec, expected",
    [
        (AdjunctSpec(r.HYDROQUINONE), 7),
        (AdjunctSpec(r.HYDROQUINONE, pause_days_before=3), 3),
        (AdjunctSpec(r.NIACINAMIDE), 0),
        (AdjunctSpec(r.CYSTEAMINE, pause_days_before=2), 2),
    ],
)
def test_effective_pause_days(spec, expected):
    assert r.effective_pause_days(spec) == expected


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 3, 10), 0, date(2025, 3, 10)),
        (date(2025, 12, 31), 12, date(2026, 12, 31)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert r.add_months(day, months) == expected


# =============================================================================
# Screening
# =============================================================================


def test_clean_patient_has_no_findings():
    for modality in ALL_MODALITIES:
        assert r.screen(CLEAN, modality, [], TODAY) == []


@pytest.mark.parametrize(
    "changes, modality, code, kind, source",
    [
        ({"is_pregnant": True}, MICRONEEDLING, r.CODE_PREGNANCY_EBD, FindingKind.ABSOLUTE, "S31"),
        ({"is_pregnant": True}, NAFL, r.CODE_PREGNANCY_EBD, FindingKind.ABSOLUTE, "S31"),
        ({"is_pregnant": True}, RF_MICRONEEDLING, r.CODE_PREGNANCY_EBD, FindingKind.ABSOLUTE, "S31"),
        ({"is_breastfeeding": True}, NAFL, r.CODE_BREASTFEEDING_EBD, FindingKind.ABSOLUTE, "S31"),
        ({"active_infection_or_lesion": True}, MICRONEEDLING, r.CODE_ACTIVE_INFECTION, FindingKind.ABSOLUTE, "S31"),
        ({"pacemaker_or_implant": True}, RF_MICRONEEDLING, r.CODE_IMPLANTED_ELECTRONICS_RF, FindingKind.ABSOLUTE, "S32"),
        ({"metal_implants_face": True}, RF_MICRONEEDLING, r.CODE_METAL_IMPLANTS_RF, FindingKind.ABSOLUTE, "S80"),
        ({"gold_threads_face": True}, RF_MICRONEEDLING, r.CODE_GOLD_THREADS_RF, FindingKind.ABSOLUTE, "S80"),
        ({"keloid_tendency": True}, NAFL, r.CODE_KELOID, FindingKind.RELATIVE, "S31"),
        ({"anticoagulants": True}, MICRONEEDLING, r.CODE_ANTICOAGULANTS, FindingKind.RELATIVE, "S33"),
        ({"photosensitising_medicines": "doxycycline"}, NAFL, r.CODE_PHOTOSENSITISING, FindingKind.RELATIVE, "S34"),
        ({"photosensitising_medicines": "doxycycline"}, MICRONEEDLING, r.CODE_PHOTOSENSITISING, FindingKind.RELATIVE, "S34"),
        ({"autoimmune_or_immunosuppressed": True}, NAFL, r.CODE_AUTOIMMUNE, FindingKind.RELATIVE, "S31"),
        ({"uncontrolled_diabetes": True}, NAFL, r.CODE_UNCONTROLLED_DIABETES, FindingKind.RELATIVE, "S31"),
        ({"allergies": "lidocaine"}, MICRONEEDLING, r.CODE_ALLERGIES, FindingKind.RELATIVE, "S31"),
        ({"hsv_history": True}, MICRONEEDLING, r.CODE_HSV_PROPHYLAXIS, FindingKind.REMINDER, "S28"),
        ({"hormonal_contraception": "combined"}, NAFL, r.CODE_HORMONAL_TRIGGER, FindingKind.REMINDER, "S78"),
        ({"hormonal_contraception": "progestin_only"}, NAFL, r.CODE_HORMONAL_TRIGGER, FindingKind.REMINDER, "S78"),
        ({"pregnancy_status_confirmed_on": None}, NAFL, r.CODE_PREGNANCY_STATUS, FindingKind.REMINDER, "S31"),
    ],
)
def test_each_patient_rule_fires_alone(changes, modality, code, kind, source):
    findings = r.screen(replace(CLEAN, **changes), modality, [], TODAY)
    assert codes(findings) == {code}
    finding = findings[0]
    assert finding.kind is kind
    assert source in finding.source
    assert finding.blocks_activation is (kind is not FindingKind.REMINDER)
    assert finding.message


@pytest.mark.parametrize(
    "changes",
    [
        {"pacemaker_or_implant": True},
        {"metal_implants_face": True},
        {"gold_threads_face": True},
    ],
)
@pytest.mark.parametrize("modality", [MICRONEEDLING, NAFL])
def test_rf_only_rules_do_not_fire_for_other_modalities(changes, modality):
    assert r.screen(replace(CLEAN, **changes), modality, [], TODAY) == []


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_free_text_means_no(blank):
    answers = replace(CLEAN, photosensitising_medicines=blank, allergies=blank)
    assert r.screen(answers, NAFL, [], TODAY) == []


def test_gold_threads_can_be_configured_relative():
    cfg = RuleConfig(gold_threads_rf_absolute=False)
    finding = by_code(r.screen(replace(CLEAN, gold_threads_face=True), RF_MICRONEEDLING, [], TODAY, cfg), r.CODE_GOLD_THREADS_RF)
    assert finding.kind is FindingKind.RELATIVE
    assert finding.blocks_activation


# --- Isotretinoin (S27 [U]): exactly N months → allowed, one day inside → blocked ---
@pytest.mark.parametrize(
    "last_dose, months, blocked",
    [
        (date(2024, 12, 15), 6, False),  # exactly 6 months
        (date(2024, 12, 16), 6, True),  # one day inside
        (date(2024, 12, 14), 6, False),  # one day outside
        (date(2025, 6, 1), 6, True),
        (date(2025, 7, 1), 6, True),  # still taking it
        (date(2024, 6, 15), 12, False),  # exactly 12 months
        (date(2024, 6, 16), 12, True),
        (date(2025, 6, 15), 0, False),  # 0 disables the wait
    ],
)
def test_isotretinoin_wait(last_dose, months, blocked):
    cfg = RuleConfig(isotretinoin_wait_months=months)
    findings = r.screen(replace(CLEAN, isotretinoin_last_dose=last_dose), NAFL, [], TODAY, cfg)
    assert (r.CODE_ISOTRETINOIN in codes(findings)) is blocked
    if blocked:
        assert by_code(findings, r.CODE_ISOTRETINOIN).kind is FindingKind.ABSOLUTE


def test_isotretinoin_wait_clamps_month_end():
    # 31 Aug + 6 months = 28 Feb (clamped), so 28 Feb is allowed and 27 Feb is not.
    answers = replace(CLEAN, isotretinoin_last_dose=date(2024, 8, 31))
    assert r.isotretinoin_clear_on(date(2024, 8, 31)) == date(2025, 2, 28)
    assert r.CODE_ISOTRETINOIN not in codes(r.screen(answers, NAFL, [], date(2025, 2, 28)))
    assert r.CODE_ISOTRETINOIN in codes(r.screen(answers, NAFL, [], date(2025, 2, 27)))


# --- HSV (S28–S30): reminder always; outbreak within N weeks → relative ---
@pytest.mark.parametrize(
    "days_ago, weeks, recent",
    [
        (55, 8, True),  # one day inside 8 weeks
        (56, 8, False),  # exactly 8 weeks
        (57, 8, False),
        (0, 8, True),
        (41, 6, True),
        (42, 6, False),
    ],
)
def test_hsv_recent_outbreak(days_ago, weeks, recent):
    cfg = RuleConfig(hsv_recent_outbreak_weeks=weeks)
    answers = replace(CLEAN, hsv_history=True, hsv_last_outbreak=TODAY - timedelta(days=days_ago))
    findings = r.screen(answers, MICRONEEDLING, [], TODAY, cfg)
    assert (r.CODE_HSV_RECENT_OUTBREAK in codes(findings)) is recent
    assert by_code(findings, r.CODE_HSV_PROPHYLAXIS).kind is FindingKind.REMINDER
    if recent:
        assert by_code(findings, r.CODE_HSV_RECENT_OUTBREAK).kind is FindingKind.RELATIVE


def test_outbreak_date_without_history_flag_still_counts_as_hsv():
    answers = replace(CLEAN, hsv_last_outbreak=TODAY - timedelta(days=10))
    assert {r.CODE_HSV_PROPHYLAXIS, r.CODE_HSV_RECENT_OUTBREAK} <= codes(r.screen(answers, NAFL, [], TODAY))


# --- Recent tan (S35, S31): within N days → relative ---
@pytest.mark.parametrize(
    "days_ago, limit, recent",
    [(13, 14, True), (14, 14, False), (15, 14, False), (0, 14, True), (6, 7, True), (7, 7, False)],
)
def test_recent_tan(days_ago, limit, recent):
    cfg = RuleConfig(recent_tan_days=limit)
    answers = replace(CLEAN, last_tan_or_sun_exposure=TODAY - timedelta(days=days_ago))
    assert (r.CODE_RECENT_TAN in codes(r.screen(answers, NAFL, [], TODAY, cfg))) is recent


@pytest.mark.parametrize(
    "confirmed_days_ago, stale",
    [(None, True), (0, False), (30, False), (31, True)],
)
def test_pregnancy_status_reminder_when_unconfirmed(confirmed_days_ago, stale):
    confirmed = None if confirmed_days_ago is None else TODAY - timedelta(days=confirmed_days_ago)
    findings = r.screen(replace(CLEAN, pregnancy_status_confirmed_on=confirmed), NAFL, [], TODAY)
    assert (r.CODE_PREGNANCY_STATUS in codes(findings)) is stale


def test_findings_are_ordered_by_severity():
    answers = replace(CLEAN, is_pregnant=True, keloid_tendency=True, hsv_history=True)
    findings = r.screen(answers, NAFL, [AdjunctSpec(r.HYDROQUINONE)], TODAY)
    kinds = [f.kind for f in findings]
    assert kinds == sorted(kinds, key=[FindingKind.ABSOLUTE, FindingKind.ADJUNCT, FindingKind.RELATIVE, FindingKind.REMINDER].index)
    assert kinds[0] is FindingKind.ABSOLUTE and kinds[-1] is FindingKind.REMINDER


@pytest.mark.parametrize(
    "call",
    [
        lambda: r.screen(CLEAN, "ipl", [], TODAY),
        lambda: r.screen(CLEAN, NAFL, [AdjunctSpec("retinol")], TODAY),
        lambda: r.screen(replace(CLEAN, hormonal_contraception="pill"), NAFL, [], TODAY),
    ],
)
def test_screen_rejects_unknown_keys(call):
    with pytest.raises(ValueError):
        call()


# --- Adjunct-specific (§3, §4) ---
@pytest.mark.parametrize(
    "agent, changes, code, kind",
    [
        (r.HYDROQUINONE, {"is_pregnant": True}, "hydroquinone_pregnancy", FindingKind.ADJUNCT),
        (r.TRETINOIN, {"is_pregnant": True}, "tretinoin_pregnancy", FindingKind.ADJUNCT),
        (r.TRIPLE_COMBINATION, {"is_pregnant": True}, "triple_combination_pregnancy", FindingKind.ADJUNCT),
        (r.CYSTEAMINE, {"is_pregnant": True}, "cysteamine_pregnancy", FindingKind.ADJUNCT),
        (r.HYDROQUINONE, {"is_breastfeeding": True}, "hydroquinone_breastfeeding", FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TRETINOIN, {"is_breastfeeding": True}, "tretinoin_breastfeeding", FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TRIPLE_COMBINATION, {"is_breastfeeding": True}, "triple_combination_breastfeeding", FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TXA_ORAL, {"thrombosis_history": True}, r.CODE_TXA_THROMBOSIS, FindingKind.ADJUNCT),
        (r.TXA_ORAL, {"hormonal_contraception": "combined"}, r.CODE_TXA_COMBINED_CONTRACEPTION, FindingKind.ADJUNCT),
        (r.TXA_ORAL, {"is_pregnant": True}, r.CODE_TXA_PREGNANCY, FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TXA_ORAL, {"is_breastfeeding": True}, r.CODE_TXA_BREASTFEEDING, FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TXA_ORAL, {"renal_impairment": True}, r.CODE_TXA_RENAL, FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TXA_ORAL, {"smoker": True}, r.CODE_TXA_SMOKER, FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.TXA_ORAL, {"anticoagulants": True}, r.CODE_TXA_ANTICOAGULANTS, FindingKind.ADJUNCT),  # issue 12: adjunct findings show kind adjunct
        (r.NIACINAMIDE, {"is_pregnant": True}, "niacinamide_pregnancy_unverified", FindingKind.REMINDER),
        (r.KOJIC_ACID, {"is_breastfeeding": True}, "kojic_acid_pregnancy_unverified", FindingKind.REMINDER),
    ],
)
def test_adjunct_rules(agent, changes, code, kind):
    findings = r.screen(replace(CLEAN, **changes), MICRONEEDLING, [AdjunctSpec(agent)], TODAY)
    finding = by_code(findings, code)
    assert finding.kind is kind
    assert finding.blocks_activation is (kind is not FindingKind.REMINDER)
    # The same answers without the agent raise no agent finding.
    assert code not in codes(r.screen(replace(CLEAN, **changes), MICRONEEDLING, [], TODAY))


@pytest.mark.parametrize("agent", [r.HYDROQUINONE, r.TRETINOIN, r.TRIPLE_COMBINATION, r.CYSTEAMINE, r.TXA_ORAL])
def test_adjuncts_raise_nothing_blocking_for_a_clean_patient(agent):
    findings = r.screen(CLEAN, NAFL, [AdjunctSpec(agent)], TODAY)
    assert not [f for f in findings if f.blocks_activation]


@pytest.mark.parametrize("agent", [r.AZELAIC_ACID, r.TXA_TOPICAL])
def test_agents_usable_in_pregnancy_raise_no_agent_finding(agent):
    findings = r.screen(replace(CLEAN, is_pregnant=True), MICRONEEDLING, [AdjunctSpec(agent)], TODAY)
    assert codes(findings) <= {r.CODE_PREGNANCY_EBD, f"{agent}_pause"}


def test_progestin_only_does_not_block_oral_txa():
    findings = r.screen(replace(CLEAN, hormonal_contraception="progestin_only"), NAFL, [AdjunctSpec(r.TXA_ORAL)], TODAY)
    assert r.CODE_TXA_COMBINED_CONTRACEPTION not in codes(findings)


def test_oral_txa_always_gets_baseline_screening_reminder():
    finding = by_code(r.screen(CLEAN, NAFL, [AdjunctSpec(r.TXA_ORAL)], TODAY), r.CODE_TXA_BASELINE)
    assert finding.kind is FindingKind.REMINDER and "S46" in finding.source


def test_cysteamine_in_pregnancy_configurable_to_an_overridable_caution():
    cfg = RuleConfig(cysteamine_blocks_in_pregnancy=False)
    findings = r.screen(replace(CLEAN, is_pregnant=True), NAFL, [AdjunctSpec(r.CYSTEAMINE)], TODAY, cfg)
    finding = by_code(findings, "cysteamine_pregnancy")
    assert finding.kind is FindingKind.ADJUNCT and finding.overridable and not finding.hard_stop


def test_pause_reminders_use_plan_days():
    findings = r.screen(
        CLEAN, NAFL, [AdjunctSpec(r.TRETINOIN, pause_days_before=3), AdjunctSpec(r.VITAMIN_C), AdjunctSpec(r.NIACINAMIDE)], TODAY
    )
    assert codes(findings) == {"tretinoin_pause", "vitamin_c_pause"}
    assert "3 days" in by_code(findings, "tretinoin_pause").message
    assert "7 days" in by_code(findings, "vitamin_c_pause").message


@pytest.mark.parametrize(
    "confirmed, today, stale",
    [
        (None, TODAY, True),
        (TODAY, TODAY, False),
        (TODAY - timedelta(days=30), TODAY, False),  # exactly max age
        (TODAY - timedelta(days=31), TODAY, True),  # one day more
    ],
)
def test_screening_is_stale(confirmed, today, stale):
    assert r.screening_is_stale(confirmed, today) is stale


def test_screening_max_age_is_configurable():
    cfg = RuleConfig(screening_max_age_days=7)
    assert not r.screening_is_stale(TODAY - timedelta(days=7), TODAY, cfg)
    assert r.screening_is_stale(TODAY - timedelta(days=8), TODAY, cfg)


# =============================================================================
# Scoring
# =============================================================================


def regions(forehead, right_malar, left_malar, chin):
    return {
        "forehead": RegionScore(*forehead),
        "right_malar": RegionScore(*right_malar),
        "left_malar": RegionScore(*left_malar),
        "chin": RegionScore(*chin),
    }


ZERO = regions((0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0))
MAXIMUM = regions((6, 4, 4), (6, 4, 4), (6, 4, 4), (6, 4, 4))


@pytest.mark.parametrize(
    "scores, expected_masi, expected_mmasi",
    [
        (ZERO, Decimal("0.0"), Decimal("0.0")),
        (MAXIMUM, Decimal("48.0"), Decimal("24.0")),
        # 0.3·2·(2+1) + 0.3·3·(3+2) + 0.3·3·(2+2) + 0.1·1·(1+1) = 1.8 + 4.5 + 3.6 + 0.2 = 10.1
        # mMASI: 0.3·2·2 + 0.3·3·3 + 0.3·3·2 + 0.1·1·1 = 1.2 + 2.7 + 1.8 + 0.1 = 5.8
        (regions((2, 2, 1), (3, 3, 2), (3, 2, 2), (1, 1, 1)), Decimal("10.1"), Decimal("5.8")),
        # chin only: 0.1·6·(4+4) = 4.8; mMASI 0.1·6·4 = 2.4
        (regions((0, 0, 0), (0, 0, 0), (0, 0, 0), (6, 4, 4)), Decimal("4.8"), Decimal("2.4")),
        # area without darkness scores 0 in mMASI but counts homogeneity in MASI: 0.3·1·(0+1) = 0.3
        (regions((1, 0, 1), (0, 0, 0), (0, 0, 0), (0, 0, 0)), Decimal("0.3"), Decimal("0.0")),
    ],
)
def test_masi_and_mmasi_hand_computed(scores, expected_masi, expected_mmasi):
    assert r.masi(scores) == expected_masi
    assert r.mmasi(scores) == expected_mmasi
    assert r.masi(scores).as_tuple().exponent == -1  # one decimal place for storage


def test_mmasi_does_not_need_homogeneity():
    no_h = {k: RegionScore(v.area, v.darkness) for k, v in MAXIMUM.items()}
    assert r.mmasi(no_h) == Decimal("24.0")
    with pytest.raises(ValueError, match="homogeneity is needed"):
        r.masi(no_h)


@pytest.mark.parametrize(
    "region, score, match",
    [
        ("forehead", RegionScore(7, 0, 0), "area"),
        ("forehead", RegionScore(-1, 0, 0), "area"),
        ("chin", RegionScore(0, 5, 0), "darkness"),
        ("left_malar", RegionScore(0, 0, 5), "homogeneity"),
        ("right_malar", RegionScore(0, 0, -1), "homogeneity"),
        ("chin", RegionScore(1.5, 0, 0), "area"),
        ("chin", RegionScore(True, 0, 0), "area"),
    ],
)
def test_out_of_range_components_raise(region, score, match):
    scores = dict(ZERO, **{region: score})
    with pytest.raises(ValueError, match=f"{region}: {match}"):
        r.masi(scores)


def test_missing_and_unknown_regions_raise():
    missing = {k: v for k, v in ZERO.items() if k != "chin"}
    with pytest.raises(ValueError, match="missing: chin"):
        r.masi(missing)
    with pytest.raises(ValueError, match="missing: chin"):
        r.mmasi(missing)
    with pytest.raises(ValueError, match="Unknown MASI region"):
        r.masi(dict(ZERO, nose=RegionScore(1, 1, 1)))


def test_region_weights_sum_to_one():
    assert sum(r.REGION_WEIGHTS.values()) == 1
    assert tuple(r.REGION_WEIGHTS) == r.MASI_REGIONS


@pytest.mark.parametrize(
    "cutoffs, score, band",
    [
        (None, Decimal("10"), None),
        ((3.2, 6.6), Decimal("3.1"), "mild"),
        ((3.2, 6.6), Decimal("3.2"), "moderate"),
        ((3.2, 6.6), Decimal("6.6"), "moderate"),
        ((3.2, 6.6), Decimal("6.7"), "severe"),
    ],
)
def test_mmasi_band_only_when_configured(cutoffs, score, band):
    assert r.mmasi_band(score, RuleConfig(mmasi_band_cutoffs=cutoffs)) == band


@pytest.mark.parametrize(
    "items, total",
    [([1] * 10, 10), ([7] * 10, 70), ([1, 2, 3, 4, 5, 6, 7, 1, 2, 3], 34)],
)
def test_melasqol_totals(items, total):
    assert r.melasqol(items) == total


@pytest.mark.parametrize(
    "items, match",
    [
        ([1] * 9, "exactly 10"),
        ([1] * 11, "exactly 10"),
        ([0] + [1] * 9, "item 1"),
        ([1] * 9 + [8], "item 10"),
        ([1] * 4 + [2.5] + [1] * 5, "item 5"),
    ],
)
def test_melasqol_invalid(items, match):
    with pytest.raises(ValueError, match=match):
        r.melasqol(items)


@pytest.mark.parametrize(
    "baseline, current, expected",
    [
        (Decimal("10.0"), Decimal("5.0"), Decimal("-50.0")),
        (Decimal("10.7"), Decimal("7.6"), Decimal("-29.0")),  # S20: -28.97 → -29.0
        (Decimal("3.0"), Decimal("4.0"), Decimal("33.3")),
        (Decimal("3.0"), Decimal("2.0"), Decimal("-33.3")),
        (Decimal("8"), Decimal("8"), Decimal("0.0")),
        (Decimal("0"), Decimal("4"), None),
        (12, 6, Decimal("-50.0")),
        (0.3, 0.2, Decimal("-33.3")),
    ],
)
def test_percent_change(baseline, current, expected):
    assert r.percent_change(baseline, current) == expected


def test_percent_change_rounds_half_up():
    # 1/16 = 6.25 %: half-up gives 6.3 where banker's rounding would give 6.2.
    assert r.percent_change(Decimal("16"), Decimal("17")) == Decimal("6.3")


def test_percent_change_rejects_negative_scores():
    with pytest.raises(ValueError):
        r.percent_change(Decimal("-1"), Decimal("2"))


@pytest.mark.parametrize(
    "baseline, current, min_points, meaningful",
    [
        (Decimal("10.0"), Decimal("9.0"), None, False),  # exactly 1 point: noise
        (Decimal("10.0"), Decimal("8.9"), None, True),
        (Decimal("10.0"), Decimal("11.1"), None, True),  # worsening counts too
        (Decimal("10.0"), Decimal("10.0"), None, False),
        (Decimal("10.0"), Decimal("8.5"), Decimal("2"), False),
        (Decimal("10.0"), Decimal("7.9"), 2, True),
    ],
)
def test_is_meaningful_change(baseline, current, min_points, meaningful):
    assert r.is_meaningful_change(baseline, current, min_points) is meaningful


def test_meaningful_change_threshold_comes_from_config():
    cfg = RuleConfig(min_meaningful_change_points=Decimal("2.0"))
    assert not r.is_meaningful_change(Decimal("10"), Decimal("8"), cfg=cfg)
    assert r.is_meaningful_change(Decimal("10"), Decimal("7.9"), cfg=cfg)


# =============================================================================
# Device settings
# =============================================================================


@pytest.mark.parametrize(
    "modality, params, errors, warnings",
    [
        # Microneedling
        (MICRONEEDLING, {"needle_depth_mm": 0.5, "passes": 3, "speed": 5}, set(), set()),
        (MICRONEEDLING, {"needle_depth_mm": 1.5}, set(), set()),  # S12 boundary
        (MICRONEEDLING, {"needle_depth_mm": 1.6}, set(), {"needle_depth_mm"}),
        (MICRONEEDLING, {"needle_depth_mm": 3.5}, set(), {"needle_depth_mm"}),
        (MICRONEEDLING, {"needle_depth_mm": 3.6}, {"needle_depth_mm"}, set()),
        (MICRONEEDLING, {"needle_depth_mm": 0}, {"needle_depth_mm"}, set()),
        (MICRONEEDLING, {"needle_depth_mm": -0.5}, {"needle_depth_mm"}, set()),
        (MICRONEEDLING, {"needle_depth_mm": "deep"}, {"needle_depth_mm"}, set()),
        (MICRONEEDLING, {"needle_depth_mm": float("nan")}, {"needle_depth_mm"}, set()),
        (MICRONEEDLING, {"needle_depth_mm": None, "passes": None}, set(), set()),
        (MICRONEEDLING, {"depth_forehead_mm": 0.25, "depth_malar_mm": 2.0, "depth_chin_mm": 4}, {"depth_chin_mm"}, {"depth_malar_mm"}),
        (
            MICRONEEDLING,
            {"zone_depths_mm": {"forehead": 0.5, "malar": 1.75, "chin": 0, "nose": None}},
            {"zone_depths_mm.chin"},
            {"zone_depths_mm.malar"},
        ),
        (MICRONEEDLING, {"zone_depths_mm": 0.5}, {"zone_depths_mm"}, set()),
        (MICRONEEDLING, {"speed": 0}, {"speed"}, set()),
        (MICRONEEDLING, {"passes": 0}, {"passes"}, set()),
        (MICRONEEDLING, {"passes": 2.5}, {"passes"}, set()),
        (MICRONEEDLING, {"passes": True}, {"passes"}, set()),
        (MICRONEEDLING, {"passes": 1}, set(), set()),
        (MICRONEEDLING, {"passes": 10}, set(), set()),
        (MICRONEEDLING, {"passes": 11}, set(), {"passes"}),
        (MICRONEEDLING, {"energy_mj": -5, "notes": "x"}, set(), set()),  # not an MN setting: ignored
        # NAFL
        (NAFL, {"wavelength_nm": 1927, "energy_mj": 10, "density_percent": 20, "passes": 8, "total_energy_kj": 2.5}, set(), set()),
        (NAFL, {"wavelength_nm": 1565}, set(), set()),
        (NAFL, {"wavelength_nm": 1550}, set(), {"wavelength_nm"}),
        (NAFL, {"wavelength_nm": 1064}, {"wavelength_nm"}, set()),
        (NAFL, {"wavelength_nm": 0}, {"wavelength_nm"}, set()),
        (NAFL, {"energy_mj": 6}, set(), set()),
        (NAFL, {"energy_mj": 40}, set(), set()),
        (NAFL, {"energy_mj": 5.9}, set(), {"energy_mj"}),
        (NAFL, {"energy_mj": 40.1}, set(), {"energy_mj"}),
        (NAFL, {"energy_mj": 100}, set(), {"energy_mj"}),
        (NAFL, {"energy_mj": 101}, {"energy_mj"}, set()),
        (NAFL, {"energy_mj": 0}, {"energy_mj"}, set()),
        (NAFL, {"density_percent": 29}, set(), set()),
        (NAFL, {"density_percent": 30}, set(), {"density_percent"}),
        (NAFL, {"density_percent": 100}, set(), {"density_percent"}),
        (NAFL, {"density_percent": 101}, {"density_percent"}, set()),
        (NAFL, {"density_percent": 0}, {"density_percent"}, set()),
        (NAFL, {"passes": 12}, set(), {"passes"}),
        (NAFL, {"passes": -1}, {"passes"}, set()),
        (NAFL, {"total_energy_kj": 0}, {"total_energy_kj"}, set()),
        # RF microneedling: no published melasma range (S24–S26 [U]) → errors only
        (RF_MICRONEEDLING, {"needle_depth_mm": 2.0, "power_level": 20, "pulse_duration_ms": 100, "pins": 49, "passes": 2}, set(), set()),
        (RF_MICRONEEDLING, {"needle_depth_mm": 3.5}, set(), set()),
        (RF_MICRONEEDLING, {"needle_depth_mm": 3.51}, {"needle_depth_mm"}, set()),
        (RF_MICRONEEDLING, {"needle_depth_mm": 0}, {"needle_depth_mm"}, set()),
        (RF_MICRONEEDLING, {"power_level": 0}, {"power_level"}, set()),
        (RF_MICRONEEDLING, {"pulse_duration_ms": -10}, {"pulse_duration_ms"}, set()),
        (RF_MICRONEEDLING, {"pins": 0}, {"pins"}, set()),
        (RF_MICRONEEDLING, {"pins": 24.5}, {"pins"}, set()),
        (RF_MICRONEEDLING, {"passes": 11}, set(), {"passes"}),
    ],
)
def test_check_device_settings(modality, params, errors, warnings):
    result = r.check_device_settings(modality, params)
    assert set(result.errors) == errors
    assert set(result.warnings) == warnings
    assert result.ok is (not errors)
    assert all(result.errors.values()) and all(result.warnings.values())


def test_device_messages_are_constants():
    assert r.check_device_settings(NAFL, {"wavelength_nm": 532}).errors == {"wavelength_nm": r.ERR_WAVELENGTH}
    assert r.check_device_settings(NAFL, {"energy_mj": 50}).warnings == {"energy_mj": r.WARN_NAFL_ENERGY}
    assert r.check_device_settings(MICRONEEDLING, {"needle_depth_mm": 2}).warnings == {"needle_depth_mm": r.WARN_MN_DEPTH}
    assert r.check_device_settings(MICRONEEDLING, {"needle_depth_mm": 9}).errors == {"needle_depth_mm": r.ERR_TOO_DEEP}


def test_1550_warning_can_be_switched_off():
    result = r.check_device_settings(NAFL, {"wavelength_nm": 1550}, RuleConfig(warn_nafl_1550=False))
    assert result.warnings == {} and result.errors == {}


def test_check_device_settings_rejects_unknown_modality():
    with pytest.raises(ValueError):
        r.check_device_settings("ipl", {})


@pytest.mark.parametrize("modality", ALL_MODALITIES)
@pytest.mark.parametrize("fitzpatrick", [1, 2, 3, 4, 5, 6])
def test_suggested_settings_pass_the_check_cleanly(modality, fitzpatrick):
    suggestion = r.suggest_device_settings(modality, fitzpatrick)
    result = r.check_device_settings(modality, suggestion)
    assert result.errors == {} and result.warnings == {}
    assert suggestion["cooling"] is True or fitzpatrick < 4


@pytest.mark.parametrize(
    "modality, field",
    [(MICRONEEDLING, "needle_depth_mm"), (NAFL, "density_percent"), (NAFL, "passes")],
)
def test_darker_skin_gets_more_conservative_settings(modality, field):
    for light in (1, 2, 3):
        for dark in (4, 5, 6):
            assert r.suggest_device_settings(modality, dark)[field] < r.suggest_device_settings(modality, light)[field]


def test_microneedling_suggestion_uses_config_depths():
    cfg = RuleConfig(microneedling_depth_default_mm=0.8, microneedling_depth_fitz_iv_vi_mm=0.1)
    assert r.suggest_device_settings(MICRONEEDLING, 2, cfg)["needle_depth_mm"] == 0.8
    assert r.suggest_device_settings(MICRONEEDLING, 5, cfg)["needle_depth_mm"] == 0.1


def test_rf_suggestion_records_no_invented_numbers():
    suggestion = r.suggest_device_settings(RF_MICRONEEDLING, 5)
    assert "needle_depth_mm" not in suggestion and "power_level" not in suggestion
    assert "No standard melasma settings" in suggestion["note"]
    assert not r.contains_source_key(suggestion["note"])  # issue 12: source keys stay in code comments


@pytest.mark.parametrize("fitzpatrick", [0, 7, 3.5, None])
def test_suggest_rejects_invalid_fitzpatrick(fitzpatrick):
    with pytest.raises(ValueError):
        r.suggest_device_settings(NAFL, fitzpatrick)


# =============================================================================
# Course schedule
# =============================================================================

START = date(2025, 3, 3)


def w(number, target):
    return Window(number, target, target - timedelta(days=3), target + timedelta(days=7))


def test_windows_without_history_are_every_interval():
    assert r.session_windows(START, 4, 28) == [
        w(1, date(2025, 3, 3)),
        w(2, date(2025, 3, 31)),
        w(3, date(2025, 4, 28)),
        w(4, date(2025, 5, 26)),
    ]


def test_late_performed_session_cascades_to_later_targets():
    windows = r.session_windows(START, 4, 28, performed={1: START, 2: date(2025, 4, 5)})
    assert [win.target for win in windows] == [date(2025, 3, 3), date(2025, 3, 31), date(2025, 5, 3), date(2025, 5, 31)]
    # Session 2's own window is still from session 1's actual date.
    assert windows[1] == w(2, date(2025, 3, 31))


def test_booked_date_drives_next_target_and_performed_wins_over_booked():
    windows = r.session_windows(START, 3, 28, booked={2: date(2025, 4, 2)})
    assert windows[2].target == date(2025, 4, 30)
    windows = r.session_windows(START, 3, 28, performed={2: date(2025, 4, 1)}, booked={2: date(2025, 4, 2)})
    assert windows[2].target == date(2025, 4, 29)


def test_early_session_pulls_later_targets_forward():
    windows = r.session_windows(START, 3, 28, performed={1: date(2025, 3, 1)})
    assert windows[1].target == date(2025, 3, 29)


def test_window_width_from_config():
    cfg = RuleConfig(window_before_days=0, window_after_days=14)
    [window] = r.session_windows(START, 1, 28, cfg=cfg)
    assert (window.earliest, window.latest) == (START, START + timedelta(days=14))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sessions": 0, "interval_days": 28},
        {"sessions": 3, "interval_days": 0},
        {"sessions": 3, "interval_days": 28, "performed": {4: START}},
        {"sessions": 3, "interval_days": 28, "booked": {0: START}},
    ],
)
def test_session_windows_invalid(kwargs):
    with pytest.raises(ValueError):
        r.session_windows(START, **kwargs)


@pytest.mark.parametrize(
    "when, outside",
    [
        (date(2025, 2, 27), True),  # one day early
        (date(2025, 2, 28), False),  # earliest edge
        (START, False),
        (date(2025, 3, 10), False),  # latest edge
        (date(2025, 3, 11), True),
    ],
)
def test_outside_window(when, outside):
    assert r.outside_window(w(1, START), when) is outside


@pytest.mark.parametrize(
    "last, months, expected",
    [
        (date(2025, 1, 15), None, [date(2025, 2, 15), date(2025, 4, 15), date(2025, 7, 15)]),
        (date(2025, 1, 31), None, [date(2025, 2, 28), date(2025, 4, 30), date(2025, 7, 31)]),
        (date(2023, 11, 30), None, [date(2023, 12, 30), date(2024, 2, 29), date(2024, 5, 30)]),
        (date(2025, 8, 31), (1, 2), [date(2025, 9, 30), date(2025, 10, 31)]),
    ],
)
def test_followup_dates(last, months, expected):
    assert r.followup_dates(last, months) == expected


def test_followup_months_from_config():
    cfg = RuleConfig(followup_months=(2,))
    assert r.followup_dates(date(2025, 1, 1), cfg=cfg) == [date(2025, 3, 1)]


SESSION_START = datetime(2025, 6, 20, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "before, late",
    [
        (timedelta(hours=24), False),  # exactly 24 h
        (timedelta(hours=24, seconds=1), False),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=2), True),
        (timedelta(hours=-1), True),  # after the start
        (timedelta(days=5), False),
    ],
)
def test_is_late_cancellation(before, late):
    assert r.is_late_cancellation(SESSION_START, SESSION_START - before) is late


def test_late_cancellation_hours_from_config():
    cfg = RuleConfig(late_cancel_hours=48)
    assert r.is_late_cancellation(SESSION_START, SESSION_START - timedelta(hours=47), cfg)
    assert not r.is_late_cancellation(SESSION_START, SESSION_START - timedelta(hours=48), cfg)


@pytest.mark.parametrize(
    "sessions, warns",
    [(1, True), (2, True), (3, False), (4, False), (5, True), (6, True)],
)
def test_course_size_warning(sessions, warns):
    assert (r.course_size_warning(sessions) == r.WARN_COURSE_SIZE) is warns
    if not warns:
        assert r.course_size_warning(sessions) is None


@pytest.mark.parametrize("sessions", [0, 7, -1, 3.0])
def test_course_size_outside_1_to_6_raises(sessions):
    with pytest.raises(ValueError, match=r.ERR_COURSE_SIZE):
        r.course_size_warning(sessions)


@pytest.mark.parametrize("days, warns", [(13, True), (14, False), (28, False), (56, False), (57, True)])
def test_interval_warning(days, warns):
    assert (r.interval_warning(days) is not None) is warns


# =============================================================================
# Plan lifecycle and activation
# =============================================================================

STATES = [r.PLAN_DRAFT, r.PLAN_ACTIVE, r.PLAN_COMPLETED, r.PLAN_STOPPED]
ALLOWED = {
    (r.PLAN_DRAFT, r.PLAN_ACTIVE),
    (r.PLAN_DRAFT, r.PLAN_STOPPED),  # a draft is discarded with a reason, never deleted
    (r.PLAN_ACTIVE, r.PLAN_COMPLETED),
    (r.PLAN_ACTIVE, r.PLAN_STOPPED),
}


@pytest.mark.parametrize(
    "from_state, to_state, allowed",
    [(a, b, (a, b) in ALLOWED) for a in STATES for b in STATES],
)
def test_plan_transitions(from_state, to_state, allowed):
    assert r.can_transition(from_state, to_state) is allowed


@pytest.mark.parametrize("pair", [("draft", "archived"), ("cancelled", "active")])
def test_unknown_plan_state_raises(pair):
    with pytest.raises(ValueError):
        r.can_transition(*pair)


ABSOLUTE = Finding("pregnancy_ebd", FindingKind.ABSOLUTE, "Pregnant.", "S31", True)
RELATIVE = Finding("keloid_tendency", FindingKind.RELATIVE, "Keloid.", "S31", True)
ADJUNCT = Finding("hydroquinone_pregnancy", FindingKind.ADJUNCT, "HQ in pregnancy.", "S40", True)
REMINDER = Finding("hsv_prophylaxis", FindingKind.REMINDER, "Antiviral.", "S28", False)


@pytest.mark.parametrize(
    "findings, overridden, expected",
    [
        ([], set(), []),
        ([REMINDER], set(), []),
        ([RELATIVE], set(), [r.BLOCK_NEEDS_OVERRIDE.format(message="Keloid.")]),
        ([RELATIVE], {"keloid_tendency"}, []),
        ([ADJUNCT], set(), [r.BLOCK_NEEDS_OVERRIDE.format(message="HQ in pregnancy.")]),
        ([ADJUNCT], {"hydroquinone_pregnancy"}, []),
        ([ABSOLUTE], {"pregnancy_ebd"}, [r.BLOCK_ABSOLUTE.format(message="Pregnant.")]),
        (
            [ABSOLUTE, RELATIVE, REMINDER],
            {"keloid_tendency"},
            [r.BLOCK_ABSOLUTE.format(message="Pregnant.")],
        ),
    ],
)
def test_activation_blockers_findings(findings, overridden, expected):
    assert r.activation_blockers(findings, overridden, True, True, False) == expected


@pytest.mark.parametrize(
    "consent_modality, consent_exosome, stale, expected",
    [
        (True, True, False, []),
        (False, True, False, [r.BLOCK_CONSENT_MODALITY]),
        (True, False, False, [r.BLOCK_CONSENT_EXOSOME]),
        (True, True, True, [r.BLOCK_SCREENING_STALE]),
        (False, False, True, [r.BLOCK_SCREENING_STALE, r.BLOCK_CONSENT_MODALITY, r.BLOCK_CONSENT_EXOSOME]),
    ],
)
def test_activation_blockers_consent_and_staleness(consent_modality, consent_exosome, stale, expected):
    assert r.activation_blockers([], set(), consent_modality, consent_exosome, stale) == expected


def test_activation_end_to_end_from_screening():
    answers = replace(CLEAN, keloid_tendency=True, hsv_history=True)
    findings = r.screen(answers, MICRONEEDLING, [], TODAY)
    assert len(r.activation_blockers(findings, set(), True, True, False)) == 1
    assert r.activation_blockers(findings, {r.CODE_KELOID}, True, True, False) == []


# =============================================================================
# Pre-session check and booking holds
# =============================================================================

READY = PreSessionAnswers(
    pregnant=False,
    new_medicines="",
    recent_sun_or_tan=False,
    active_lesion_or_infection=False,
    topical_pauses_kept=True,
    antiviral_taken=None,
)


@pytest.mark.parametrize(
    "changes, open_aes, expected",
    [
        ({}, 0, []),
        ({"antiviral_taken": True}, 0, []),
        ({"new_medicines": "  "}, 0, []),
        ({"pregnant": True}, 0, [r.PRE_PREGNANT]),
        ({"new_medicines": "doxycycline"}, 0, [r.PRE_NEW_MEDICINES]),
        ({"recent_sun_or_tan": True}, 0, [r.PRE_RECENT_SUN]),
        ({"active_lesion_or_infection": True}, 0, [r.PRE_ACTIVE_LESION]),
        ({"topical_pauses_kept": False}, 0, [r.PRE_PAUSES_NOT_KEPT]),
        ({"antiviral_taken": False}, 0, [r.PRE_ANTIVIRAL_NOT_TAKEN]),
        ({}, 1, [r.PRE_OPEN_ADVERSE_EVENTS]),
        ({"pregnant": True, "antiviral_taken": False}, 2, [r.PRE_PREGNANT, r.PRE_ANTIVIRAL_NOT_TAKEN, r.PRE_OPEN_ADVERSE_EVENTS]),
    ],
)
@pytest.mark.parametrize("modality", ALL_MODALITIES)
def test_pre_session_blockers(changes, open_aes, expected, modality):
    assert r.pre_session_blockers(replace(READY, **changes), modality, open_aes) == expected


def test_pre_session_rejects_bad_input():
    with pytest.raises(ValueError):
        r.pre_session_blockers(READY, "ipl", 0)
    with pytest.raises(ValueError):
        r.pre_session_blockers(READY, NAFL, -1)


BOOKED_ON = date(2025, 6, 1)


def holds(**overrides):
    kwargs = dict(
        consent_complete=True,
        open_adverse_events=0,
        adjuncts=[],
        pause_started_on=None,
        appointment_date=BOOKED_ON + timedelta(days=14),
        booked_on=BOOKED_ON,
    )
    kwargs.update(overrides)
    return r.booking_holds(**kwargs)


HQ_HOLD = r.HOLD_PAUSE_TOO_SHORT.format(label="Hydroquinone", days=7)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, []),
        ({"consent_complete": False}, [r.HOLD_CONSENT]),
        ({"open_adverse_events": 2}, [r.HOLD_ADVERSE_EVENTS]),
        # Default 7-day pause: 7 days after booking is enough, 6 is not.
        ({"adjuncts": [AdjunctSpec(r.HYDROQUINONE)], "appointment_date": BOOKED_ON + timedelta(days=7)}, []),
        ({"adjuncts": [AdjunctSpec(r.HYDROQUINONE)], "appointment_date": BOOKED_ON + timedelta(days=6)}, [HQ_HOLD]),
        ({"adjuncts": [AdjunctSpec(r.HYDROQUINONE)], "appointment_date": BOOKED_ON}, [HQ_HOLD]),
        # Already pausing since before the booking day.
        (
            {
                "adjuncts": [AdjunctSpec(r.HYDROQUINONE)],
                "pause_started_on": {r.HYDROQUINONE: BOOKED_ON - timedelta(days=5)},
                "appointment_date": BOOKED_ON + timedelta(days=2),
            },
            [],
        ),
        (
            {
                "adjuncts": [AdjunctSpec(r.HYDROQUINONE)],
                "pause_started_on": {r.HYDROQUINONE: BOOKED_ON - timedelta(days=4)},
                "appointment_date": BOOKED_ON + timedelta(days=2),
            },
            [HQ_HOLD],
        ),
        # Plan-specific pause length and unpaused agents.
        ({"adjuncts": [AdjunctSpec(r.TRETINOIN, pause_days_before=3)], "appointment_date": BOOKED_ON + timedelta(days=3)}, []),
        ({"adjuncts": [AdjunctSpec(r.NIACINAMIDE), AdjunctSpec(r.TXA_ORAL)], "appointment_date": BOOKED_ON}, []),
    ],
)
def test_booking_holds(overrides, expected):
    assert holds(**overrides) == expected


def test_booking_before_booking_day_raises():
    with pytest.raises(ValueError):
        holds(appointment_date=BOOKED_ON - timedelta(days=1))


# =============================================================================
# Adverse events
# =============================================================================


def test_ae_and_grade_choices():
    assert len(r.AE_TYPES) == 17 and r.AE_TYPE_KEYS >= {"erythema", "pih", "rebound", "hsv_reactivation", "other"}
    assert [g for g, _ in r.CTCAE_GRADES] == [1, 2, 3, 4, 5]
    assert dict(r.CTCAE_GRADES)[1].startswith("Mild")
    assert dict(r.CTCAE_GRADES)[5].startswith("Death")


@pytest.mark.parametrize(
    "grade, serious, reportable",
    [(1, False, False), (2, False, False), (3, False, True), (4, False, True), (5, False, True), (1, True, True), (2, True, True)],
)
def test_ae_is_reportable(grade, serious, reportable):
    assert r.ae_is_reportable(grade, serious) is reportable


@pytest.mark.parametrize("grade", [0, 6, 2.5, None])
def test_ae_grade_out_of_range(grade):
    with pytest.raises(ValueError):
        r.ae_is_reportable(grade, False)


@pytest.mark.parametrize(
    "ae_type, modality, days",
    [
        ("erythema", MICRONEEDLING, 3),
        ("erythema", RF_MICRONEEDLING, 2),
        ("erythema", NAFL, 3),
        ("edema", NAFL, 7),
        ("pain", NAFL, 3),
        ("pain", MICRONEEDLING, 1),
        ("bleeding_bruising", MICRONEEDLING, 7),
        ("bronzing", NAFL, 7),
        ("bronzing", MICRONEEDLING, None),
        ("grid_marks", RF_MICRONEEDLING, 7),
        ("grid_marks", NAFL, None),
        ("pih", NAFL, None),
        ("hsv_reactivation", MICRONEEDLING, None),
        ("other", NAFL, None),
    ],
)
def test_ae_expected_resolution_days(ae_type, modality, days):
    assert r.ae_expected_resolution_days(ae_type, modality) == days


def test_expected_erythema_is_within_escalation_limit():
    for modality in ALL_MODALITIES:
        assert r.ae_expected_resolution_days("erythema", modality) < r.ERYTHEMA_ESCALATE_AFTER_DAYS


@pytest.mark.parametrize("args", [("sunburn", NAFL), ("erythema", "ipl")])
def test_ae_expected_resolution_rejects_unknown(args):
    with pytest.raises(ValueError):
        r.ae_expected_resolution_days(*args)


@pytest.mark.parametrize("ae_type, pauses", [("pih", True), ("rebound", True), ("erythema", False), ("milia", False)])
def test_ae_pauses_energy_devices(ae_type, pauses):
    assert r.ae_pauses_energy_devices(ae_type) is pauses


# =============================================================================
# Aftercare
# =============================================================================

ALWAYS = ["phase_0_24h", "phase_24_72h", "phase_3_7d", "exosome", "sun_protection", "call_clinic", "emergency"]


@pytest.mark.parametrize(
    "modality, agents, hsv, expected",
    [
        (MICRONEEDLING, [], False, ALWAYS),
        (RF_MICRONEEDLING, [], False, ALWAYS),
        (
            NAFL,
            [],
            False,
            ["phase_0_24h", "phase_24_72h", "phase_3_7d", "phase_after", "exosome", "sun_protection", "call_clinic", "emergency"],
        ),
        (
            MICRONEEDLING,
            [r.TRETINOIN],
            False,
            ["phase_0_24h", "phase_24_72h", "phase_3_7d", "exosome", "topicals_restart", "sun_protection", "call_clinic", "emergency"],
        ),
        (MICRONEEDLING, [r.NIACINAMIDE, r.TXA_TOPICAL], False, ALWAYS),
        (MICRONEEDLING, [r.TXA_ORAL], False, ALWAYS + ["txa_oral_warning"]),
        (MICRONEEDLING, [], True, ALWAYS + ["antiviral"]),
        (
            NAFL,
            [r.HYDROQUINONE, r.TXA_ORAL],
            True,
            [
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
            ],
        ),
    ],
)
def test_aftercare_sections(modality, agents, hsv, expected):
    assert r.aftercare_sections(modality, agents, hsv) == expected


def test_aftercare_without_exosome_and_order_is_fixed():
    sections = r.aftercare_sections(RF_MICRONEEDLING, iter([r.TXA_ORAL, r.VITAMIN_C]), True, exosome_applied=False)
    assert "exosome" not in sections
    assert sections == [s for s in r.AFTERCARE_SECTIONS if s in sections]


@pytest.mark.parametrize("args", [("ipl", [], False), (NAFL, ["retinol"], False)])
def test_aftercare_rejects_unknown(args):
    with pytest.raises(ValueError):
        r.aftercare_sections(*args)


# =============================================================================
# Configuration
# =============================================================================


def test_default_config_matches_reference():
    cfg = RuleConfig()
    assert cfg.isotretinoin_wait_months == 6
    assert cfg.recent_tan_days == 14
    assert cfg.hsv_recent_outbreak_weeks == 8
    assert cfg.default_interval_days == 28
    assert cfg.followup_months == (1, 3, 6)
    assert cfg.late_cancel_hours == 24
    assert cfg.mmasi_band_cutoffs is None
    assert cfg.microneedling_depth_fitz_iv_vi_mm <= cfg.microneedling_depth_default_mm <= r.MN_MELASMA_MAX_DEPTH_MM


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        RuleConfig().recent_tan_days = 7


def test_rules_module_does_not_import_django():
    import ast
    import pathlib

    # Every module of the package; relative imports (level > 0) stay inside it.
    modules = sorted(pathlib.Path(r.__file__).parent.glob("*.py"))
    assert len(modules) > 1
    for module in modules:
        tree = ast.parse(module.read_text())
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        }
        assert imported <= {"calendar", "math", "re", "collections", "dataclasses", "datetime", "decimal", "enum", "typing"}, module


# =============================================================================
# Course builder: conservative device settings from a template (course engineer)
# =============================================================================

TEMPLATE_MN = {"needle_depth_mm": 0.5, "zone_depths_mm": {"forehead": 0.5, "malar": 0.8}, "passes": 3}
TEMPLATE_NAFL = {"wavelength_nm": 1927, "energy_mj": 15, "density_percent": 20, "passes": 6}


@pytest.mark.parametrize(
    "modality, fitzpatrick, base, expected",
    [
        # Type III keeps the template's values and only fills gaps from the suggestion.
        (MICRONEEDLING, 3, TEMPLATE_MN, {"needle_depth_mm": 0.5, "passes": 3, "endpoint": "erythema"}),
        (NAFL, 3, TEMPLATE_NAFL, {"energy_mj": 15, "density_percent": 20, "passes": 6}),
        # Type IV and above are capped at the suggestion, with cooling (S15, S18, S73).
        (MICRONEEDLING, 4, TEMPLATE_MN, {"needle_depth_mm": 0.2, "zone_depths_mm": {"forehead": 0.2, "malar": 0.2}, "cooling": True}),
        (NAFL, 4, TEMPLATE_NAFL, {"energy_mj": 10, "density_percent": 10, "passes": 4, "cooling": True}),
        (NAFL, 6, {"energy_mj": 8, "density_percent": 5}, {"energy_mj": 8, "density_percent": 5, "passes": 4}),
        # Fitzpatrick not recorded: treated as the higher-risk group.
        (MICRONEEDLING, None, {"needle_depth_mm": 1.0}, {"needle_depth_mm": 0.2, "cooling": True}),
        (RF_MICRONEEDLING, 5, {"needle_depth_mm": 0.8}, {"needle_depth_mm": 0.8, "cooling": True}),
    ],
)
def test_conservative_device_settings(modality, fitzpatrick, base, expected):
    result = r.conservative_device_settings(modality, fitzpatrick, base)
    assert {key: result.get(key) for key in expected} == expected
    assert r.check_device_settings(modality, result).ok


def test_conservative_device_settings_leaves_the_template_untouched():
    base = dict(TEMPLATE_NAFL)
    r.conservative_device_settings(NAFL, 5, base)
    assert base == TEMPLATE_NAFL


# =============================================================================
# Pre-session instructions for reminders (scheduling)
# =============================================================================


@pytest.mark.parametrize(
    "adjuncts, hsv, expected_starts, antiviral",
    [
        # Plan value wins over the default; agents without a pause (niacinamide) are not listed.
        ([AdjunctSpec("hydroquinone", pause_days_before=5), AdjunctSpec("niacinamide")], False, ["Stop Hydroquinone from Tuesday 10 June 2025 (5 days"], False),
        # Default pause (7 days, S35) for tretinoin; HSV history adds the antiviral step (S28, S29).
        ([AdjunctSpec("tretinoin")], True, ["Stop Tretinoin from Sunday 08 June 2025 (7 days"], True),
        ([], False, [], False),
    ],
)
def test_pre_session_instructions(adjuncts, hsv, expected_starts, antiviral):
    steps = r.pre_session_instructions(adjuncts=adjuncts, hsv_history=hsv, session_date=TODAY)
    stops = [s for s in steps if s.startswith("Stop ")]
    assert [s[: len(e)] for s, e in zip(stops, expected_starts, strict=True)] == expected_starts
    assert r.PREP_NO_SUN.format(days=14) in steps
    assert (r.PREP_ANTIVIRAL in steps) is antiviral
