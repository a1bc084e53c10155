"""Shared fixtures and suite rules: the BroadWorks schema validator, unhandled
Deferred errors failing tests, the Hypothesis profiles."""

import gc
import importlib.machinery
import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from twisted.internet import defer
from twisted.logger import globalLogPublisher

SHARED = Path(os.environ.get("CSTA_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
BW_VALIDATE = SHARED / "tools" / "bw-validate"

# Under CI a missing tool is a broken set-up, not a reason to test less.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

# ci: the same examples on every run (a failure there is reproducible, never
# luck), no example database, no deadline on a loaded runner. dev: random
# examples, but no deadline either: a shared 2-core machine is not a timing
# test. HYPOTHESIS_PROFILE picks one by name.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _load_validator():
    loader = importlib.machinery.SourceFileLoader("bw_validate", str(BW_VALIDATE))
    spec = importlib.util.spec_from_loader("bw_validate", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


_validator = None


@pytest.fixture(scope="session")
def bw_validator():
    """A function(bytes) -> list of schema errors (the %placeholder% anyURI quirk tolerated)."""
    global _validator
    if not BW_VALIDATE.exists():
        if IN_CI:
            pytest.fail(
                "%s is absent and CI is set: the BroadWorks schema checks cannot run "
                "(check out ../shared beside the project, or set CSTA_SHARED)" % BW_VALIDATE,
                pytrace=False,
            )
        pytest.skip("../shared/tools/bw-validate is absent: BroadWorks schema checks skipped")
    if _validator is None:
        _validator = _load_validator()

    def validate(document: bytes):
        return [e for e in _validator.validate_bytes(document) if "anyURI" not in str(e)]

    return validate


# "Unhandled error in Deferred" is logged by DebugInfo.__del__, and only by a
# DebugInfo whose failResult was set: Twisted stores it when a Deferred's
# callback chain ends holding a Failure. Noting each such store tells whether a
# test can have left one behind in a reference cycle, the only case a
# gc.collect() is needed to hear of it before the test ends. A test that never
# leaves a Deferred failed (every pure codec test) skips the collection, which
# is most of the cost of the pure unit tests.


class _FailureWatch:
    stored = 0  # failures stored in a DebugInfo, ever


class _WatchedDebugInfo(defer.DebugInfo):
    _fail_result = None

    @property
    def failResult(self):
        return self._fail_result

    @failResult.setter
    def failResult(self, failure):
        if failure is not None:
            _FailureWatch.stored += 1
        self._fail_result = failure


def _watch_failures() -> bool:
    """Install the watch; False when this Twisted stores failures some other
    way (then every test collects, as before)."""
    defer.DebugInfo = _WatchedDebugInfo
    before = _FailureWatch.stored
    probe = defer.fail(RuntimeError("probe of the unhandled-failure watch"))
    watched = _FailureWatch.stored > before
    probe.addErrback(lambda failure: None)
    return watched


_FAILURES_WATCHED = _watch_failures()


@pytest.fixture(autouse=True)
def fail_on_unhandled_deferred_errors():
    """Unhandled errors in Deferreds fail the test, as they do under trial."""
    errors = []

    def observer(event):
        # DebugInfo.__del__ logs two events: the "Unhandled error in Deferred:"
        # line (no failure), then the failure itself, the only event anywhere
        # logged with a debugInfo key.
        if event.get("log_failure") is not None and "debugInfo" in event:
            errors.append(event)

    stored_before = _FailureWatch.stored
    globalLogPublisher.addObserver(observer)
    yield
    if not _FAILURES_WATCHED or _FailureWatch.stored != stored_before:
        gc.collect()
    globalLogPublisher.removeObserver(observer)
    if errors:
        pytest.fail(
            "Unhandled error in Deferred: %s" % errors[0]["log_failure"].getTraceback()
        )


@pytest.fixture
def lms_lines():
    """The LMS events logged during the test (dicts), newest last."""
    captured = []

    def observer(event):
        if "lms_id" in event:
            captured.append(event)

    globalLogPublisher.addObserver(observer)
    yield captured
    globalLogPublisher.removeObserver(observer)
