"""An agency's own check, written against the harness's fixtures (``incident``, ``measure``)
and a requirement of its own catalogue (agency-requirements.yaml). Run it with the suite:

    bwc run --catalogue agency-requirements.yaml --tests .

or with pytest in any project where the harness is installed:

    pytest --pyargs conformance . --bwc-catalogue agency-requirements.yaml
"""

import pytest

from conformance.incident_view import activated_cameras


@pytest.mark.requirement("AGY-001")
def test_agy001_clips_name_the_weapon(incident, measure):
    for a in activated_cameras(measure, incident, fact="names the weapon"):
        named = a.clip.metadata.get("trigger_sender_serial")
        measure.expect(a.who, f"clip names the CEW that started it ({incident.stimulus_serial})", named == incident.stimulus_serial,
                       note="" if named == incident.stimulus_serial else f"metadata names {named!r}")
