"""Waiting for observations on a Clock: fired, timed out, cancelled, failed."""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from csta_connector.waiting import Observations, WaitTimeout


def outcome(d):
    results = []
    d.addBoth(results.append)
    return results


def test_a_wait_fires_when_the_predicate_holds_and_leaves_no_timer():
    clock = Clock()
    seen = Observations(clock)
    got = outcome(seen.wait_for(lambda items: len(items) >= 2, 5.0))
    seen.add("a")
    assert got == [] and seen.waiting == 1
    seen.add("b")
    assert got == [["a", "b"]]
    assert seen.waiting == 0 and clock.getDelayedCalls() == []


def test_a_wait_already_met_fires_at_once():
    seen = Observations(Clock())
    seen.add(1)
    assert outcome(seen.wait_for(bool)) == [[1]]


def test_a_wait_times_out_with_what_it_waited_for():
    clock = Clock()
    seen = Observations(clock)
    seen.add("x")
    got = outcome(seen.wait_for(lambda items: "y" in items, 2.0, "y"))
    clock.advance(1.9)
    assert got == []
    clock.advance(0.2)
    assert got[0].check(WaitTimeout)
    assert str(got[0].value).startswith("timed out waiting for y; have 1 items")
    assert seen.waiting == 0 and clock.getDelayedCalls() == []


def test_a_cancelled_wait_is_forgotten_with_its_timer():
    clock = Clock()
    seen = Observations(clock)
    d = seen.wait_for(lambda items: False, 5.0)
    forever = seen.wait_for(lambda items: False, None)
    assert len(clock.getDelayedCalls()) == 1  # no timeout, no timer
    got = outcome(d)
    d.cancel()
    assert got[0].check(defer.CancelledError)
    assert seen.waiting == 1 and clock.getDelayedCalls() == []
    forever.cancel()
    outcome(forever)
    assert seen.waiting == 0
    seen.add("later")  # nobody is told
    assert seen.items == ["later"]


def test_fail_fails_the_waiters_and_every_later_wait_not_already_met():
    clock = Clock()
    seen = Observations(clock)
    seen.add("first")
    pending = outcome(seen.wait_for(lambda items: len(items) > 1, 5.0))
    seen.fail(ConnectionError("gone"))
    assert pending[0].check(ConnectionError)
    assert clock.getDelayedCalls() == []
    assert outcome(seen.wait_for(lambda items: len(items) > 1))[0].check(ConnectionError)
    assert outcome(seen.wait_for(lambda items: "first" in items)) == [["first"]]


def test_the_testing_names_are_the_product_ones():
    from csta_connector import testing

    assert testing.Waitable is Observations and testing.WaitTimeout is WaitTimeout
    with pytest.raises(WaitTimeout):
        raise testing.WaitTimeout("x")
