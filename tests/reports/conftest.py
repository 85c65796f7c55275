"""The real runs the report tests use (reference_run, short_buffer_run, reference_copy, test_key)
live in tests/conftest.py, shared with the suite's own tests."""

from tests.conftest import COVER, REPO, Run, TestKey, bwc  # noqa: F401  (re-exported for the report tests)
