"""The services core on a Clock: repairs after sequence gaps and recovered links,
system status toward clients."""

from twisted.internet.task import Clock

from csta_connector.broadworks.ordering import SequenceGap
from csta_connector.services.core import ConnectorCore
from csta_connector.testing import ScriptedClient, snapshot_event


def core_with(users):
    clock = Clock()
    client = ScriptedClient(default_domain="example.com")
    core = ConnectorCore(client, clock)
    for i, user in enumerate(users):
        core.subscriptions.acquire(user)
        client.answer(len(client.requests) - 1, "sub-%d" % i)
        core.broadworks_event(snapshot_event("sub-%d" % i, "initial-%d" % i))
    return clock, client, core


def test_a_sequence_gap_refreshes_that_subscription_only():
    clock, client, core = core_with(["2001@example.com", "2002@example.com"])
    before = len(client.requests)
    core.broadworks_sequence_gap(SequenceGap("sub-1", 4, 9))
    assert client.names()[before:] == [("update", "sub-1")]


def test_a_gap_on_an_unknown_subscription_is_only_logged():
    clock, client, core = core_with(["2001@example.com"])
    before = len(client.requests)
    core.broadworks_sequence_gap(SequenceGap("nope", 4, 9))
    assert len(client.requests) == before


def test_a_recovered_link_refreshes_every_subscription():
    clock, client, core = core_with(["2001@example.com", "2002@example.com", "2003@example.com"])
    before = len(client.requests)
    core.broadworks_link_recovered("link-a")
    assert sorted(client.names()[before:]) == [("update", "sub-0"), ("update", "sub-1"), ("update", "sub-2")]


def test_system_status_follows_the_links_until_the_core_stops():
    clock, client, core = core_with([])
    told = []
    core.status.add_observer(told.append)
    assert core.status.status == "disabled"  # no link up yet
    core.broadworks_link_state(1, 2)
    core.broadworks_link_state(2, 2)  # still normal: no news
    core.broadworks_link_state(0, 2)
    core.broadworks_link_state(2, 2)
    core.stop()
    core.broadworks_link_state(0, 2)  # links closed by the stop itself
    assert told == ["normal", "disabled", "normal"]
    assert core.status.status == "normal"


def test_a_snapshot_cut_short_by_monitor_stop_is_a_clean_csta_error():
    from csta_connector.csta import messages as m
    from csta_connector.csta.server import CSTARequestError

    clock, client, core = core_with([])

    class Session:
        name, state, wire = "client", "running", None

        def write(self, data):
            pass

    session = Session()
    started = []
    core.handle(session, m.MonitorStart(device="2001")).addCallback(started.append)
    client.answer(0, "sub-0")
    core.broadworks_event(snapshot_event("sub-0", "initial"))
    failures = []
    core.handle(session, m.SnapshotDevice(device="2001")).addErrback(failures.append)
    core.handle(session, m.MonitorStop(cross_ref_id=started[0].cross_ref_id))
    assert failures[0].check(CSTARequestError)
    assert failures[0].value.error.category == "systemResourceAvailability"


def test_every_event_is_counted_once_and_one_of_no_subscription_goes_no_further():
    from csta_connector.broadworks import xsi
    from csta_connector.testing import ALERTING

    clock, client, core = core_with(["2001@example.com"])
    received = xsi.SubscriptionEvent("CallReceivedEvent", "e1", 2, "admin", "app", "sub-0", "ch", None,
                                     call=ALERTING)
    core.broadworks_event(received)
    core.broadworks_event(received._replace(event_id="e2", subscription_id="nobody's"))
    assert core.counts.received == {"CallSubscriptionEvent": 1, "CallReceivedEvent": 2}
    assert [p.party_id for p in core.model.parties_of("2001")] == [ALERTING.call_id]
    assert core.model.devices() == ("2001",)


def test_a_snapshot_is_answered_once_the_model_is_synchronized():
    from csta_connector.testing import ALERTING

    clock, client, core = core_with(["2001@example.com"])
    seen = []
    d = core.subscriptions.snapshot("2001@example.com", requester="A")
    d.addCallback(lambda event: seen.append((event.event_id, core.model.parties_of("2001"))))
    client.answer(-1)
    core.broadworks_event(snapshot_event("sub-0", "snap")._replace(calls=(ALERTING,)))
    ((event_id, parties),) = seen
    assert event_id == "snap" and [p.party_id for p in parties] == [ALERTING.call_id]
    assert core.stats["synchronizations"] == 2  # the initial event and this one
