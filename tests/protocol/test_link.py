"""XspLinkProtocol on StringTransport + Clock: requests, timeouts, acks, keepalive."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from csta_connector.broadworks import requests, xsi, xsp
from csta_connector.broadworks.errors import BroadWorksRequestError, BroadWorksTimeout, LinkLost
from csta_connector.broadworks.link import LinkSettings
from csta_connector.testing import READER_EVENTS, Wire


def _event(event_id="ev-1", seq=1, event_type="HookStatusEvent", **data):
    data.setdefault("hook_status", "Off-Hook")
    return xsi.SubscriptionEvent(event_type, event_id, seq, "admin@example.com", "app", "sub-1", "ch-1", "2001@example.com", **data)


def test_connect_adds_the_channel_with_configured_values():
    wire = Wire()
    request = wire.add_channel()
    values = xsp.xsi_values(request.payload.body)
    assert values == {"channelSetId": "cs1", "priority": "1", "weight": "50", "expires": "3600", "applicationId": "app"}
    assert wire.link.is_up and wire.link.channel_id == "ch-1"
    assert wire.listener.calls == [("ready",)]
    assert wire.close() == []  # no timer left behind


def test_channel_refused_closes_the_link():
    wire = Wire()
    (request,) = wire.sent()
    wire.receive(xsp.Response(request.request_id, "S", 403, "Forbidden", xsp.error_info(1, "no")))
    assert wire.transport.disconnecting
    assert not wire.link.is_up
    assert wire.close() == []  # no timer left behind


def test_response_fires_the_matching_request_only():
    wire = Wire()
    wire.add_channel()
    d1 = wire.link.request(requests.update_subscription("s1", 3600))
    d2 = wire.link.request(requests.update_subscription("s2", 3600))
    r1, r2 = wire.sent()
    results = []
    d2.addCallback(results.append)
    wire.receive(xsp.Response(r2.request_id, "S", 200, "OK"))
    assert [r.request_id for r in results] == [r2.request_id]
    assert not d1.called
    wire.receive(xsp.Response(r1.request_id, "S", 200, "OK"))
    assert d1.called
    # only the link's own timers remain: keepalive and channel renewal
    assert {c.func.__name__ for c in wire.clock.getDelayedCalls()} == {"_keepalive_tick", "_renew_channel"}
    assert wire.close() == []  # no timer left behind


def test_error_response_becomes_typed_error():
    wire = Wire()
    wire.add_channel()
    d = wire.link.request(requests.hold("2001@example.com", "c1"))
    (r,) = wire.sent()
    wire.receive(xsp.Response(r.request_id, "S", 404, "Not Found", xsp.error_info(110001, "no such call")))
    failure = []
    d.addErrback(failure.append)
    error = failure[0].value
    assert isinstance(error, BroadWorksRequestError)
    assert (error.status_code, error.error_code, error.summary) == (404, 110001, "no such call")
    assert wire.close() == []  # no timer left behind


def test_request_times_out_on_the_clock():
    wire = Wire(kpl_interval=0)
    wire.add_channel()
    d = wire.link.request(requests.update_subscription("s1", 3600))
    failures = []
    d.addErrback(failures.append)
    wire.clock.advance(4.9)
    assert not failures
    wire.clock.advance(0.2)
    assert failures[0].check(BroadWorksTimeout)
    assert [c.func.__name__ for c in wire.clock.getDelayedCalls()] == ["_renew_channel"]
    # a late response is dropped, not an error
    (r,) = [doc for doc in wire.sent() if isinstance(doc, xsp.Request)]
    wire.receive(xsp.Response(r.request_id, "S", 200, "OK"))
    assert wire.close() == []  # no timer left behind


def test_cancelling_a_request_removes_it_and_its_timer():
    wire = Wire(kpl_interval=0)
    wire.add_channel()
    d = wire.link.request(requests.update_subscription("s1", 3600))
    d.addErrback(lambda f: None)
    d.cancel()
    assert [c.func.__name__ for c in wire.clock.getDelayedCalls()] == ["_renew_channel"]
    assert len(wire.link._pending) == 0
    assert wire.close() == []  # no timer left behind


def test_connection_lost_fails_all_pending_and_later_requests():
    wire = Wire()
    wire.add_channel()
    pending = [wire.link.request(requests.update_subscription("s%d" % i, 3600)) for i in range(3)]
    failures = []
    for d in pending:
        d.addErrback(failures.append)
    wire.link.connectionLost(None)
    assert [f.check(LinkLost) for f in failures] == [LinkLost] * 3
    assert wire.clock.getDelayedCalls() == []
    assert wire.listener.calls[-1] == ("lost",)
    late = []
    wire.link.request(requests.update_subscription("s", 3600)).addErrback(late.append)
    assert late[0].check(LinkLost)
    assert wire.close() == []  # no timer left behind


def test_every_event_is_acknowledged_and_delivered_once():
    wire = Wire()
    wire.add_channel()
    wire.sent()
    wire.receive(xsp.Event("E1", xsi.event_element(_event("ev-1", 1))), byte_by_byte=True)
    wire.receive(xsp.Event("E2", xsi.event_element(_event("ev-1", 1))))  # re-delivery
    wire.receive(xsp.Event("E3", xsi.event_element(_event("ev-2", 2))))
    acks = wire.sent()
    assert [(a.request_id, a.event_id, a.status_code) for a in acks] == [
        ("E1", "ev-1", 200), ("E2", "ev-1", 200), ("E3", "ev-2", 200)]
    assert [e.event_id for e in wire.listener.events()] == ["ev-1", "ev-2"]
    assert wire.close() == []  # no timer left behind


def test_sequence_gap_is_reported_before_the_event():
    wire = Wire()
    wire.add_channel()
    wire.receive(xsp.Event("E1", xsi.event_element(_event("ev-1", 1))))
    wire.receive(xsp.Event("E2", xsi.event_element(_event("ev-5", 5))))
    kinds = [c[0] for c in wire.listener.calls]
    assert kinds == ["ready", "event", "gap", "event"]
    gap = wire.listener.calls[2][1]
    assert (gap.subscription_id, gap.expected, gap.received) == ("sub-1", 2, 5)
    assert wire.close() == []  # no timer left behind


def test_channel_terminated_is_not_acknowledged_and_closes():
    wire = Wire()
    wire.add_channel()
    wire.sent()
    wire.receive(xsp.Event("E9", xsi.event_element(xsi.ChannelTerminatedEvent("ch-1", "Expired"))))
    assert wire.sent() == []
    assert wire.listener.calls[-1][0] == "terminated"
    assert wire.transport.disconnecting
    assert wire.close() == []  # no timer left behind


def test_unknown_event_types_are_acknowledged_and_skipped():
    wire = Wire()
    wire.add_channel()
    wire.sent()
    element = xsi.event_element(_event())
    element.find("{%s}eventData" % xsi.XSI_NS).set("{%s}type" % xsi.XSD_INSTANCE_NS, "xsi:CallCenterMonitoringEvent")
    wire.receive(xsp.Event("E1", element))
    assert [a.status_code for a in wire.sent()] == [200]
    assert wire.listener.events() == []
    assert wire.close() == []  # no timer left behind


def test_malformed_event_is_refused_with_400_and_the_link_stays():
    wire = Wire()
    wire.add_channel()
    wire.sent()
    element = xsi.event_element(_event())
    element.find("{%s}eventData" % xsi.XSI_NS).set("{%s}type" % xsi.XSD_INSTANCE_NS, "xsi:CallAnsweredEvent")
    wire.receive(xsp.Event("E1", element))
    assert [(a.event_id, a.status_code) for a in wire.sent()] == [("ev-1", 400)]
    wire.receive(xsp.Event("E2", xsi.event_element(_event("ev-2", 2))))
    assert [e.event_id for e in wire.listener.events()] == ["ev-2"]
    assert not wire.transport.disconnecting
    assert wire.close() == []  # no timer left behind


def test_broken_xml_document_is_dropped_and_the_link_stays():
    wire = Wire()
    wire.add_channel()
    wire.link.dataReceived(b"<xsp:event><requestId>1</requestId><oops></xsp:event>\n")
    assert not wire.transport.disconnecting
    wire.receive(xsp.Event("E2", xsi.event_element(_event("ev-2", 2))))
    assert len(wire.listener.events()) == 1
    assert wire.close() == []  # no timer left behind


def test_framing_garbage_closes_the_link():
    wire = Wire()
    wire.add_channel()
    wire.link.dataReceived(b"HTTP/1.1 200 OK\r\n")
    assert wire.transport.disconnecting
    assert wire.close() == []  # no timer left behind


@pytest.mark.parametrize("tolerance", [0, 1, 3])
def test_keepalive_tolerance(tolerance):
    wire = Wire(kpl_interval=10, kpl_tolerance=tolerance)
    wire.add_channel()
    wire.sent()
    wire.clock.advance(9)
    assert wire.sent() == []  # not idle long enough
    sent_keepalives = 0
    for tick in range(tolerance + 1):
        wire.clock.advance(10 if tick else 1)
        docs = wire.sent()
        assert [type(d) for d in docs] == [xsp.Keepalive]
        sent_keepalives += 1
        assert not wire.transport.disconnecting
    wire.clock.advance(10)
    # tolerance + 1 keepalives unanswered: the link closes
    assert wire.transport.disconnecting
    assert sent_keepalives == tolerance + 1
    assert wire.close() == []  # no timer left behind


def test_answered_keepalive_keeps_the_link():
    wire = Wire(kpl_interval=10, kpl_tolerance=0)
    wire.add_channel()
    wire.sent()
    for _ in range(5):
        wire.clock.advance(10)
        (keepalive,) = wire.sent()
        wire.receive(xsp.KeepaliveResponse(keepalive.request_id))
    assert not wire.transport.disconnecting
    assert wire.close() == []  # no timer left behind


def test_traffic_defers_keepalives():
    wire = Wire(kpl_interval=10)
    wire.add_channel()
    wire.sent()
    for i in range(5):
        wire.clock.advance(5)
        wire.receive(xsp.Event("E%d" % i, xsi.event_element(_event("ev-%d" % i, i + 1))))
    assert [type(d) for d in wire.sent()] == [xsp.EventResponse] * 5
    assert wire.close() == []  # no timer left behind


def test_channel_is_renewed_at_half_its_life():
    wire = Wire(kpl_interval=0)
    wire.add_channel()  # the XSP granted 3600 s
    wire.clock.advance(1799)
    assert wire.sent() == []
    wire.clock.advance(1)
    (renewal,) = wire.sent()
    assert renewal.payload.name == "UpdateChannelRequest"
    assert renewal.payload.param("channelId") == "ch-1"
    wire.receive(xsp.Response(renewal.request_id, "S", 200, "OK",
                              xsp.xsi_element("Channel", ("channelId", "ch-1"), ("expires", 7200))))
    wire.clock.advance(3599)
    assert wire.sent() == []
    wire.clock.advance(1)
    (again,) = wire.sent()
    wire.receive(xsp.Response(again.request_id, "S", 404, "Not Found", xsp.error_info(1, "no such channel")))
    assert wire.transport.disconnecting  # a channel that cannot be renewed: start afresh
    wire.link.connectionLost(None)
    assert wire.close() == []  # no timer left behind


# -- the one-pass reader and lxml side by side, under any TCP chunking ----------


def _mixed_stream(events):
    """Each event's document, alternately in the connector's own form (the
    one-pass reader's) and re-indented with other prefixes and a comment
    (lxml's), and the events in order."""
    from lxml import etree

    documents = []
    for i, event in enumerate(events):
        data = xsp.encode(xsp.Event("E%d" % i, xsi.event_xml(event)))
        if i % 2:
            root = etree.fromstring(data)
            data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- lxml form -->\n'
                    + etree.tostring(root, pretty_print=True).replace(b"xsi:", b"x:").replace(b"xmlns:xsi=", b"xmlns:x="))
        documents.append(data)
    return b"".join(documents)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(st.sampled_from(range(6)), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=20000), max_size=10),
)
def test_events_in_any_form_and_any_chunking_arrive_once_in_order_and_are_acknowledged(events, cuts):
    sent_events = [READER_EVENTS[i]._replace(event_id="ev-%d" % n, sequence_number=n + 1) for n, i in enumerate(events)]
    data = _mixed_stream(sent_events)
    wire = Wire()
    wire.add_channel()
    wire.sent()
    start = 0
    for cut in sorted({c % len(data) for c in cuts} - {0}) + [len(data)]:
        wire.link.dataReceived(data[start:cut])
        start = cut
    assert wire.listener.events() == sent_events
    assert [(a.request_id, a.event_id, a.status_code) for a in wire.sent()] == [
        ("E%d" % n, e.event_id, 200) for n, e in enumerate(sent_events)]
    # both readers took their share
    assert wire.link.reader.by_reader == {"one pass": (len(sent_events) + 1) // 2, "lxml": len(sent_events) // 2}
    assert wire.link.reader.failures == 0
    assert wire.close() == []  # no timer left behind


def test_link_settings_come_from_the_link_section_and_the_connector_section():
    from csta_connector.config import parse_config

    config = parse_config(
        "[Connector]\nchannel-set-name = cs-9\napplication-name = app-9\nrequest-timeout = 3\n"
        "kpl-interval = 20\n"
        "[link-a]\nhostname = xsp-a.example.com\nport = 8012\npriority = 2\n"
        "username = admin\npassword = secret\nkpl-interval = 5\n"
        "[link-b]\nhostname = xsp-b.example.com\nport = 8013\n",
        "<test>",
    )
    a, b = (LinkSettings.from_config(config, link) for link in config.links)
    assert (a.name, a.host, a.port, a.priority) == ("link-a", "xsp-a.example.com", 8012, 2)
    assert (a.channel_set_id, a.application_id, a.request_timeout) == ("cs-9", "app-9", 3)
    assert a.credentials == xsp.credentials_for("admin", "secret")
    assert (a.kpl_interval, b.kpl_interval) == (5, 20)  # a link's own value, else [Connector]'s
    assert (b.name, b.credentials) == ("link-b", None)


@pytest.mark.parametrize("url, host, port", [
    ("https://xsp1.example.net", "xsp1.example.net", 443),
    ("http://xsp1.example.net", "xsp1.example.net", 80),
    ("https://10.0.0.7:8443/prefix", "10.0.0.7", 8443),
    ("http://[2001:db8::7]:8080", "2001:db8::7", 8080),
])
def test_xsi_link_settings_take_host_and_port_from_the_url(url, host, port):
    from csta_connector.broadworks.link import LinkProtocol
    from csta_connector.config import parse_config

    config = parse_config(
        "[Connector]\nchannel-set-name = cs\n[link-x]\nprotocol = xsi\nurl = %s\n"
        "username = app@example.com\npassword = secret\ntls-ca = /etc/ca.pem\n" % url, "<test>")
    (settings,) = (LinkSettings.from_config(config, link) for link in config.links)
    assert settings.protocol is LinkProtocol.XSI and settings.protocol == "xsi"
    assert (settings.host, settings.port, settings.url, settings.tls_ca) == (host, port, url, "/etc/ca.pem")
    assert settings.credentials == xsp.credentials_for("app@example.com", "secret")
