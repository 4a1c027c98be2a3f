"""MASI, mMASI and MELASQOL, and what counts as a real change (domain reference §1)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .base import DEFAULT_CONFIG, RuleConfig, _is_whole


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
