"""Top-level conftest: the harness's pytest plugins (targets, measurements, results)."""

pytest_plugins = ["reports.pytest_results", "conformance.plugin"]
