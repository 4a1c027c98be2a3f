"""Version 1 of each consent text: one per energy device and one for exosome use.

Plain English for patients, from the domain reference (shared/domain/melasma.md): the procedure (§2), what to
expect and the risks (§3, §7), that no exosome product is FDA-approved (§6: S56, S57), and the alternatives
(§4, §5). Managers publish later versions in the app; these rows are never edited.
"""

from django.db import migrations

COMMON_ALTERNATIVES = (
    "Alternatives. You do not have to have this treatment. Other options are daily broad-spectrum tinted "
    "sunscreen alone, creams such as hydroquinone, azelaic acid, niacinamide or a triple-combination cream, "
    "tranexamic acid (as a cream or tablets, after screening), chemical peels, or no treatment. Melasma is not "
    "dangerous. Whatever you choose, strict sun protection matters most."
)

COMMON_RELAPSE = (
    "Results. Melasma is a long-term condition. Most people improve, but it often comes back, most often in the "
    "1 to 3 months after treatment ends and especially with sun, heat or hormones (such as the contraceptive "
    "pill). Results are not guaranteed. You will have follow-up visits about 1, 3 and 6 months after the last "
    "session."
)

COMMON_DUTIES = (
    "What I agree to do. Tell the clinic about any pregnancy or breastfeeding, new medicines (including "
    "isotretinoin, antibiotics, blood thinners and herbal remedies), cold sores, recent tanning or other skin "
    "treatments before each session. Stop the creams I am told to stop before each session. Use sunscreen "
    "every day. Contact the clinic if anything unexpected happens."
)

