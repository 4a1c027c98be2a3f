"""Version 1 of every aftercare text (domain reference §8 and §5, shared/domain/melasma.md).

Bodies are plain text: a blank line starts a new paragraph, a line starting with "- " is a bullet. Placeholders
in braces are filled from the session when a sheet is issued (see plans.services.aftercare.PLACEHOLDERS).
Managers edit these in the app (/aftercare-texts/); each edit is a new version, so these rows never change.
"""

from django.db import migrations

ALL = ""  # applies to every modality

TEXTS = [
    # --- Microneedling (± exosome): S71, S67 ---
    ("phase_0_24h", "microneedling", "The first 24 hours", (
        "Your skin will feel like a mild sunburn. The tiny needle channels stay open for about 12–36 hours, "
        "so keep the skin clean.\n"
        "- Cleanse gently with lukewarm water, then apply a bland moisturiser or the product we gave you.\n"
        "- No make-up today.\n"
        "- No sweating, exercise, sauna, hot showers or swimming.\n"
        "- Keep your hands off your face and sleep on a clean pillowcase."
    )),
    ("phase_24_72h", "microneedling", "24 to 72 hours", (
        "- From about 24 hours, use a mineral sunscreen, SPF 30 or higher.\n"
        "- Make-up is fine again from 24–48 hours.\n"
        "- Light exercise only.\n"
        "- Do not pick at flakes; let them fall off by themselves."
    )),
    ("phase_3_7d", "microneedling", "Days 3 to 7", (
        "- Still no retinoids (such as tretinoin), AHA or BHA acids, vitamin C, benzoyl peroxide or scrubs.\n"
        "- Restart your usual active creams at about day 5–7, and only if your skin is calm."
    )),
    # --- Non-ablative fractional laser (1927/1550 nm): S69, S70. Days 3–7 and week 1 share one section. ---
    ("phase_0_24h", "nafl", "Treatment day", (
        "- Cool compress for 10 minutes every hour while you are awake.\n"
        "- Sleep with your head raised on an extra pillow.\n"
        "- Feeling heat for some hours is normal; it can last up to 2–3 days."
    )),
    ("phase_24_72h", "nafl", "Days 1 to 3", (
        "- Swelling peaks (often the first morning), then settles.\n"
        "- Moisturise often.\n"
        "- Sunscreen and make-up are allowed."
    )),
    ("phase_3_7d", "nafl", "Days 3 to 7 and the first week", (
        "- Your skin may look bronzed and feel like sandpaper; this flakes off by itself. Do not scrub.\n"
        "- For the first week: no active creams, sauna, swimming or heavy sweating."
    )),
    ("phase_after", "nafl", "The months after", (
        "- Strictly avoid direct sun for 1–2 months.\n"
        "- Use sunscreen every day for at least 3 months."
    )),
    # --- RF microneedling: S72, S35 ---
    ("phase_0_24h", "rf_microneedling", "The first 24 hours", (
        "- No liquid make-up.\n"
        "- No heat (sauna, hot showers) and no strenuous exercise.\n"
        "- Ice wrapped in a cloth can soothe the skin; never put ice directly on it."
    )),
    ("phase_24_72h", "rf_microneedling", "Once the redness settles", (
        "- Redness usually settles within 24–48 hours; small grid marks can last up to a week.\n"
        "- Mineral make-up is allowed once the redness has settled."
    )),
    ("phase_3_7d", "rf_microneedling", "For about a week", (
        "- No active creams (retinoids, acids, vitamin C) and no exfoliation or scrubs.\n"
        "- Mineral sunscreen, SPF 30 or higher, every day."
    )),
    # --- Exosome product applied (S14, S62, S64: topical use only; S58, S59: lot traceability; S66) ---
    ("exosome", ALL, "The exosome product applied today", (
        "We applied {product}, lot {lot}, to your skin during your treatment. It is for use on the skin only.\n\n"
        "Keep this sheet: if you ever have a reaction, the lot number lets us trace the batch."
    )),
    # --- Topical regimen and restart (S70, S71; §4 "Pausing around procedures") ---
    ("topicals_restart", ALL, "Your creams and tablets", (
        "Restart each paused cream on the date shown, and only if your skin is calm (no open areas, "
        "redness or stinging). Sunscreen and a bland moisturiser continue throughout."
    )),
    # --- Sun protection after the procedure (§5: S71, S72 for needling; S69 for NAFL) + daily rules (S54, S55) ---
    ("sun_protection", "microneedling", "Sun protection", (
        "After this treatment, use a mineral sunscreen (zinc oxide or titanium dioxide) from about 24 hours.\n\n"
        "UV passes through clouds and window glass: protect your skin every day, all year.\n"
        "- Wear a wide-brimmed hat and keep to the shade.\n"
        "- No sunbeds. Heat also makes melasma worse."
    )),
    ("sun_protection", "rf_microneedling", "Sun protection", (
        "After this treatment, use a mineral sunscreen (zinc oxide or titanium dioxide) from about 24 hours.\n\n"
        "UV passes through clouds and window glass: protect your skin every day, all year.\n"
        "- Wear a wide-brimmed hat and keep to the shade.\n"
        "- No sunbeds. Heat also makes melasma worse."
    )),
    ("sun_protection", "nafl", "Sun protection", (
        "Sunscreen is allowed straight after this treatment, but avoid direct sun for 1–2 months.\n\n"
        "UV passes through clouds and window glass: protect your skin every day, all year.\n"
        "- Wear a wide-brimmed hat and keep to the shade.\n"
        "- No sunbeds. Heat also makes melasma worse."
    )),
    # --- Warning signs (§8 "Call the clinic", S67, S69, S30, S32, S66, S73) ---
    ("call_clinic", ALL, "When to call the clinic", (
        "Call {clinic_name} on {clinic_phone} if you notice:\n"
        "- redness, swelling or pain that gets worse after 2–3 days;\n"
        "- pus, yellow crusts or a fever;\n"
        "- tingling followed by small grouped blisters (possible cold sore);\n"
        "- blisters or burns;\n"
        "- new bumps or lumps days to weeks later;\n"
        "- darker patches in the weeks after treatment."
    )),
    ("emergency", ALL, "Go to emergency care now if you have", (
        "- eye pain or any change in your vision;\n"
        "- hives (an itchy raised rash) with difficulty breathing.\n\n"
        "Call your local emergency number or go to the nearest emergency department."
    )),
    # --- Oral tranexamic acid (S47): only on sheets of patients who take it ---
    ("txa_oral_warning", ALL, "Tranexamic acid tablets: stop them and get emergency care if you have", (
        "- pain or swelling in a calf;\n"
        "- chest pain or shortness of breath;\n"
        "- a sudden change in your vision.\n\n"
        "These can be signs of a blood clot. Tell us afterwards as well."
    )),
    # --- Antiviral prophylaxis with an HSV history (S28, S29, S30) ---
    ("antiviral", ALL, "Cold sore prevention", (
        "You have had cold sores before. Take your antiviral medicine exactly as prescribed and finish the "
        "course (usually 5–7 days after treatment). If you feel tingling followed by small blisters, call us "
        "the same day."
    )),
]


def ship_version_1(apps, schema_editor):
    AftercareText = apps.get_model("plans", "AftercareText")
    for section, modality, title, body in TEXTS:
        AftercareText.objects.get_or_create(
            section=section, modality=modality, version=1, defaults={"title": title, "body": body}
        )


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_aftercare_print_permission")]

    operations = [migrations.RunPython(ship_version_1, migrations.RunPython.noop)]
