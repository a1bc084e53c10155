"""The suite's own rules (tests/conftest.py), checked in a pytest of their own:
under CI a missing schema validator fails instead of skipping, Hypothesis is
derandomized, and a Deferred left failed in a reference cycle fails its test."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

RULES = '''
from hypothesis import settings
from twisted.internet import defer


def test_schema_check(bw_validator):
    pass


def test_failed_deferred_left_in_a_cycle():
    error = ValueError("lost in a cycle")
    failed = defer.fail(error)
    error.deferred = failed  # Deferred -> Failure -> error -> Deferred


def test_failed_deferred_handled():
    defer.fail(ValueError("handled")).addErrback(lambda failure: None)


def test_hypothesis_profile():
    profile = settings.default
    assert (profile.derandomize, profile.database, profile.deadline) == (True, None, None)
'''


def outcomes(tmp_path, **env):
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_rules.py").write_text(RULES)
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    environ.update(env)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "test_rules.py"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120,
    )
    found = {}  # test name -> {outcome word: summary line}; a teardown error adds ERROR
    for line in run.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR", "SKIPPED") and "::" in rest:
            found.setdefault(rest.split("::", 1)[1].split(" ", 1)[0], {})[word] = rest
    return found, run.stdout


def test_ci_rules(tmp_path):
    found, output = outcomes(tmp_path, CI="true", CSTA_SHARED=str(tmp_path / "no-shared"))
    assert {name: set(words) for name, words in found.items()} == {
        "test_schema_check": {"ERROR"},
        "test_failed_deferred_left_in_a_cycle": {"PASSED", "ERROR"},
        "test_failed_deferred_handled": {"PASSED"},
        "test_hypothesis_profile": {"PASSED"},
    }, output
    assert "CI is set" in found["test_schema_check"]["ERROR"], output
    leaked = found["test_failed_deferred_left_in_a_cycle"]["ERROR"]
    assert "Unhandled error in Deferred" in leaked and "lost in a cycle" in output, output
