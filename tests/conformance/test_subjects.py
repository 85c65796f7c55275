"""A measurement's subject is stored by key: reports, figures and diffs read the keys and
never parse the text, so any label or part reads back as it was measured."""

from conformance.subjects import Subject, as_subject
from reports.build import device_key
from reports.pytest_results import _measurement
from reports.results import Measurement


def test_a_device_subject_round_trips_through_results_json():
    rear = Subject("DVR-CAR 7", "F3DVR00A1R", "rear")  # a label with a space: no parser could split it
    m = _measurement("CHN-001", rear, "records", True, "", True, "==", "pass", "")
    assert m.subject == "DVR-CAR 7 F3DVR00A1R rear" and m.device == {"label": "DVR-CAR 7", "serial": "F3DVR00A1R", "part": "rear"}
    back = Measurement(**m.__dict__)
    assert back.who == rear and back.who.key == "DVR-CAR 7 rear" == device_key(m.__dict__)


def test_a_subject_that_is_not_a_device_has_no_keys():
    m = _measurement("ACT-001", "sweep 24-30 ft (near the limit)", "activation rate", 0.98, "", 0.95, ">=", "pass", "")
    assert m.device is None and not m.who.device and device_key(m.__dict__) == "sweep 24-30 ft (near the limit)"
    assert as_subject(Subject("BWC-A", "X6BWC00A1")).of("front").key == "BWC-A front"
