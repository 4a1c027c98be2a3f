"""Seed a large clinic for the benchmark, fast: bulk_create in chunks, no per-row save, no history rows.

    DATABASE_URL=postgres://... DEBUG=0 SECRET_KEY=... python bench/seed.py --patients 10000

The database must be migrated and empty (bench/run.py drops, creates and migrates it first). What is made:

- staff: 8 clinicians (one per room and day), 3 front desk, 1 manager; working hours Mon–Sat;
- 8 rooms, one device per modality per room, 3 exosome products with a lot every 60 days;
- N patients, one 4-session course each (N plans, 4N sessions), start dates spread over the clinic's history so
  the day calendar holds ~40–80 appointments per working day whatever N (at least a year of history):
  past courses completed (some stopped), courses under way active, future ones active and booked or draft;
- every session that is (or was) booked has an appointment in a room with a clinician and a device, never two at
  once in the same room, with the same clinician or on the same device; completed sessions carry device settings,
  an exosome lot and an mMASI assessment (plus a baseline per course); consents, adjuncts and a few adverse
  events (recent ones still open);
- one "showcase" patient (MRN SHOWCASE_MRN, "Amelia Smith") with the same shape at every size: a completed
  course a year ago and an active one with two sessions done, one on the calendar day and one after it. The
  benchmark measures her pages, so page content — and the query count — is comparable between sizes.

The calendar day is today when the clinic is open (Mon–Sat), otherwise the next working day.
Deterministic: a fixed random seed, and dates relative to today.
"""

import argparse
import datetime as dt
import functools
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

