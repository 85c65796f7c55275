"""pytest plugin binding the conformance suite to a target.

Options: --bwc-target virtual|BENCH.yaml, --bwc-profile NAME|FILE, --bwc-seed N, --bwc-out DIR.
``scenarios.run(name)`` plays one of conformance/scenarios.py on the target once per session
and hands every test the same IncidentRecord (a test declares the scenes it plays with
``@pytest.mark.scene(name)``: conformance/scene_groups.py); ``incident`` is the default
Hartford scene; ``profile`` is what the target declares (its capabilities and configuration).
Under pytest-xdist with ``--dist loadgroup`` one worker plays each scene, into the folder a
serial run writes (``bwc run --jobs N``)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import pytest

from conformance.catalogue import CatalogueError, use_extra_catalogues
from conformance.policy import PolicyError, active_policy, use_policy
from conformance.incident_view import chosen_clips as incident_clips
from conformance.runner import NotOnTarget, ScenarioRunner, SweepResult, sweep_summary
from conformance.scenarios import MAIN, SCENARIOS, SWEEP
from conformance.scene_groups import MARK, UndeclaredScene, claim_in, claims_folder, declared_scenes, loadgroup, mark_groups
from emulators.profiles import Profile, ProfileError
from fixtures.bench import BenchError
from fixtures.targets import BenchDriver, Target, open_target
from fixtures.targets import TargetError as OpenError
from fixtures.roles import IncidentRecord
from reports.pytest_results import RESULTS_KEY


class TargetError(Exception):
    """The target cannot be set up (bad option, missing bench file)."""


EXTRA_KEY = pytest.StashKey[list[dict]]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """looptime's own pytest plugin wraps every fixture's setup and breaks parametrized tests
    unless pytest-asyncio is installed; the harness drives looptime itself, so it takes that
    plugin out (in any project that installs the harness, not only in this repository).
    Extension catalogues (--bwc-catalogue) are merged into the built-in one here."""
    plugin = config.pluginmanager.get_plugin("looptime_plugin")
    if plugin is not None:
        config.pluginmanager.unregister(plugin)
    try:
        config.stash[EXTRA_KEY] = use_extra_catalogues(config.getoption("bwc_catalogue") or [])
    except CatalogueError as exc:
        raise pytest.UsageError(f"--bwc-catalogue: {exc}") from None
    try:
        use_policy(config.getoption("bwc_policy"))
    except PolicyError as exc:
        raise pytest.UsageError(f"--bwc-policy: {exc}") from None
    config.addinivalue_line("markers", f"{MARK}(name, ...): the conformance procedures (conformance/scenarios.py) this test plays with scenarios.run")


@pytest.hookimpl(tryfirst=True)  # before xdist turns xdist_group marks into scheduling groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A scene mark naming no procedure is a usage error; under --dist loadgroup the tests that
    share a scene go to one worker."""
    known = set(SCENARIOS) | {SWEEP.name}
    for item in items:
        unknown = sorted(declared_scenes(item) - known)
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARK}({', '.join(map(repr, unknown))}): no such procedure; procedures: {', '.join(sorted(known))}")
    if loadgroup(config):
        mark_groups(items)


CLAIMS_KEY = pytest.StashKey[str]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist, on the controller: what a worker is told
    """Under --dist loadgroup the workers write into the run's folder itself (each scene is
    one group, so one worker plays it) and claim every scene they play in a folder they share:
    a scene a second worker would play into the same folder is an error, not a clobbered clip."""
    if not loadgroup(node.config):
        return
    if CLAIMS_KEY not in node.config.stash:
        node.config.stash[CLAIMS_KEY] = tempfile.mkdtemp(prefix="bwc-scene-claims-")
    node.workerinput["bwc_claims"] = node.config.stash[CLAIMS_KEY]


