"""Shared fixtures: the BroadWorks schema validator, and unhandled Deferred errors failing tests."""

import gc
import importlib.machinery
import importlib.util
import os
from pathlib import Path

import pytest
from twisted.logger import globalLogPublisher

SHARED = Path(os.environ.get("CSTA_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
BW_VALIDATE = SHARED / "tools" / "bw-validate"


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
        pytest.skip("../shared/tools/bw-validate is absent: BroadWorks schema checks skipped")
    if _validator is None:
        _validator = _load_validator()

    def validate(document: bytes):
        return [e for e in _validator.validate_bytes(document) if "anyURI" not in str(e)]

    return validate


@pytest.fixture(autouse=True)
def fail_on_unhandled_deferred_errors():
    """Unhandled errors in Deferreds fail the test, as they do under trial."""
    errors = []

    def observer(event):
        if event.get("log_failure") is not None and "Unhandled error in Deferred" in str(
            event.get("log_format", "")
        ):
            errors.append(event)

    globalLogPublisher.addObserver(observer)
    yield
    gc.collect()
    globalLogPublisher.removeObserver(observer)
    if errors:
        pytest.fail(
            "Unhandled error in Deferred: %s" % errors[0]["log_failure"].getTraceback()
        )
