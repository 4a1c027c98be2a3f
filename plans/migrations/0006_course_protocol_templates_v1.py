"""One protocol template per modality, built from the domain reference (shared/domain/melasma.md).

§9 / §2.4: 4 sessions 28 days apart (S13, S16, S22, S63); window and follow-ups from RuleConfig defaults
(−3 / +7 days; 1, 3 and 6 months after the last session, S16). §2: conservative melasma settings; the plan
builder lowers them further for Fitzpatrick IV–VI (rules.conservative_device_settings). §5: SPF 50
broad-spectrum tinted iron-oxide sunscreen, reapplied every 2 hours (S51, S52, S54). §4: adjuncts with the
pause days of rules.DEFAULT_PAUSE_DAYS (S35, S70). Managers edit these in the app (history is kept).
"""

from django.db import migrations

from plans.rules import DEFAULT_CONFIG, DEFAULT_PAUSE_DAYS

SUN = {
    "spf": 50,  # SPF ≥ 50 in the key trial (S51, S52)
    "broad_spectrum": True,
    "tinted_iron_oxide": True,  # visible light drives melanogenesis (S53); tinted group improved more (S51)
    "reapply_hours": 2,  # S54, S70
    "sun_notes": "Mineral filters preferred; wide-brimmed hat and shade; no sunbeds; avoid heat (S54, S55).",
}
COURSE = {
    "sessions": 4,  # 3–4 sessions (S13, S16, S63)
    "interval_days": DEFAULT_CONFIG.default_interval_days,  # 4 weeks
    "window_before_days": DEFAULT_CONFIG.window_before_days,
    "window_after_days": DEFAULT_CONFIG.window_after_days,
    "followup_months": list(DEFAULT_CONFIG.followup_months),  # S16
}


def _adjunct(agent, strength, frequency, notes=""):
    return {
        "agent": agent, "strength": strength, "frequency": frequency,
        "pause_days_before": DEFAULT_PAUSE_DAYS.get(agent, 0), "notes": notes,
    }


HQ_NOTE = "Cycles of 12–16 weeks then a pause; stop if blue-black darkening appears (S38, S39, S40)."

TEMPLATES = [
    {
        "name": "Microneedling + topical exosomes (melasma)",
        "modality": "microneedling",
        "device_name": "Microneedling pen",
        # Shallow, delivery-focused needling: 0.5 mm as in the exosome trial (S14); depth contested (S15 [U]).
        "device_settings": {
            "needle_depth_mm": DEFAULT_CONFIG.microneedling_depth_default_mm, "passes": 3, "endpoint": "erythema",
            "note": "Endpoint slight redness, not pinpoint bleeding (S14).",
        },
        "adjuncts": [
            _adjunct("hydroquinone", "4%", "nightly", HQ_NOTE),
            _adjunct("niacinamide", "4%", "twice daily", "Continues through sessions (S43)."),
        ],
        "notes": "Exosome product spread on the skin during or right after needling; never injected (S14, S62).",
    },
    {
        "name": "Non-ablative fractional laser 1927 nm + topical exosomes (melasma)",
        "modality": "nafl",
        "device_name": "1927 nm thulium fractional laser",
        # Low end of S16 (10–20 mJ); low density and cooling (S18).
        "device_settings": {
            "wavelength_nm": 1927, "energy_mj": 10, "density_percent": 20, "passes": 6, "cooling": True,
            "note": "Low density and cooling; PIH rises with density (S16, S18).",
        },
        "adjuncts": [
            _adjunct("azelaic_acid", "20%", "twice daily", "Restart 7 days after each session (S70)."),
            _adjunct("niacinamide", "4%", "twice daily", "Continues through sessions (S43)."),
        ],
        "notes": "Avoid direct sun for 1–2 months after each session (S69).",
    },
    {
        "name": "RF microneedling + topical exosomes (melasma)",
        "modality": "rf_microneedling",
        "device_name": "Insulated bipolar RF microneedling",
        # No standard melasma depth or energy is published (S24–S26 [U]): shallow, single pass, cooling.
        "device_settings": {
            "needle_depth_mm": 0.5, "passes": 1, "cooling": True,
            "note": "No standard melasma settings: use the device's lowest melasma preset and record it (S24–S26).",
        },
        "adjuncts": [
            _adjunct("hydroquinone", "4%", "nightly", HQ_NOTE),
            _adjunct("txa_topical", "4%", "applied at each session", "Delivered with RF microneedling (S26)."),
        ],
        "notes": "Check for pacemakers, implants and gold threads before every session (S32).",
    },
]


def create_templates(apps, schema_editor):
    ProtocolTemplate = apps.get_model("plans", "ProtocolTemplate")
    for spec in TEMPLATES:
        if not ProtocolTemplate.objects.filter(name=spec["name"]).exists():
            ProtocolTemplate.objects.create(**spec, **COURSE, **SUN)


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0005_course_consent_texts_v1"),
    ]

    operations = [
        migrations.RunPython(create_templates, migrations.RunPython.noop),
    ]
