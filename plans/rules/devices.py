"""Device settings: impossible values (errors), outside published melasma ranges (warnings), and the
conservative suggestions for darker skin (domain reference §2)."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .base import *  # noqa: F403
from .base import _check_modality, _is_whole


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
WARN_DARKER_SKIN_CEILING = (
    "Above {cap:g} {unit}, the conservative ceiling for Fitzpatrick IV–VI (or a skin type not recorded): "
    "PIH risk is highest in darker skin. Confirm."
)
_CEILING_UNITS = {"energy_mj": "mJ", "density_percent": "%", "passes": "passes"}


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


def darker_skin_ceilings(modality: str, fitzpatrick: int | None, cfg: RuleConfig = DEFAULT_CONFIG) -> dict[str, float]:
    """The conservative ceilings for types IV–VI, or an unrecorded type (S15, S18, S73): field → cap.

    Empty for types I–III. The same caps conservative_device_settings applies to the settings it fills in,
    so a typed value is held to what the app would have suggested.
    """
    if not treat_as_darker_skin(fitzpatrick):
        return {}
    suggestion = suggest_device_settings(modality, FITZPATRICK_HIGH_PIH_RISK_FROM if fitzpatrick is None else fitzpatrick, cfg)
    caps: dict[str, float] = {}
    depth_cap = _number(suggestion.get("needle_depth_mm"))
    if depth_cap is not None:
        caps.update({field: depth_cap for field in MICRONEEDLING_ZONE_FIELDS})
        caps[ZONE_DEPTHS_FIELD] = depth_cap
    for field in _CAPPED_FOR_DARKER_SKIN:
        cap = _number(suggestion.get(field))
        if cap is not None:
            caps[field] = cap
    return caps


def _check_darker_skin_ceilings(
    modality: str, params: Mapping[str, object], fitzpatrick: int | None, cfg: RuleConfig, warnings: dict[str, str]
) -> None:
    caps = darker_skin_ceilings(modality, fitzpatrick, cfg)
    values: dict[str, tuple[object, float]] = {}
    for field, cap in caps.items():
        if field == ZONE_DEPTHS_FIELD:
            zones = params.get(field)
            if isinstance(zones, Mapping):
                values.update({f"{field}.{zone}": (mm, cap) for zone, mm in zones.items()})
        elif params.get(field) is not None:
            values[field] = (params[field], cap)
    for key, (value, cap) in values.items():
        number = _number(value)
        if number is None or number <= cap:
            continue
        unit = "mm" if "depth" in key else _CEILING_UNITS.get(key, "")
        # One warning per field: a value already outside the published range keeps that warning.
        warnings.setdefault(key, WARN_DARKER_SKIN_CEILING.format(cap=cap, unit=unit))


def check_device_settings(
    modality: str,
    params: Mapping[str, object],
    cfg: RuleConfig = DEFAULT_CONFIG,
    *,
    for_patient: bool = False,
    fitzpatrick: int | None = None,
) -> ParamCheck:
    """Errors for impossible values, warnings outside published melasma ranges.

    None means "not recorded" and is skipped; keys that are not settings of the modality are
    ignored so a form can pass its whole cleaned_data. For a patient (for_patient), typed values above
    the conservative ceilings for Fitzpatrick IV–VI (or an unrecorded type) warn too (S18); a protocol
    template has no patient, so no skin type.
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
    if for_patient:
        _check_darker_skin_ceilings(modality, {k: v for k, v in params.items() if k not in errors}, fitzpatrick, cfg, warnings)
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
            "note": "Shallow, delivery-focused needling; depth is contested.",  # S15 [U]
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
            "note": "Low density and cooling for darker skin." if darker else "",  # S18
        }
    return {
        "cooling": True,
        # No standard melasma depth or energy in S24–S26; darker skin: low energy and cooling (S18, S73).
        "note": "No standard melasma settings are published: use the device's lowest melasma preset "
        "and record it." + (" Darker skin: low energy and cooling." if darker else ""),
    }


_CAPPED_FOR_DARKER_SKIN = ("energy_mj", "density_percent", "passes")


def conservative_device_settings(
    modality: str, fitzpatrick: int | None, base: Mapping[str, object], cfg: RuleConfig = DEFAULT_CONFIG
) -> dict[str, object]:
    """A template's settings adjusted for one patient: gaps filled from suggest_device_settings, and for
    types IV–VI (or an unrecorded type, to be safe) no depth, energy, density or passes above the
    suggestion, with cooling on (S15, S18, S73)."""
    darker = treat_as_darker_skin(fitzpatrick)
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