def pytest_unconfigure(config: pytest.Config) -> None:
    claims = config.stash.get(CLAIMS_KEY, None)
    if claims:
        shutil.rmtree(claims, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The run's results keep the extension requirements (every plugin is configured by now)."""
    results = session.config.stash.get(RESULTS_KEY, None)
    if results is not None:
        results.catalogue_extra = session.config.stash.get(EXTRA_KEY, [])


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bwc", "body-camera conformance target")
    group.addoption("--bwc-target", default="virtual", help="'virtual' (emulators) or a bench file for physical devices")
    group.addoption("--bwc-profile", default="reference", help="emulator profile (built-in name or YAML file) for the virtual target")
    group.addoption("--bwc-seed", type=int, default=0, help="seed of the simulated RF noise")
    group.addoption("--bwc-out", default=None, help="directory for evidence, pcap and results.json")
    group.addoption("--bwc-policy", default=None, metavar="FILE",
                    help="procurement policy (schema bwc-policy/1): which attack exposures fail (default: all informative)")
    group.addoption("--bwc-catalogue", action="append", metavar="FILE", default=[],
                    help="a requirement catalogue of your own (schema bwc-requirements/2, new ids) merged with the built-in one; repeatable")


@pytest.fixture(scope="session")
def bwc_out(pytestconfig: pytest.Config) -> Path:
    out = pytestconfig.getoption("bwc_out")
    path = Path(out) if out else Path(tempfile.mkdtemp(prefix="bwc-run-"))
    worker = getattr(pytestconfig, "workerinput", {}).get("workerid")
    if worker and claims_folder(pytestconfig) is None:  # pytest-xdist (--dist load): a scene may play on every worker
        path = path / worker
    path.mkdir(parents=True, exist_ok=True)
    return path


class Procedures:
    """What the conformance tests call: the procedures on this session's target (a procedure
    the target cannot play skips the test, naming why)."""

    def __init__(self, runner: ScenarioRunner, declared: frozenset[str], test: str) -> None:
        self.runner = runner
        self.declared = declared
        self.test = test

    def _check(self, name: str) -> None:
        if name not in self.declared:
            raise UndeclaredScene(f"{self.test} plays scene {name!r} without declaring it: mark the test @pytest.mark.{MARK}({name!r})")

    def run(self, name: str) -> IncidentRecord:
        self._check(name)
        try:
            return self.runner.run(name)
        except NotOnTarget as exc:
            pytest.skip(str(exc))

    def sweep(self) -> SweepResult:
        self._check(SWEEP.name)
        try:
            return self.runner.sweep()
        except NotOnTarget as exc:
            pytest.skip(str(exc))


def _target(config: pytest.Config) -> Target:
    try:
        return open_target(config.getoption("bwc_target"), config.getoption("bwc_profile"))
    except (BenchError, ProfileError, OpenError) as exc:
        raise TargetError(f"--bwc-target: {exc}") from exc


@pytest.fixture(scope="session")
def scenario_runner(pytestconfig: pytest.Config, bwc_out: Path) -> ScenarioRunner:
    """The session's target and the procedures played on it so far."""
    target = _target(pytestconfig)
    bench = target.bench if isinstance(target, BenchDriver) else None
    results = pytestconfig.stash[RESULTS_KEY]

    def keep(name: str, record: IncidentRecord) -> None:
        summary = asdict(record)
        known = {d["serial"]: d for d in results.incident.get("devices", [])}
        known.update({d["serial"]: d for d in summary["devices"]})  # the system under test across every scenario
        if name == MAIN:
            results.incident = {**results.incident, **summary, "incident_clips": incident_clips(record)}
        else:
            results.incident.setdefault("scenarios", {})[name] = {k: summary[k] for k in ("scene", "stats", "steps", "artifacts")}
        results.incident["devices"] = list(known.values())

    claims = claims_folder(pytestconfig)
    runner = ScenarioRunner(target, bwc_out, int(pytestconfig.getoption("bwc_seed")), on_record=keep, claim=claim_in(claims) if claims else None)
    results.options = {
        "target": target.kind,
        "bench_file": str(bench.path) if bench else None,
        "profile": runner.profile.name,
        "profile_source": pytestconfig.getoption("bwc_profile"),
        "seed": runner.seed,
        "policy": active_policy().to_json(),
    }
    return runner


@pytest.fixture
def scenarios(scenario_runner: ScenarioRunner, request: pytest.FixtureRequest) -> Procedures:
    """The procedures this test declared (@pytest.mark.scene)."""
    return Procedures(scenario_runner, declared_scenes(request.node), request.node.nodeid)


@pytest.fixture(scope="session")
def profile(scenario_runner: ScenarioRunner) -> Profile:
    """What the target declares about itself (capabilities and configuration)."""
    return scenario_runner.profile


@pytest.fixture(scope="session")
def incident(scenario_runner: ScenarioRunner) -> IncidentRecord:
    return Procedures(scenario_runner, frozenset({MAIN}), "incident").run(MAIN)


@pytest.fixture(scope="session")
def sweep(scenario_runner: ScenarioRunner, pytestconfig: pytest.Config) -> SweepResult:
    result = Procedures(scenario_runner, frozenset({SWEEP.name}), "sweep").sweep()
    pytestconfig.stash[RESULTS_KEY].incident["sweep"] = sweep_summary(result)
    return result