TEXTS = {
    "microneedling": (
        "Consent to microneedling for melasma",
        [
            "The procedure. Microneedling uses a pen with many very fine needles to make tiny channels in the "
            "skin. For melasma the needles are set shallow, usually well under 1 mm, and the aim is mild redness, "
            "not bleeding. A numbing cream may be used. A product (such as an exosome serum, which has its own "
            "consent form) is spread on the skin during or just after needling. A course is usually 3 to 4 "
            "sessions about 4 weeks apart.",
            "What to expect. Your skin will feel like mild sunburn. Redness usually settles within about 3 days; "
            "swelling within a week. Pinpoint bleeding or small bruises can happen and fade within about a week. "
            "Flaking for a few days is normal.",
            "Risks. Darkening of the skin (post-inflammatory hyperpigmentation), which can last months and is "
            "more likely in darker skin types; melasma getting worse (rebound); infection; a cold-sore outbreak "
            "if you have had cold sores before (you may be given antiviral tablets); allergic or skin reactions "
            "to products, including lumps (granulomas) that can appear weeks later; small spots (milia); acne-like "
            "spots; and, rarely, track-like scarring. Serious problems are uncommon.",
            "Who should not have it. People who are pregnant or breastfeeding, have an active skin infection, "
            "open wound or cold sore, have recently taken isotretinoin, or tend to form keloid scars should not "
            "be treated, or only after discussion with the clinician.",
            COMMON_RELAPSE,
            COMMON_ALTERNATIVES,
            COMMON_DUTIES,
            "I have read this information, had the chance to ask questions, and agree to a course of "
            "microneedling. I understand I can change my mind at any time before a session.",
        ],
    ),
    "nafl": (
        "Consent to non-ablative fractional laser for melasma",
        [
            "The procedure. A non-ablative fractional laser (for example 1927 nm or 1550 nm) heats thousands of "
            "microscopic columns of skin while leaving the surface intact. For melasma we use low energy, low "
            "density and cooling. A numbing cream is usually applied first. A course is usually 3 to 4 sessions "
            "about 4 weeks apart.",
            "What to expect. A warm, sunburn-like feeling for a few hours and up to 2 to 3 days. Redness for 2 to "
            "3 days, with some pinkness possibly lasting weeks. Swelling, worst the next morning, settles within "
            "a week. Between days 3 and 7 the skin looks bronzed and feels like sandpaper, then flakes off: do "
            "not scrub it. You must avoid direct sun for 1 to 2 months.",
            "Risks. Darkening of the skin (post-inflammatory hyperpigmentation), seen in about 7 to 12 in 100 "
            "Asian patients in studies and more likely with darker skin; melasma getting worse (rebound) — one "
            "study found a 1550 nm laser worsened melasma; patchy lightening of the skin; infection; a cold-sore "
            "outbreak if you have had cold sores before; acne-like spots; burns or blisters (rare); and scarring "
            "(rare).",
            "Who should not have it. People who are pregnant or breastfeeding, have an active skin infection, "
            "open wound or cold sore, have recently taken isotretinoin, take medicines that make the skin "
            "sensitive to light, or have a recent tan should not be treated, or only after discussion.",
            COMMON_RELAPSE,
            COMMON_ALTERNATIVES,
            COMMON_DUTIES,
            "I have read this information, had the chance to ask questions, and agree to a course of "
            "non-ablative fractional laser treatment. I understand I can change my mind at any time before a "
            "session.",
        ],
    ),
    "rf_microneedling": (
        "Consent to radiofrequency (RF) microneedling for melasma",
        [
            "The procedure. RF microneedling places fine needles into the skin and releases a short pulse of "
            "radiofrequency energy (heat) through them. There are no standard published settings for melasma, "
            "so we use the device's lowest melasma settings with cooling, and record them. A numbing cream is "
            "usually applied first. A course is usually 3 to 4 sessions about 4 weeks apart.",
            "What to expect. Redness for 1 to 2 days and swelling for up to a week. A grid pattern of small marks "
            "from the needle tips can show for up to a week. Small bruises can happen.",
            "Risks. Darkening of the skin (post-inflammatory hyperpigmentation), more likely in darker skin; "
            "melasma getting worse (rebound); burns or blisters; infection; a cold-sore outbreak if you have had "
            "cold sores before; reactions to products; and, rarely, scarring.",
            "Who must not have it. RF must not be used if you have a pacemaker, defibrillator (ICD) or other "
            "implanted electronic device, or metal implants or gold threads in the face, because heat and "
            "current can concentrate there. People who are pregnant or breastfeeding, have an active skin "
            "infection or cold sore, or have recently taken isotretinoin should not be treated, or only after "
            "discussion.",
            COMMON_RELAPSE,
            COMMON_ALTERNATIVES,
            COMMON_DUTIES,
            "I have read this information, had the chance to ask questions, and agree to a course of RF "
            "microneedling. I understand I can change my mind at any time before a session.",
        ],
    ),
    "exosome": (
        "Consent to the use of an exosome product on the skin",
        [
            "What exosomes are. Exosomes are tiny particles released by cells. The product used in your "
            "treatment comes from cells grown in a laboratory (for example human stem cells from fat tissue, or "
            "plant cells such as rose stem cells). It is spread on the skin during or right after the energy "
            "treatment. It is never injected.",
            "Not an approved medicine. No exosome product is approved by the US Food and Drug Administration "
            "(FDA) or any comparable regulator to treat melasma or any other condition. The FDA has warned the "
            "public about unapproved exosome products after serious side effects when they were injected. Using "
            "a product on the skin is considered a cosmetic use, and the evidence that it helps melasma comes "
            "from a small number of small studies of low quality. Products also vary from batch to batch.",
            "Risks. Redness, irritation or an allergic reaction; lumps or nodules in the skin (granulomas) that "
            "can appear days to weeks later and can be hard to treat; infection. Injecting such products has "
            "caused skin death and inflamed blood vessels, which is why we only apply them to the skin. Tell us "
            "about any allergies.",
            "Traceability. We record the product, its batch (lot) number and expiry date at every session, so "
            "that any reaction can be traced and reported, and you can be contacted if a batch is recalled. "
            "Serious reactions are reported to the authorities as the law requires.",
            "Alternatives. The energy treatment can be done without an exosome product, with a plain sterile "
            "serum, or you can choose the other options listed in the treatment consent.",
            "I understand that the exosome product is not an approved medicine, that its benefit is uncertain, "
            "and the risks above. I have had the chance to ask questions and agree to its use on my skin during "
            "my course. I can withdraw this consent at any time.",
        ],
    ),
}


def publish_version_1(apps, schema_editor):
    ConsentText = apps.get_model("plans", "ConsentText")
    for kind, (title, paragraphs) in TEXTS.items():
        if not ConsentText.objects.filter(kind=kind).exists():
            ConsentText.objects.create(kind=kind, version=1, title=title, body="\n\n".join(paragraphs))


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0004_scheduling_no_double_booking"),
    ]

    operations = [
        migrations.RunPython(publish_version_1, migrations.RunPython.noop),
    ]