SHOWCASE_MRN = "BENCH-SHOWCASE"
SEED = 20261122
ROOMS = 8
CLINICIANS = 8
FRONT_DESK = 3
DAY_START_HOUR = 8
SLOTS_PER_ROOM = 12  # 08:00–20:00, one hour per session
APPOINTMENTS_PER_DAY = 60  # target density on a working day
CLOSED_WEEKDAYS = {6}  # Sunday
INTERVAL = 28
SESSIONS = 4
CHUNK = 5000
BATCH = 2000
PASSWORD = "bench-clinic-not-secret"
# The append-only triggers (clinic/appendonly.py) Seeder.backdate() sets aside, by name, to give seeded rows the
# times a real clinic would have; no other seeding step rewrites a clinical row.
BACKDATE_SETS_ASIDE = ("plans.AdverseEvent:append_only_no_update", "plans.Assessment:append_only_no_update")

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Mia Sophia Grace Lily Freya Emily Ivy Ella Rosie Evie Florence Poppy Charlotte Willow "
    "Isabella Sophie Daisy Sienna Matilda Elsie Harper Ruby Aria Alice Evelyn Phoebe Layla Maya Luna Zara Amara "
    "Priya Aisha Fatima Mariam Noor Yasmin Leila Mei Hana Yuki Sakura Ananya Diya Kavya Lucia Carmen Elena Sofia "
    "Chloe Hannah Jessica Laura Rebecca Sarah Emma Katie Megan Lauren Holly Amy Rachel Naomi Adaeze Chiamaka "
    "James Oliver Omar Daniel Arjun Mohammed Leo Samuel"
).split()
# Surnames with rough UK frequency weights, so a search for "smi" finds ~1–2 % of patients.
LAST_NAMES = [
    ("Smith", 30), ("Jones", 22), ("Williams", 16), ("Taylor", 15), ("Brown", 14), ("Davies", 12), ("Evans", 10),
    ("Wilson", 10), ("Thomas", 10), ("Johnson", 9), ("Roberts", 9), ("Robinson", 8), ("Thompson", 8),
    ("Wright", 8), ("Walker", 8), ("White", 8), ("Edwards", 7), ("Hughes", 7), ("Green", 7), ("Hall", 7),
    ("Lewis", 7), ("Harris", 7), ("Clarke", 7), ("Patel", 7), ("Jackson", 6), ("Wood", 6), ("Turner", 6),
    ("Martin", 6), ("Cooper", 6), ("Hill", 6), ("Ward", 6), ("Morris", 6), ("Moore", 6), ("Clark", 6),
    ("Lee", 6), ("King", 6), ("Baker", 6), ("Harrison", 5), ("Morgan", 5), ("Allen", 5), ("James", 5),
    ("Scott", 5), ("Phillips", 5), ("Watson", 5), ("Davis", 5), ("Parker", 5), ("Price", 5), ("Bennett", 5),
    ("Young", 5), ("Griffiths", 5), ("Mitchell", 5), ("Kelly", 5), ("Cook", 5), ("Carter", 5), ("Richardson", 5),
    ("Bailey", 4), ("Collins", 4), ("Bell", 4), ("Shaw", 4), ("Murphy", 4), ("Miller", 4), ("Cox", 4),
    ("Richards", 4), ("Khan", 4), ("Marshall", 4), ("Anderson", 4), ("Simpson", 4), ("Ellis", 4), ("Adams", 4),
    ("Singh", 4), ("Begum", 4), ("Wilkinson", 4), ("Foster", 4), ("Chapman", 4), ("Powell", 4), ("Webb", 4),
    ("Rogers", 4), ("Gray", 4), ("Mason", 4), ("Ali", 4), ("Hunt", 4), ("Hussain", 4), ("Campbell", 4),
    ("Matthews", 3), ("Owen", 3), ("Palmer", 3), ("Holmes", 3), ("Mills", 3), ("Barnes", 3), ("Knight", 3),
    ("Lloyd", 3), ("Butler", 3), ("Russell", 3), ("Barker", 3), ("Fisher", 3), ("Stevens", 3), ("Jenkins", 3),
    ("Murray", 3), ("Dixon", 3), ("Harvey", 3), ("Graham", 3), ("Pearson", 3), ("Ahmed", 3), ("Fletcher", 3),
    ("Walsh", 3), ("Kaur", 3), ("Gibson", 3), ("Howard", 3), ("Andrews", 3), ("Stewart", 3), ("Elliott", 3),
    ("Reynolds", 3), ("Saunders", 3), ("Payne", 3), ("Fox", 3), ("Ford", 3), ("Pearce", 3), ("Day", 3),
    ("Brooks", 3), ("West", 3), ("Lawrence", 3), ("Cole", 3), ("Atkinson", 3), ("Bradley", 3), ("Spencer", 3),
    ("Gill", 3), ("Dawson", 3), ("Ball", 3), ("Burton", 3), ("O'Brien", 3), ("Watts", 3), ("Rose", 3),
    ("Booth", 3), ("Perry", 3), ("Ryan", 3), ("Grant", 3), ("Wells", 3), ("Armstrong", 3), ("Francis", 3),
    ("Rees", 3), ("Hayes", 3), ("Hart", 3), ("Hudson", 3), ("Newman", 3), ("Barrett", 3), ("Webster", 3),
    ("Hunter", 3), ("Gregory", 3), ("Carr", 3), ("Lowe", 3), ("Page", 3), ("Marsh", 3), ("Riley", 3),
    ("Dunn", 3), ("Woods", 3), ("Parsons", 3), ("Berry", 3), ("Stone", 3), ("Reid", 3), ("Holland", 3),
    ("Nguyen", 2), ("Okafor", 2), ("Adeyemi", 2), ("Kowalski", 2), ("Novak", 2), ("Rossi", 2), ("Garcia", 2),
    ("Fernandes", 2), ("Chen", 2), ("Wang", 2), ("Kim", 2), ("Tanaka", 2), ("Haddad", 2), ("Yilmaz", 2),
    ("Smithson", 1), ("Smythe", 1),
]

