"""The figures draw what they claim: the 30 ft circle to scale, the limit lines where the
limit is, the sweep when the run has one (labelled), single-trial points otherwise."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from reports.figures import activation_figures, measured_vs_limit, requirement_figures
from reports.svg import Bar, MapDevice, RatePoint, incident_map, limit_bars, rate_vs_distance, timeline

NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(text: str) -> ET.Element:
    return ET.fromstring(text)


def _texts(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_map_circle_is_30_ft_to_scale_and_marks_who_recorded():
    devices = [MapDevice("BWC-A", 0, 0, "bwc", True, "+0.10 s"), MapDevice("BWC-E", 45, 0, "bwc", False),
               MapDevice("DVR-CAR-A", -70, -40, "dvr", True, "+0.10 s", "BWC-A")]
    root = _svg(incident_map(devices, [("the CEW", 0.0, 0.0)], 30.0))
    circle = next(c for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("stroke-dasharray"))
    dots = {round(float(c.get("cx")), 1): c for c in root.iter("{http://www.w3.org/2000/svg}circle") if not c.get("stroke-dasharray")}
    cx = float(circle.get("cx"))
    e = min(dots, key=lambda x: abs(x - (cx + 45 * float(circle.get("r")) / 30)))
    assert abs(e - cx) == pytest.approx(45 * float(circle.get("r")) / 30, abs=0.2), "45 ft is 1.5 radii out"
    assert dots[e].get("fill") == "#8c959f"  # BWC-E did not record: grey
    text = _texts(root)
    assert "30 ft from the CEW" in text and "BWC-E no recording" in text and "BWC-A +0.10 s" in text and "DVR-CAR-A +0.10 s" in text
    for t in root.iter("{http://www.w3.org/2000/svg}text"):  # nothing starts off the left edge
        if t.get("text-anchor") == "start":
            assert float(t.get("x")) >= 0


def test_rate_vs_distance_single_trial_vs_sweep():
    single = _svg(rate_vs_distance([RatePoint(10, 1, 1, "BWC-B"), RatePoint(45, 1, 0, "BWC-E")], range_ft=30, sweep=False))
    assert "single trial per camera" in _texts(single) and "BWC-B" in _texts(single)
    assert "every camera within 30 ft activates" in _texts(single)
    sweep_pts = [RatePoint(d, 20, a, interval=(a / 20 - 0.1, min(1.0, a / 20 + 0.1))) for d, a in ((10, 20), (25, 20), (30, 12), (35, 1))]
    sweep = _svg(rate_vs_distance(sweep_pts, range_ft=30, required_rate=0.95, sweep=True))
    assert "sweep: 20 trials per distance" in _texts(sweep) and "12/20" in _texts(sweep)
    assert "limit: ≥ 95 % within 30 ft activate" in _texts(sweep)
    assert any(p.get("d", "").count("L") == 3 for p in sweep.iter("{http://www.w3.org/2000/svg}path")), "the sweep is drawn as a line"
    limit = [line for line in sweep.iter("{http://www.w3.org/2000/svg}line") if line.get("stroke-dasharray") == "6 4"]
    x10, x35 = (float(c.get("cx")) for c in list(sweep.iter("{http://www.w3.org/2000/svg}circle"))[0:4:3])
    at_30 = list(sweep.iter("{http://www.w3.org/2000/svg}circle"))[2]
    assert at_30.get("fill") == "#cf222e", "60 % at 30 ft is below the required rate: red"
    assert float(limit[0].get("x1")) == pytest.approx(x10 + (x35 - x10) * 20 / 25, abs=0.2), "limit line at 30 ft"


def test_activation_figures_use_the_sweep_when_the_report_has_one():
    report = {"incident": {"positions": {"BWC-A": [0, 0]}, "source_position": [0, 0],
                           "sweep": [{"distance_ft": 20.0, "trials": 10, "activations": 10}, {"distance_ft": 40.0, "trials": 10, "activations": 2}]},
              "observations": [{"label": "BWC-A", "role": "bwc", "distance_ft": 0.0, "activated": True, "advert_s": 0.1, "paired_label": None}],
              "run": {"stimulus": {"stimulus_serial": "X1"}}}
    req = {"parameters": {"range_ft": 30.0}}
    captions = [f.caption for f in activation_figures(report, req)]
    assert any("Repeated-trial sweep" in c for c in captions)
    del report["incident"]["sweep"]
    assert any("Single trial per camera" in c for c in (f.caption for f in activation_figures(report, req)))


def test_limit_bars_draw_the_limit_and_fail_in_red():
    root = _svg(limit_bars([Bar("BWC-A", 20.6, "fail"), Bar("BWC-B", 30.6, "pass"), Bar("BWC-C", None, "error")],
                           limit=30.0, comparator=">=", unit="s", title="Video before activation"))
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert rects[0].get("fill") == "#cf222e" and rects[1].get("fill") == "#1a7f37"
    left = float(rects[0].get("x"))
    per_s = float(rects[0].get("width")) / 20.6
    limit = next(line for line in root.iter("{http://www.w3.org/2000/svg}line") if line.get("stroke-dasharray") == "5 3")
    assert float(limit.get("x1")) == pytest.approx(left + 30 * per_s, abs=0.3)
    assert "limit ≥ 30 s" in _texts(root) and "not measured" in _texts(root)


def test_timeline_marks_missing_recordings():
    root = _svg(timeline([{"label": "BWC-A", "start_s": -30.6, "trigger_s": 0.1, "stop_s": 15.0}, {"label": "BWC-E", "trigger_s": None}]))
    assert "BWC-E" in _texts(root) and "no recording" in _texts(root) and "CEW event" in _texts(root)


def test_requirements_of_other_scenarios_get_no_main_scene_figures():
    report = {"observations": [{"label": "BWC-A", "role": "bwc", "distance_ft": 0.0, "activated": True, "incident_clip": None}]}
    req = {"id": "PRE-002", "family": "Pre-event buffer", "verdict": "pass", "limit": 30.0, "parameters": {},
           "measurements": [{"subject": "BWC-H X1", "device": {"label": "BWC-H", "serial": "X1", "part": ""}, "name": "video before activation in a busy scene", "value": 30.1, "unit": "s",
                             "limit": 30.0, "comparator": ">=", "verdict": "pass"}]}
    figs = requirement_figures(report, req)
    assert [f.caption.split(":")[0] for f in figs] == ["Video before activation in a busy scene"]
    report["observations"][0]["serial"] = "X6BWC00A1"
    same_label = dict(req, measurements=[dict(req["measurements"][0], subject="BWC-A X6RUL00A1", device={"label": "BWC-A", "serial": "X6RUL00A1", "part": ""})])  # a scenario reusing the label
    assert len(requirement_figures(report, same_label)) == 1
    main = dict(req, family="Pre-event buffer", measurements=[dict(req["measurements"][0], subject="BWC-A X6BWC00A1", device={"label": "BWC-A", "serial": "X6BWC00A1", "part": ""})])
    assert len(requirement_figures(report, main)) == 2, "main-scene devices: timeline + bars"
    assert len(measured_vs_limit(req)) == 1
    assert re.search(r"BWC-H", figs[0].svg)


def test_bars_held_to_one_limit_share_a_chart_named_by_their_common_words():
    req = {"measurements": [
        {"subject": "BWC-A X6BWC00A1", "device": {"label": "BWC-A", "serial": "X6BWC00A1", "part": ""}, "name": "activation latency (first advert heard)", "value": 0.1, "unit": "s", "limit": 1.0, "comparator": "<=", "verdict": "pass"},
        {"subject": "BWC-X X6EVT00X1", "device": {"label": "BWC-X", "serial": "X6EVT00X1", "part": ""}, "name": "CEW_ARC activation latency (first advert heard)", "value": 1.2, "unit": "s", "limit": 1.0, "comparator": "<=", "verdict": "fail"},
        {"subject": "sweep <= 30 ft (70 trials)", "name": "activation rate, 95 % lower bound", "value": 0.96, "unit": "", "limit": 0.95, "comparator": ">=", "verdict": "pass"}]}
    figs = measured_vs_limit(req)
    assert [f.caption.split(":")[0] for f in figs] == ["Activation latency (first advert heard)", "Activation rate, 95 % lower bound"]
    text = _texts(_svg(figs[0].svg))
    assert "BWC-A" in text and "BWC-X CEW_ARC" in text and "1.2 s" in text
    root = _svg(figs[1].svg)
    label = next(t for t in root.iter("{http://www.w3.org/2000/svg}text") if "sweep" in "".join(t.itertext()))
    width = 6.8 * len("".join(label.itertext()))  # DejaVu Sans at 12 px, generous
    start = float(label.get("x")) - (width if label.get("text-anchor") == "end" else 0)
    assert start >= 0, "the label fits inside the figure"
    long = dict(req["measurements"][2], subject="a condition described at some length, more than a device label")
    text = next(t for t in _svg(measured_vs_limit({"measurements": [long]})[0].svg).iter("{http://www.w3.org/2000/svg}text") if "condition" in "".join(t.itertext()))
    assert text.get("text-anchor") == "start" and float(text.get("x")) >= 0, "a long label goes above its bar"
