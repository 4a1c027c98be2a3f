"""factory-boy factories for every model, shared by tests and the demo clinic (clinic/demo.py)."""

import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone
from factory.django import DjangoModelFactory

from patients.models import Patient
from plans import models as pm


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    password = factory.django.Password("demo-clinic")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    mrn = factory.Sequence(lambda n: f"MRN{n + 100000}")
    first_name = factory.Faker("first_name_female")
    last_name = factory.Faker("last_name")
    # Up to 50: pregnancy questions apply to every factory patient (rules.could_be_pregnant stops after 55).
    date_of_birth = factory.Faker("date_of_birth", minimum_age=22, maximum_age=50)
    sex = "F"
    phone = factory.Sequence(lambda n: f"+44 7700 {n % 1000000:06d}")
    email = factory.LazyAttribute(lambda p: f"{p.first_name.lower()}.{p.last_name.lower()}@example.com")
    email_consent = True
    fitzpatrick_type = factory.Iterator([2, 3, 4, 5, 3, 4, 6, 1])
    screening_confirmed_at = factory.LazyFunction(timezone.now)


class ExosomeProductFactory(DjangoModelFactory):
    class Meta:
        model = pm.ExosomeProduct
        django_get_or_create = ("manufacturer", "name")

    name = factory.Sequence(lambda n: f"ExoRenew {n}")
    manufacturer = "Dermagen Labs"
    source = "msc_adipose"
    storage_format = "lyophilized"
    storage_rule = "Store at 2–8 °C; use within 4 h of reconstitution"


class LotFactory(DjangoModelFactory):
    class Meta:
        model = pm.Lot

    product = factory.SubFactory(ExosomeProductFactory)
    number = factory.Sequence(lambda n: f"LOT-{n:05d}")
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))
    received_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    quantity = 20


class ProtocolTemplateFactory(DjangoModelFactory):
    class Meta:
        model = pm.ProtocolTemplate
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Microneedling + exosomes {n}")
    modality = "microneedling"
    sessions = 4
    interval_days = 28
    device_name = "Dermapen 4"
    device_settings = factory.LazyFunction(lambda: {"zone_depths_mm": {"forehead": 0.5, "malar": 0.8, "chin": 0.5}, "passes": 3, "speed": 10})
    adjuncts = factory.LazyFunction(lambda: [{"agent": "hydroquinone", "strength": "4%", "frequency": "nightly", "pause_days_before": 5}])
    followup_months = factory.LazyFunction(lambda: [1, 3, 6])


class PlanFactory(DjangoModelFactory):
    class Meta:
        model = pm.Plan

    patient = factory.SubFactory(PatientFactory)
    modality = "microneedling"
    device_name = "Dermapen 4"
    device_settings = factory.LazyFunction(lambda: {"zone_depths_mm": {"forehead": 0.5, "malar": 0.8, "chin": 0.5}, "passes": 3, "speed": 10})
    sessions_planned = 4
    interval_days = 28
    start_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))
    exosome_product = factory.SubFactory(ExosomeProductFactory)
    followup_months = factory.LazyFunction(lambda: [1, 3, 6])
    created_by = factory.SubFactory(UserFactory, role="clinician")
    state = "draft"


class PlanAdjunctFactory(DjangoModelFactory):
    class Meta:
        model = pm.PlanAdjunct

    plan = factory.SubFactory(PlanFactory)
    agent = "hydroquinone"
    strength = "4%"
    frequency = "nightly"
    pause_days_before = 5


class TreatmentSessionFactory(DjangoModelFactory):
    class Meta:
        model = pm.TreatmentSession

    plan = factory.SubFactory(PlanFactory)
    number = factory.Sequence(lambda n: n + 1)


class ConsentTextFactory(DjangoModelFactory):
    class Meta:
        model = pm.ConsentText
        django_get_or_create = ("kind", "version")

    kind = "microneedling"
    version = 1
    title = factory.LazyAttribute(lambda c: f"Consent: {c.kind}")
    body = "I understand the procedure, its risks (redness, swelling, pigment change) and alternatives."


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = pm.Consent

    plan = factory.SubFactory(PlanFactory)
    text = factory.SubFactory(ConsentTextFactory)
    patient_printed_name = factory.LazyAttribute(lambda c: c.plan.patient.full_name)
    signature = factory.LazyAttribute(lambda c: c.plan.patient.full_name)
    patient_confirms = True
    witness_name = "Nurse Witness"
    signed_at = factory.LazyFunction(timezone.now)
    clinician = factory.SubFactory(UserFactory, role="clinician")


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = pm.Assessment

    patient = factory.LazyAttribute(lambda a: a.plan.patient if a.plan else PatientFactory())
    plan = None
    kind = "baseline"
    taken_on = factory.LazyFunction(timezone.localdate)
    rater = factory.SubFactory(UserFactory, role="clinician")
    forehead_area, forehead_darkness, forehead_homogeneity = 3, 2, 2
    right_malar_area, right_malar_darkness, right_malar_homogeneity = 4, 3, 2
    left_malar_area, left_malar_darkness, left_malar_homogeneity = 4, 3, 2
    chin_area, chin_darkness, chin_homogeneity = 1, 1, 1
    # 0.3*3*(2+2) + 0.3*4*(3+2) + 0.3*4*(3+2) + 0.1*1*(1+1) = 3.6+6+6+0.2 = 15.8 ; mMASI: 1.8+3.6+3.6+0.1 = 9.1
    masi = 15.8
    mmasi = 9.1


class AdverseEventFactory(DjangoModelFactory):
    class Meta:
        model = pm.AdverseEvent

    patient = factory.LazyAttribute(lambda a: a.plan.patient if a.plan else PatientFactory())
    plan = None
    ae_type = "erythema"
    onset_date = factory.LazyFunction(timezone.localdate)
    grade = 1
    description = "Redness beyond the expected 72 hours."
    recorded_by = factory.SubFactory(UserFactory, role="clinician")


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = pm.Room
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Room {n + 1}")


class DeviceFactory(DjangoModelFactory):
    class Meta:
        model = pm.Device
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Device {n + 1}")
    modalities = factory.LazyFunction(lambda: ["microneedling"])


class AppointmentFactory(DjangoModelFactory):
    class Meta:
        model = pm.Appointment

    patient = factory.SubFactory(PatientFactory)
    kind = "session"
    start = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1))
    end = factory.LazyAttribute(lambda a: a.start + dt.timedelta(minutes=60))
    room = factory.SubFactory(RoomFactory)
    clinician = factory.SubFactory(UserFactory, role="clinician")
    created_by = factory.SubFactory(UserFactory, role="front_desk")