MODALITY_DEVICES = {  # device name shown on the plan and each session
    "microneedling": "Dermapen 4",
    "nafl": "Fraxel 1927",
    "rf_microneedling": "Potenza",
}
MODALITY_WEIGHTS = [("microneedling", 5), ("nafl", 3), ("rf_microneedling", 2)]
ADJUNCT_CHOICES = [  # (agent, strength, frequency, pause_days_before)
    ("hydroquinone", "4%", "nightly", 5),
    ("txa_topical", "5%", "twice daily", 0),
    ("niacinamide", "5%", "daily", 0),
    ("tretinoin", "0.025%", "nightly", 5),
    ("azelaic_acid", "20%", "twice daily", 3),
    ("cysteamine", "5%", "daily (15 min)", 3),
]
PRODUCTS = [
    ("ExoRenew Lyo", "Dermagen Labs", "msc_adipose", "lyophilized", "Store at 2–8 °C; use within 4 h of reconstitution"),
    ("CordaSome", "Umbra Bio", "msc_umbilical", "frozen", "Store at −20 °C; thaw once, use within 1 h"),
    ("RoseStem Exo", "Floralis", "plant", "lyophilized", "Store below 25 °C; use within 24 h of reconstitution"),
]
LOT_EVERY_DAYS = 60
AE_CHOICES = [("erythema", 1), ("edema", 1), ("pih", 2), ("acneiform", 1), ("hsv_reactivation", 2), ("pain", 1)]
AE_RATE = 0.006  # adverse events per completed session


def calendar_day(today: dt.date) -> dt.date:
    """The day whose calendar the benchmark shows: today if the clinic is open, else the next working day."""
    day = today
    while day.weekday() in CLOSED_WEEKDAYS:
        day += dt.timedelta(days=1)
    return day


