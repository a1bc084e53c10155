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


def test_a_gap_on_an_unknown_subscription_refreshes_nothing():
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


def test_a_snapshot_outlives_the_monitor_stop_of_its_device():
    from csta_connector.csta import messages as m

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
    answered = []
    core.handle(session, m.SnapshotDevice(device="2001")).addCallback(answered.append)
    core.handle(session, m.MonitorStop(cross_ref_id=started[0].cross_ref_id))
    client.answer(-1)
    core.broadworks_event(snapshot_event("sub-0", "snap"))
    assert [type(r).__name__ for r in answered] == ["SnapshotDeviceResponse"]
    assert client.names()[-1] == ("unsubscribe", "sub-0")


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


def test_events_of_no_subscription_of_ours_are_one_line_per_subscription():
    from twisted.logger import globalLogPublisher

    from csta_connector import lms
    from csta_connector.broadworks import xsi
    from csta_connector.testing import ALERTING

    clock, client, core = core_with(["2001@example.com", "2002@example.com"])
    core.subscriptions.release("2002@example.com")  # sub-1 removed: its late events are expected
    lines = []
    globalLogPublisher.addObserver(lines.append)
    try:
        for n, subscription_id in enumerate(["sub-9", "sub-9", "sub-1", "sub-9", "sub-1", "sub-8"]):
            core.broadworks_event(xsi.SubscriptionEvent(
                "CallReceivedEvent", "e%d" % n, n + 2, "admin", "app", subscription_id, "ch", None,
                call=ALERTING))
        core.broadworks_event(xsi.SubscriptionEvent(
            "SubscriptionTerminatedEvent", "e-end", 1, "admin", "app", "sub-7", "ch", None))
    finally:
        globalLogPublisher.removeObserver(lines.append)
    said = [(e["lms_id"], e["subscription_id"], e.get("reason")) for e in lines if "lms_id" in e]
    assert said == [(37215, "sub-9", None), (37216, "sub-1", "removed by the connector"),
                    (37215, "sub-8", None), (37216, "sub-7", "it has ended")]
    assert core.model.devices() == ()


def test_a_gap_and_an_absurd_sequence_number_are_one_line_and_one_refresh_each():
    from twisted.logger import globalLogPublisher

    from csta_connector.broadworks import xsi
    from csta_connector.broadworks.channelset import ChannelSet

    clock, client, core = core_with(["2001@example.com"])
    channel_set = ChannelSet(clock, sink=core)
    link = object()
    lines = []
    globalLogPublisher.addObserver(lines.append)
    try:
        for n, seq in enumerate([2, 3, 7, 8, 2147483648, 10, 11, 10**23, 13, 14]):
            event = xsi.SubscriptionEvent("HookStatusEvent", "e%d" % n, seq, "admin", "app", "sub-0",
                                          "ch", None, hook_status="Off-Hook")
            gap = channel_set.ordering.check_sequence(event.subscription_id, event.sequence_number)
            if gap is not None:
                channel_set.sequence_gap(link, gap)
            channel_set.event_received(link, event)
    finally:
        globalLogPublisher.removeObserver(lines.append)
    written = [e for e in lines if e.get("log_level").name != "debug"]
    assert all("lms_id" in e for e in written)  # no line without a catalog id
    gaps = [(e["expected"], e["received"]) for e in written if e["lms_id"] == 37207]
    assert gaps == [(4, 7), (9, 2147483648), (12, 10**23)]
    resyncs = [e["cause"] for e in written if e["lms_id"] == 37221]
    assert resyncs == ["sequence gap"] * 3  # one per gap, none at the event after an absurd number


def test_snapshot_requester_events_tell_the_requester_after_its_response():
    from csta_connector.csta import framing, messages as m, wire as w, xml_codec
    from csta_connector.csta.server import RUNNING
    from csta_connector.testing import ALERTING

    class Session:
        state = RUNNING

        def __init__(self, name):
            self.name, self.wire, self.written = name, w.XmlWire(), []

        def write(self, data):
            self.written.append(data)

    def kinds(session):
        frames = framing.XmlFrameDecoder().feed(b"".join(session.written))
        return [type(xml_codec.decode(body)[0]).__name__ for _, body in frames]

    for requester_events in (False, True):
        clock = Clock()
        client = ScriptedClient(default_domain="example.com")
        core = ConnectorCore(client, clock, snapshot_requester_events=requester_events)
        asker, other = Session("asker"), Session("other")
        started = []
        for session in (asker, other):
            core.handle(session, m.MonitorStart(device="2001")).addCallback(started.append)
        client.answer(0, "sub-0")
        # the initial event lists an alerting call: the MonitorStart that opened the
        # subscription (asker's) is told only with the option, the other monitor anyway
        core.broadworks_event(snapshot_event("sub-0", "initial")._replace(calls=(ALERTING,)))
        told = ["DeliveredEvent"] if requester_events else []
        assert kinds(asker) == told
        assert kinds(other) == ["DeliveredEvent"]
        # a snapshot finds it gone: the other monitor is told; the asker only with the
        # option, and after its response (written when its Deferred fires)
        answered = []
        core.handle(asker, m.SnapshotDevice(device="2001")).addCallback(
            lambda response: answered.append(len(asker.written)) or response)
        client.answer(-1)
        core.broadworks_event(snapshot_event("sub-0", "snap"))
        assert kinds(other)[1:] == ["ConnectionClearedEvent", "CallClearedEvent"]
        assert answered == [len(told)]  # nothing more had been written to it then
        assert kinds(asker)[len(told):] == (
            ["ConnectionClearedEvent", "CallClearedEvent"] if requester_events else [])
        core.stop()


def test_an_event_that_overtakes_its_subscribe_answer_goes_through_the_event_path_once(lms_lines):
    """A call event of a subscription whose subscribe is still unanswered (an
    Xsi link: the answer and the stream travel apart) is held, then replayed:
    counted once, in the model once, and no 'unknown subscription' line."""
    from csta_connector.broadworks import xsi

    clock = Clock()
    client = ScriptedClient(default_domain="example.com")
    core = ConnectorCore(client, clock)
    core.subscriptions.acquire("2001@example.com")
    call = xsi.Call("callhalf-1:0", "1:0", "Originator", "Alerting",
                    xsi.RemoteParty(address="tel:2002"), start_time=1)
    originated = snapshot_event("sub-0", "ev-2", "CallOriginatedEvent", seq=2)._replace(
        call=call, hook_status=None, target_id="2001@example.com")
    core.broadworks_event(originated)
    assert len(core.model) == 0 and core.counts.received["CallOriginatedEvent"] == 1
    client.answer(0, "sub-0")  # the answer names the id: the event goes on
    assert [p.call_id for p in core.model.parties_of("2001")] == ["1:0"]
    assert core.counts.received["CallOriginatedEvent"] == 1
    assert not [l for l in lms_lines if l["lms_id"] in (37140, 37215, 37216)]
    core.stop()
