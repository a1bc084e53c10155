"""Renewal over Xsi (issue 13): every subscription refreshed by its
UpdateSubscriptionRequest (``PUT .../subscription/{id}`` on an Xsi link), the
CallSubscriptionEvent it causes synchronizing the model without a CSTA event;
each channel renewed at half its life (``PUT .../channel/{id}``) and still
carrying events. Over an xsi link and over a cti+xsi channel set."""

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor

from csta_connector import lms
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.testing import free_port_config, running_connector, until


@pytest.fixture(params=[("xsi",), ("cti", "xsi")], ids=["xsi", "cti+xsi"])
def renewing(request):
    """The embedded connector renewing each subscription every 0.3 s."""
    config = free_port_config(protocols=request.param)
    config = dataclasses.replace(config, connector=dataclasses.replace(
        config.connector, subscription_renew_interval=0.3, subscription_renew_jitter=0))
    service = pytest_twisted.blockon(running_connector(reactor, config))
    yield service
    pytest_twisted.blockon(service.stopService())


def lines_of(lms_lines, message):
    return [e for e in lms_lines if e["lms_id"] == message.id]


@pytest_twisted.inlineCallbacks
def test_subscriptions_and_channels_are_renewed(renewing, lms_lines):
    connector = renewing
    client = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
    for device in ("2001", "2002"):
        yield client.request(m.MonitorStart(device=device))
    yield connector.control.place_call("2001", "2002")
    yield connector.control.user_action("2002", "answer")
    yield client.events.wait_for(
        lambda events: sum(isinstance(e, m.EstablishedEvent) for e in events) == 2, what="established")
    events_before = len(client.events.items)
    updates_before = connector.core.subscriptions.update_requests

    # each subscription renewed (twice), its event synchronizing quietly
    yield until(reactor, lambda: connector.core.subscriptions.update_requests >= updates_before + 4,
                5, "two renewals of both subscriptions")
    renewed = {e["user"] for e in lines_of(lms_lines, lms.SUBSCRIPTION_RENEWED)}
    assert renewed == {"2001@example.com", "2002@example.com"}
    assert sorted((p.device, p.state) for p in connector.core.model.parties_of("2001")) == [
        ("2001", "connected")]
    assert len(client.events.items) == events_before  # nothing changed: nothing sent
    assert not lines_of(lms_lines, lms.SNAPSHOT_TIMED_OUT)

    # every channel renewed early (its half life: 1 s), and still carrying the events
    for link in connector.channel_set.up_links:
        link.renewal.stop()
        link.renewal.schedule("2")
    yield until(reactor, lambda: len(lines_of(lms_lines, lms.CHANNEL_RENEWED)) >= connector.channel_set.total_links,
                5, "every channel renewed")
    renewed = {e["link"]: e["channel_id"] for e in lines_of(lms_lines, lms.CHANNEL_RENEWED)}
    assert renewed == {link.settings.name: link.channel_id for link in connector.channel_set.up_links}
    assert len(connector.channel_set.up_links) == connector.channel_set.total_links
    yield connector.control.user_action("2001", "release")
    yield client.events.wait_for(lambda events: len(events) >= events_before + 3, what="released")
    assert [type(e).__name__ for e in client.events.items[events_before:]] == [
        "ConnectionClearedEvent", "ConnectionClearedEvent", "CallClearedEvent"]
    assert len(connector.core.model) == 0
    client.transport.loseConnection()