class Seeder:
    def __init__(self, patients: int, *, today: dt.date | None = None, out=sys.stdout):
        from django.conf import settings
        from django.utils import timezone

        self.n = patients
        self.rng = random.Random(SEED)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.today = today or timezone.localdate()
        self.cal_day = calendar_day(self.today)
        self.out = out
        # History long enough that each working day holds ~APPOINTMENTS_PER_DAY sessions, and at least a year.
        working_share = (7 - len(CLOSED_WEEKDAYS)) / 7
        self.span = max(365, int(SESSIONS * patients / APPOINTMENTS_PER_DAY / working_share))
        self.first_start = self.cal_day - dt.timedelta(days=self.span - 28)
        self.slots: dict[dt.date, list] = {}
        self.counts = defaultdict(int)
        self.last_names = [n for n, _ in LAST_NAMES]
        self.last_weights = [w for _, w in LAST_NAMES]
        self.modalities = [m for m, _ in MODALITY_WEIGHTS]
        self.modality_weights = [w for _, w in MODALITY_WEIGHTS]

    def log(self, message):
        print(message, file=self.out, flush=True)

    # ------------------------------------------------------------------ reference data
    def reference_data(self):
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group, User

        from plans import models as pm

        password = make_password(PASSWORD)  # hashed once for every account
        groups = {g.name: g for g in Group.objects.all()}
        missing = {"clinician", "front_desk", "manager"} - set(groups)
        if missing:
            raise SystemExit(f"role groups missing ({sorted(missing)}): is the database migrated?")

        def users(prefix, count, role, first_names):
            made = User.objects.bulk_create(
                User(
                    username=f"bench_{prefix}{i + 1}", password=password, first_name=first_names[i % len(first_names)],
                    last_name=f"{prefix.title().replace('_', ' ')}{i + 1}", email=f"bench_{prefix}{i + 1}@clinic.example",
                )
                for i in range(count)
            )
            groups[role].user_set.add(*made)
            return made

        self.clinicians = users("clinician", CLINICIANS, "clinician", ["Amelia", "Daniel", "Grace", "Ravi"])
        self.front_desk = users("desk", FRONT_DESK, "front_desk", ["Sam", "Jo", "Alex"])
        self.managers = users("manager", 1, "manager", ["Priya"])
        pm.ClinicianHours.objects.bulk_create(
            pm.ClinicianHours(
                clinician=c, weekday=w, start=dt.time(DAY_START_HOUR), end=dt.time(DAY_START_HOUR + SLOTS_PER_ROOM)
            )
            for c in self.clinicians
            for w in range(7)
            if w not in CLOSED_WEEKDAYS
        )
        self.rooms = pm.Room.objects.bulk_create(pm.Room(name=f"Bench room {i + 1}") for i in range(ROOMS))
        self.devices = {}
        for modality, name in MODALITY_DEVICES.items():
            self.devices[modality] = pm.Device.objects.bulk_create(
                pm.Device(name=f"{name} #{i + 1}", modalities=[modality]) for i in range(ROOMS)
            )
        pm.AppointmentLength.objects.bulk_create(
            [pm.AppointmentLength(kind=m, minutes=60) for m in MODALITY_DEVICES]
            + [pm.AppointmentLength(kind="follow_up", minutes=30), pm.AppointmentLength(kind="consultation", minutes=30)],
            ignore_conflicts=True,
        )
        self.products = pm.ExosomeProduct.objects.bulk_create(
            pm.ExosomeProduct(name=n, manufacturer=m, source=s, storage_format=f, storage_rule=r)
            for n, m, s, f, r in PRODUCTS
        )
        self.lot_origin = self.first_start - dt.timedelta(days=120)
        lot_count = (self.cal_day + dt.timedelta(days=200) - self.lot_origin).days // LOT_EVERY_DAYS + 1
        lots = []
        for p_index, product in enumerate(self.products):
            for i in range(lot_count):
                received = self.lot_origin + dt.timedelta(days=i * LOT_EVERY_DAYS)
                lots.append(
                    pm.Lot(
                        product=product, number=f"{product.name[:3].upper()}-{received:%Y%m%d}-{p_index}",
                        expiry_date=received + dt.timedelta(days=365), received_on=received, quantity=200,
                    )
                )
        pm.Lot.objects.bulk_create(lots, batch_size=BATCH)
        self.lots = {(lot.product_id, i % lot_count): lot for i, lot in enumerate(lots)}
        self.lot_count = lot_count
        templates = []
        for modality, device in MODALITY_DEVICES.items():
            templates.append(
                pm.ProtocolTemplate(
                    name=f"Bench {device} + exosomes", modality=modality, sessions=SESSIONS, interval_days=INTERVAL,
                    device_name=device, device_settings=self.device_settings(modality, 3),
                    exosome_product=self.products[0],
                    adjuncts=[{"agent": "hydroquinone", "strength": "4%", "frequency": "nightly", "pause_days_before": 5}],
                    followup_months=[1, 3, 6],
                )
            )
        self.templates = {t.modality: t for t in pm.ProtocolTemplate.objects.bulk_create(templates)}
        existing = {t.kind: t for t in pm.ConsentText.objects.filter(version=1)}
        new_texts = [
            pm.ConsentText(
                kind=kind, version=1, title=f"Consent: {label}", created_by=self.managers[0],
                body="I understand the procedure, its expected effects, its risks (redness, swelling, pigment "
                "change, infection) and the alternatives, and I may stop at any time.",
            )
            for kind, label in pm.ConsentKind.choices
            if kind not in existing
        ]
        pm.ConsentText.objects.bulk_create(new_texts)
        self.consent_texts = {**existing, **{t.kind: t for t in new_texts}}

    @functools.lru_cache(maxsize=None)  # noqa: B019 (one Seeder per process)
    def device_settings(self, modality: str, fitzpatrick: int) -> dict:
        from plans import rules

        values = {k: v for k, v in rules.suggest_device_settings(modality, fitzpatrick).items() if k != "note"}
        if modality == "microneedling":
            depth = values.pop("needle_depth_mm", 0.5)
            values.update(zone_depths_mm={"forehead": depth, "malar": depth + 0.25, "chin": depth}, passes=3)
        elif modality == "rf_microneedling":
            values.update(needle_depth_mm=1.0, energy_level=2, passes=1)
        return values

    def lot_for(self, product, day: dt.date):
        index = max(0, min(self.lot_count - 1, (day - self.lot_origin).days // LOT_EVERY_DAYS))
        return self.lots[(product.pk, index)]

    # ------------------------------------------------------------------ scheduling
    def take_slot(self, day: dt.date, *, fixed=None):
        """A free (day, start, room index) on day or the next open day with room; rooms never double-booked."""
        while True:
            if day.weekday() in CLOSED_WEEKDAYS:
                day += dt.timedelta(days=1)
                continue
            free = self.slots.get(day)
            if free is None:
                free = [(hour, room) for hour in range(SLOTS_PER_ROOM) for room in range(ROOMS)]
                random.Random(day.toordinal()).shuffle(free)
                self.slots[day] = free
            if free:
                if fixed is not None and fixed in free:
                    free.remove(fixed)
                    hour, room = fixed
                else:
                    hour, room = free.pop()
                start = dt.datetime.combine(day, dt.time(DAY_START_HOUR + hour), tzinfo=self.tz)
                return day, start, room
            day += dt.timedelta(days=1)

    def clinician_for(self, day: dt.date, room: int):
        # A different clinician per room each day, never two rooms at once.
        return self.clinicians[(room + day.toordinal()) % CLINICIANS]

    # ------------------------------------------------------------------ people
    def make_patient(self, index: int, *, mrn=None, first=None, last=None):
        from patients.models import Patient

        rng = self.rng
        first = first or rng.choice(FIRST_NAMES)
        last = last or rng.choices(self.last_names, self.last_weights)[0]
        phone = f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
        age = rng.randint(22, 66)
        return Patient(
            mrn=mrn or f"B{index + 1:07d}",
            first_name=first,
            last_name=last,
            date_of_birth=self.today - dt.timedelta(days=age * 365 + rng.randint(0, 364)),
            sex="F" if rng.random() < 0.92 else "M",
            phone=phone,
            phone_digits="".join(ch for ch in phone if ch.isdigit()),
            email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{index}@example.com" if rng.random() < 0.9 else "",
            email_consent=rng.random() < 0.8,
            address=f"{rng.randint(1, 200)} {rng.choice(['High St', 'Church Rd', 'Mill Lane', 'Park Ave'])}, London",
            emergency_contact="",
            fitzpatrick_type=rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5, 6]),
            woods_lamp_type=rng.choice(["", "epidermal", "dermal", "mixed"]),
            melasma_onset_year=self.today.year - rng.randint(1, 15),
            trigger_pregnancy=rng.random() < 0.3,
            trigger_hormonal_contraception=rng.random() < 0.2,
            trigger_sun=rng.random() < 0.7,
            hsv_history=rng.random() < 0.12,
            screening_confirmed_at=self.now,
            screening_confirmed_by=self.clinicians[index % CLINICIANS],
        )

    # ------------------------------------------------------------------ courses
    def course(self, patient, start: dt.date, *, state_roll: float, forced_state=None):
        """A plan with its sessions (as dicts of what to create); appointments claimed in the room grid."""
        from plans.models import Plan

        rng = self.rng
        modality = rng.choices(self.modalities, self.modality_weights)[0]
        product = self.products[patient.pk % len(self.products)] if forced_state is None else self.products[0]
        fitz = patient.fitzpatrick_type or 3
        dates = [start + dt.timedelta(days=INTERVAL * k) for k in range(SESSIONS)]
        if forced_state:
            state = forced_state
        elif dates[0] > self.cal_day:
            state = "draft" if state_roll < 0.2 else "active"
        elif dates[-1] < self.today:
            state = "stopped" if state_roll < 0.08 else "completed"
        else:
            state = "active"
        stop_after = rng.randint(1, SESSIONS - 1) if state == "stopped" else SESSIONS
        creator = self.clinicians[patient.pk % CLINICIANS]
        plan = Plan(
            patient=patient, template=self.templates[modality], modality=modality,
            device_name=MODALITY_DEVICES[modality], device_settings=self.device_settings(modality, fitz),
            sessions_planned=SESSIONS, interval_days=INTERVAL, start_date=start, exosome_product=product,
            followup_months=[1, 3, 6], goals="Lighter, more even malar pigment; mMASI down by half.",
            state=state, created_by=creator,
        )
        if state != "draft":
            plan.approved_by = creator
            plan.activated_at = dt.datetime.combine(start - dt.timedelta(days=7), dt.time(10), tzinfo=self.tz)
        sessions = []
        for number, day in enumerate(dates, start=1):
            item = {"number": number, "day": day, "status": "planned", "appointment": None}
            if state == "draft" or number > stop_after:
                item["status"] = "cancelled" if state == "stopped" else "planned"
                sessions.append(item)
                continue
            fixed = (2, 0) if forced_state and day == self.cal_day else None  # showcase: 10:00 in room 1
            day, slot_start, room = self.take_slot(day, fixed=fixed)
            item["day"] = day
            if slot_start + dt.timedelta(hours=1) <= self.now:
                missed = forced_state is None and rng.random() < 0.03
                item["status"] = "missed" if missed else "completed"
                appointment_status = "no_show" if missed else "completed"
            elif slot_start <= self.now:
                appointment_status = "checked_in"
            else:
                appointment_status = "booked"
            item["appointment"] = (slot_start, room, appointment_status)
            sessions.append(item)
        if state in ("completed", "stopped"):
            last_done = [s for s in sessions if s["appointment"]][-1]["appointment"][0]
            plan.ended_at = last_done + dt.timedelta(hours=1)
            if state == "stopped":
                plan.stop_reason = rng.choice(
                    ["Patient moved away.", "Pregnancy: course stopped.", "Patient chose to stop.", "Persistent PIH."]
                )
        return plan, sessions, product, fitz

    def build_chunk(self, patients, courses_spec):
        """Create plans, sessions, appointments, assessments, adjuncts, consents and adverse events."""
        from plans import models as pm

        rng = self.rng
        built = [self.course(p, start, state_roll=roll, forced_state=forced) for p, start, roll, forced in courses_spec]
        pm.Plan.objects.bulk_create([b[0] for b in built], batch_size=BATCH)
        session_rows, appointment_rows, assessment_rows, adjunct_rows, consent_rows, ae_rows = [], [], [], [], [], []
        session_meta = []
        for plan, sessions, product, fitz in built:
            patient = plan.patient
            # Adjuncts: one to three topicals.
            for agent, strength, frequency, pause in rng.sample(ADJUNCT_CHOICES, rng.randint(1, 3)):
                adjunct_rows.append(
                    pm.PlanAdjunct(
                        plan=plan, agent=agent, strength=strength, frequency=frequency, pause_days_before=pause,
                        start_date=plan.start_date - dt.timedelta(days=14),
                    )
                )
            if plan.state != "draft":
                for kind in (plan.modality, "exosome"):
                    consent_rows.append(
                        pm.Consent(
                            plan=plan, text=self.consent_texts[kind], patient_printed_name=patient.full_name,
                            signature=patient.full_name, patient_confirms=True, witness_name="Bench Witness",
                            signed_at=plan.activated_at, clinician=plan.created_by,
                        )
                    )
                assessment_rows.append(self.assessment(plan, None, plan.start_date, "baseline", 0, plan.created_by))
            for item in sessions:
                session = pm.TreatmentSession(plan=plan, number=item["number"], status=item["status"])
                if item["status"] == "cancelled":  # the database requires the reason (closed_session_has_reason)
                    session.closed_reason = "Course stopped."
                if item["status"] == "completed":
                    slot_start, room, _ = item["appointment"]
                    clinician = self.clinician_for(item["day"], room)
                    session.performed_at = slot_start + dt.timedelta(minutes=5)
                    session.performed_by = clinician
                    session.modality = plan.modality
                    session.device_name = f"{MODALITY_DEVICES[plan.modality]} #{room + 1}"
                    session.device_settings = self.device_settings(plan.modality, fitz)
                    session.exosome_lot = self.lot_for(product, item["day"])
                    session.exosome_volume_ml = Decimal("2.00")
                    session.exosome_applied = "immediately after the device pass"
                    session.zones = "forehead, both malar areas, chin"
                    session.anaesthetic = "topical lidocaine 5%, 30 min"
                    session.notes = "Tolerated well; even erythema endpoint."
                    session.completed_at = slot_start + dt.timedelta(minutes=55)
                session_rows.append(session)
                session_meta.append((plan, item, session))
        pm.TreatmentSession.objects.bulk_create(session_rows, batch_size=BATCH)
        desk = self.front_desk
        for plan, item, session in session_meta:
            if item["appointment"] is not None:
                slot_start, room, status = item["appointment"]
                clinician = self.clinician_for(item["day"], room)
                appointment_rows.append(
                    pm.Appointment(
                        patient=plan.patient, plan=plan, session=session, kind="session", start=slot_start,
                        end=slot_start + dt.timedelta(hours=1), room=self.rooms[room],
                        device=self.devices[plan.modality][room], clinician=clinician, status=status,
                        checked_in_at=slot_start - dt.timedelta(minutes=10) if status in ("checked_in", "completed") else None,
                        created_by=desk[session.pk % len(desk)],
                    )
                )
            if item["status"] == "completed":
                assessment_rows.append(
                    self.assessment(plan, session, item["day"], "pre_session", item["number"], session.performed_by)
                )
                if rng.random() < AE_RATE:
                    ae_rows.append(self.adverse_event(plan, session, item["day"]))
        pm.Appointment.objects.bulk_create(appointment_rows, batch_size=BATCH)
        pm.Assessment.objects.bulk_create(assessment_rows, batch_size=BATCH)
        pm.PlanAdjunct.objects.bulk_create(adjunct_rows, batch_size=BATCH)
        pm.Consent.objects.bulk_create(consent_rows, batch_size=BATCH)
        pm.AdverseEvent.objects.bulk_create(ae_rows, batch_size=BATCH)
        for name, rows in [
            ("plans", built), ("sessions", session_rows), ("appointments", appointment_rows),
            ("assessments", assessment_rows), ("adjuncts", adjunct_rows), ("consents", consent_rows),
            ("adverse events", ae_rows),
        ]:
            self.counts[name] += len(rows)
        return built

    @staticmethod
    @functools.lru_cache(maxsize=None)
    def scores(components: tuple) -> tuple[Decimal, Decimal]:
        from plans import rules

        regions = {
            region: rules.RegionScore(*components[i * 3 : i * 3 + 3]) for i, region in enumerate(rules.MASI_REGIONS)
        }
        return rules.masi(regions), rules.mmasi(regions)

    def assessment(self, plan, session, day, kind, session_number, rater):
        from plans import models as pm

        rng = self.rng
        better = session_number  # pigment fades a little with each session
        components = []
        for area_max in (6, 6, 6, 6):
            area = max(0, min(area_max, rng.randint(2, 4) - better // 2))
            darkness = max(0, min(4, rng.randint(2, 3) - better // 3))
            homogeneity = max(0, min(4, rng.randint(1, 3) - better // 3))
            components += [area, darkness, homogeneity]
        components[9] = min(components[9], 2)  # chin: little
        masi, mmasi = self.scores(tuple(components))
        values = dict(zip(pm.MASI_FIELDS, components))
        extra = {}
        if kind == "baseline":
            items = [rng.randint(2, 6) for _ in range(10)]
            extra = {"melasqol_items": items, "melasqol_total": sum(items)}
        return pm.Assessment(
            patient=plan.patient, plan=plan, session=session, kind=kind, taken_on=day, rater=rater, masi=masi,
            mmasi=mmasi, **values, **extra,
        )

    def adverse_event(self, plan, session, day):
        from plans import models as pm

        rng = self.rng
        ae_type, grade = rng.choice(AE_CHOICES)
        onset = day + dt.timedelta(days=rng.randint(1, 5))
        recent = (self.today - onset).days < 30
        reviewer = self.clinicians[(session.pk + 1) % CLINICIANS]
        return pm.AdverseEvent(
            patient=plan.patient, plan=plan, session=session, ae_type=ae_type, onset_date=min(onset, self.today),
            grade=grade, serious=False, description=f"{ae_type.replace('_', ' ').capitalize()} after session {session.number}.",
            action_taken="Advised cool compresses and strict sun protection; review in one week.",
            lot=session.exosome_lot, outcome="ongoing" if recent else "resolved",
            resolved_on=None if recent else onset + dt.timedelta(days=rng.randint(3, 40)),
            reviewed_by=None if recent else reviewer,
            reviewed_at=None if recent else dt.datetime.combine(onset + dt.timedelta(days=2), dt.time(12), tzinfo=self.tz),
            recorded_by=session.performed_by,
        )

    def backdate(self):
        """auto_now_add stamped every row with the seeding time: give them the times a real clinic would have.

        Appointments were booked when their course was activated (a week before it started), so booking holds
        (topical pauses counted from the day of booking) look as they would in practice.

        Assessments and adverse events are append-only on PostgreSQL (clinic/appendonly.py): this one seeding
        step, on a bench database created moments ago, sets aside exactly the two triggers that refuse changing
        their timestamps, by name, for these statements only."""
        import pgtrigger
        from django.db import connection

        with pgtrigger.ignore(*BACKDATE_SETS_ASIDE), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE plans_plan SET created_at = COALESCE(activated_at, now()) - interval '2 days'"
            )
            cursor.execute(
                "UPDATE plans_appointment a SET created_at = LEAST(p.activated_at, a.start - interval '1 day') "
                "FROM plans_plan p WHERE a.plan_id = p.id AND p.activated_at IS NOT NULL"
            )
            cursor.execute("UPDATE plans_adverseevent SET recorded_at = onset_date + interval '1 day 10 hours'")
            cursor.execute(
                "UPDATE plans_assessment SET created_at = taken_on + interval '11 hours'"
            )

    # ------------------------------------------------------------------ main
    def showcase(self):
        """The same patient at every size: a course a year ago, and one under way with a session on the calendar day."""
        from patients.models import Patient
        from plans import models as pm

        patient = self.make_patient(0, mrn=SHOWCASE_MRN, first="Amelia", last="Smith")
        patient.fitzpatrick_type = 4
        patient.email, patient.email_consent = "amelia.smith@example.com", True
        Patient.objects.bulk_create([patient])
        old_start = self.cal_day - dt.timedelta(days=INTERVAL * 16)
        current_start = self.cal_day - dt.timedelta(days=INTERVAL * 2)
        built = self.build_chunk([patient], [(patient, old_start, 0.5, "completed"), (patient, current_start, 0.5, "active")])
        current_plan = built[1][0]
        done = pm.TreatmentSession.objects.filter(plan=current_plan, status="completed").order_by("number")
        second = done[1]
        pm.AdverseEvent.objects.bulk_create([self.adverse_event(current_plan, second, second.performed_at.date())])
        self.counts["adverse events"] += 1

    def run(self):
        from django.db import transaction

        from patients.models import Patient

        started = time.monotonic()
        with transaction.atomic():
            self.reference_data()
            self.showcase()
        self.counts["patients"] += 1
        done = 1
        while done < self.n:
            size = min(CHUNK, self.n - done)
            with transaction.atomic():
                patients = [self.make_patient(done + i) for i in range(size)]
                Patient.objects.bulk_create(patients, batch_size=BATCH)
                specs = []
                for patient in patients:
                    start = self.first_start + dt.timedelta(days=self.rng.randrange(self.span))
                    while start.weekday() in CLOSED_WEEKDAYS:  # uniform over open days; 28 days apart keeps the weekday
                        start = self.first_start + dt.timedelta(days=self.rng.randrange(self.span))
                    specs.append((patient, start, self.rng.random(), None))
                self.build_chunk(patients, specs)
            done += size
            self.counts["patients"] += size
            self.log(f"  seeded {done:,}/{self.n:,} patients ({time.monotonic() - started:.0f} s)")
        self.backdate()
        self.log(
            "  " + ", ".join(f"{v:,} {k}" for k, v in self.counts.items())
            + f"; history {self.span} days; calendar day {self.cal_day} ({time.monotonic() - started:.0f} s)"
        )
        return dict(self.counts)


def analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args(argv)
    _django.setup()
    from patients.models import Patient

    if Patient.objects.exists():
        raise SystemExit("the bench database already has patients: bench/run.py recreates it before seeding")
    Seeder(args.patients).run()
    analyze()


if __name__ == "__main__":
    main()
