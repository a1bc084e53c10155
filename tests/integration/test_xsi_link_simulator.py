"""The Xsi link against the simulator's Xsi front-end over real loopback HTTP (no connector yet):
channel, subscriptions, a call's events in order and acknowledged, a refresh's snapshot, call control
through Xsi-Actions, link loss (close and hang); and an Xsi link beside a CTI link in one channel set."""

import pytest
import pytest_twisted
from twisted.application.internet import ClientService
from twisted.internet import defer, reactor
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import xsp
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.broadworks.link import LinkSettings
from csta_connector.broadworks.ordering import EventOrdering
from csta_connector.broadworks.xsi_link import XsiChannelEndpoint, XsiHttp, XsiLinkFactory
from csta_connector.interfaces import ILinkListener
from csta_connector.simulator.xsi_server import XsiServer
from csta_connector.testing import Waitable, until

CREDENTIALS = xsp.credentials_for("admin", "secret")


@pytest.fixture
def xsi_front_end(simulator):
    """An Xsi front-end of the simulator on a free loopback port."""
    front_end = XsiServer(simulator.xsp, reactor, passwords={"admin": "secret"})
    front_end.wire = []
    front_end.trace = lambda direction, data: front_end.wire.append(("sim-" + direction, data))
    port = reactor.listenTCP(0, front_end.site(), interface="127.0.0.1")
    front_end.listening(port.getHost().port)
    front_end.url = "http://127.0.0.1:%d" % port.getHost().port
    yield front_end
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))
    front_end.stop()


@implementer(ILinkListener)
class LinkWatcher(Waitable):
    """The listener of one Xsi link: its events (the Waitable's items), and
    every ready / lost, so a test can wait for either."""

    def __init__(self, clock):
        super().__init__(clock)
        self.link = None
        self.states = Waitable(clock)
        self.gaps = []

    def link_ready(self, link):
        self.link = link
        self.states.add(("ready", link.channel_id))

    def link_lost(self, link, reason):
        self.states.add(("lost", reason.getErrorMessage()))

    def event_received(self, link, event):
        self.add(event)

    def sequence_gap(self, link, gap):
        self.gaps.append(gap)

    def channel_terminated(self, link, event):
        self.states.add(("terminated", event.reason))

    def count(self, state):
        return sum(1 for s in self.states.items if s[0] == state)

    def wait_state(self, state, count=1, timeout=5.0):
        return self.states.wait_for(lambda items: self.count(state) >= count, timeout, "link " + state)

    def of(self, user_id, event_type=None):
        return [e for e in self.items
                if e.target_id == user_id and (event_type is None or e.event_type == event_type)]

    def request(self, cti_request, affinity=None):
        """The current link's request (the link object changes on every new channel)."""
        return self.link.request(cti_request, affinity)


def _settings(**overrides):
    values = dict(name="xsi-1", request_timeout=2, kpl_interval=0.5, kpl_tolerance=1, credentials=CREDENTIALS)
    values.update(overrides)
    return LinkSettings("cs-xsi", "csta-test", **values)


@pytest.fixture
def xsi_linked(xsi_front_end):
    """(watcher, client, http): an Xsi link kept up by a ClientService, as a channel set would."""
    settings = _settings()
    watcher = LinkWatcher(reactor)
    http = XsiHttp(reactor, xsi_front_end.url, settings.credentials)
    factory = XsiLinkFactory(settings, reactor, watcher, http, EventOrdering())
    factory.wire = []
    factory.trace = lambda direction, data: factory.wire.append(("link-" + direction, data))
    service = ClientService(XsiChannelEndpoint(http, settings, reactor), factory,
                            retryPolicy=lambda attempts: 0.2, clock=reactor)
    service.startService()
    pytest_twisted.blockon(watcher.wait_state("ready"))
    client = BroadWorksClient(watcher, "cs-xsi", "csta-test", default_domain="example.com")
    watcher.factory = factory
    yield watcher, client, http
    pytest_twisted.blockon(service.stopService())
    pytest_twisted.blockon(http.close())


def _snapshots(watcher, user, count=1):
    return lambda items: len(watcher.of(user, "CallSubscriptionEvent")) >= count


@pytest_twisted.inlineCallbacks
def test_a_call_over_xsi_events_and_actions_in_order_and_acknowledged(simulator, xsi_front_end, xsi_linked,
                                                                      bw_validator):
    watcher, client, _ = xsi_linked
    subs = {}
    for ext in ("2001", "2002"):
        subs[ext] = yield client.subscribe(client.user_id(ext))
        yield watcher.wait_for(_snapshots(watcher, ext + "@example.com"), what="initial snapshot of " + ext)

    # click-to-dial through Xsi-Actions, answered at 2002 through Xsi-Actions
    start = yield client.dial("2001@example.com", "2002")
    yield watcher.wait_for(lambda _: watcher.of("2002@example.com", "CallReceivedEvent"), what="2002 alerting")
    alerting = watcher.of("2002@example.com", "CallReceivedEvent")[0].call
    assert alerting.ext_tracking_id == start.ext_tracking_id
    yield client.answer("2002@example.com", alerting.call_id)
    yield watcher.wait_for(lambda _: watcher.of("2001@example.com", "CallAnsweredEvent"), what="answered")
    yield client.hold("2001@example.com", start.call_id)
    yield watcher.wait_for(lambda _: watcher.of("2001@example.com", "CallHeldEvent"), what="held")
    yield client.retrieve("2001@example.com", start.call_id)
    yield watcher.wait_for(lambda _: watcher.of("2001@example.com", "CallRetrievedEvent"), what="retrieved")

    # a refresh (PUT) brings a CallSubscriptionEvent that lists the call
    yield client.update_subscription(subs["2002"])
    yield watcher.wait_for(_snapshots(watcher, "2002@example.com", 2), what="refreshed snapshot")
    refreshed = watcher.of("2002@example.com", "CallSubscriptionEvent")[1]
    assert [c.call_id for c in refreshed.calls] == [alerting.call_id]

    yield client.release("2001@example.com", start.call_id)
    yield watcher.wait_for(lambda _: watcher.of("2002@example.com", "CallReleasedEvent"), what="released")
    caller = [e.event_type for e in watcher.of("2001@example.com") if e.event_type.startswith("Call")]
    assert caller == ["CallSubscriptionEvent", "CallOriginatingEvent", "CallOriginatedEvent",
                      "CallAnsweredEvent", "CallHeldEvent", "CallRetrievedEvent", "CallReleasedEvent"]
    for ext in ("2001", "2002"):
        seqs = [e.sequence_number for e in watcher.of(ext + "@example.com")]
        assert seqs == list(range(1, len(seqs) + 1))
    assert watcher.gaps == []

    # every event was acknowledged
    yield until(reactor, lambda: simulator.xsp.unacknowledged == 0, 5, "every event acknowledged")
    with pytest.raises(BroadWorksRequestError) as refused:
        yield client.hold("2001@example.com", start.call_id)  # the call is gone
    assert 400 <= refused.value.status_code < 500

    # every Xsi document either side sent validates against the official schemas
    documents = watcher.factory.wire + xsi_front_end.wire
    assert len(documents) > 40
    assert [(d, data, errors) for d, data in documents for errors in [bw_validator(data)] if errors] == []


@pytest_twisted.inlineCallbacks
def test_a_front_end_that_closes_is_link_lost_and_the_channel_comes_back(simulator, xsi_front_end, xsi_linked):
    watcher, client, _ = xsi_linked
    yield client.subscribe("2003@example.com")
    yield watcher.wait_for(_snapshots(watcher, "2003@example.com"), what="snapshot")
    xsp_number = xsi_front_end.index + 1
    yield simulator.control.post("/xsp/%d/down" % xsp_number, {"mode": "close"})
    yield watcher.wait_state("lost")
    yield simulator.control.post("/xsp/%d/up" % xsp_number)
    yield watcher.wait_state("ready", 2)
    # the subscription belongs to the channel set: its events arrive on the new channel
    yield simulator.control.place_call("2004", "2003")
    yield watcher.wait_for(lambda _: watcher.of("2003@example.com", "CallReceivedEvent"), what="event after return")


@pytest_twisted.inlineCallbacks
def test_a_hanging_front_end_is_found_out_by_its_heartbeats(simulator, xsi_front_end, xsi_linked, lms_lines):
    watcher, _, _ = xsi_linked
    xsp_number = xsi_front_end.index + 1
    yield simulator.control.post("/xsp/%d/down" % xsp_number, {"mode": "hang"})
    yield watcher.wait_state("lost")
    assert any(lms.is_message(line, lms.LINK_UNRESPONSIVE) for line in lms_lines)
    yield simulator.control.post("/xsp/%d/up" % xsp_number)
    yield watcher.wait_state("ready", 2)


@pytest_twisted.inlineCallbacks
def test_a_wrong_password_is_401(xsi_front_end):
    settings = _settings(credentials=xsp.credentials_for("admin", "wrong"))
    http = XsiHttp(reactor, xsi_front_end.url, settings.credentials)
    watcher = LinkWatcher(reactor)
    with pytest.raises(BroadWorksRequestError) as refused:
        yield XsiChannelEndpoint(http, settings, reactor).connect(XsiLinkFactory(settings, reactor, watcher, http))
    assert refused.value.status_code == 401
    yield http.close()


@pytest_twisted.inlineCallbacks
def test_an_xsi_link_and_a_cti_link_in_one_channel_set(simulator, xsi_front_end, linked):
    """Events by either link, each once and in order, also when the Xsi front-end goes away."""
    channel_set, client, sink = linked
    settings = LinkSettings("cs-test", "csta-test", name="xsi-1", request_timeout=2, kpl_interval=0.5,
                            kpl_tolerance=1, credentials=CREDENTIALS)
    http = XsiHttp(reactor, xsi_front_end.url, settings.credentials)
    service = channel_set.add_xsi_link(settings, http)  # the set is running: so is the link's service
    yield until(reactor, lambda: len(channel_set.up_links) == 2, 5, "both links up")
    users = ["20%02d@example.com" % n for n in range(6, 14)]
    for user in users:  # spread over both channels of the set
        yield client.subscribe(user)
    yield sink.wait_for(lambda _: all(sink.of(u, "CallSubscriptionEvent") for u in users), what="snapshots")
    carried = {e.channel_id for e in sink.items}
    assert len(carried) == 2, "the simulator balanced the subscriptions over both links"

    yield simulator.control.post("/xsp/%d/down" % (xsi_front_end.index + 1), {"mode": "close"})
    yield until(reactor, lambda: len(channel_set.up_links) == 1, 5, "the Xsi link down")
    yield simulator.control.place_call("2006", "2007")
    yield simulator.control.place_call("2008", "2009")
    yield simulator.control.user_action("2007", "answer")
    yield sink.wait_for(lambda _: sink.of("2006@example.com", "CallAnsweredEvent"), what="answered")
    yield sink.wait_for(lambda _: sink.of("2009@example.com", "CallReceivedEvent"), what="alerting")
    for user in users:
        seqs = [e.sequence_number for e in sink.of(user)]
        assert seqs == list(range(1, len(seqs) + 1)), user
    ids = [e.event_id for e in sink.items]
    assert len(ids) == len(set(ids))
    assert sink.gaps == []
    yield service.disownServiceParent()
    yield http.close()


@pytest.fixture
def tls_front_end(simulator, certificate):
    """The Xsi front-end on HTTPS with the self-signed certificate for localhost: (front-end, CA path)."""
    pytest.importorskip("OpenSSL", reason="TLS needs pyOpenSSL (twisted[tls])")
    from csta_connector import tls

    cert_path, key_path = certificate
    front_end = XsiServer(simulator.xsp, reactor, passwords={"admin": "secret"})
    port = reactor.listenSSL(0, front_end.site(), tls.server_options(cert_path, key_path),
                             interface="127.0.0.1")
    front_end.url = "https://localhost:%d" % port.getHost().port
    yield front_end, cert_path
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))
    front_end.stop()


@pytest_twisted.inlineCallbacks
def test_over_https_the_requests_go_to_the_address_of_the_channel_verifying_the_name(simulator, tls_front_end):
    """The channel connects to the URL's host name; subscriptions, heartbeats and
    acknowledgements go to the address that accepted it, still verifying the name."""
    front_end, ca = tls_front_end
    settings = _settings(name="xsi-tls")
    watcher = LinkWatcher(reactor)
    http = XsiHttp(reactor, front_end.url, settings.credentials, tls_ca=ca)
    service = ClientService(XsiChannelEndpoint(http, settings, reactor),
                            XsiLinkFactory(settings, reactor, watcher, http), clock=reactor)
    service.startService()
    yield watcher.wait_state("ready")
    assert http.pinned_address == "127.0.0.1"
    client = BroadWorksClient(watcher, "cs-xsi", "csta-test", default_domain="example.com")
    yield client.subscribe("2005@example.com")
    yield watcher.wait_for(_snapshots(watcher, "2005@example.com"), what="snapshot over https")
    yield until(reactor, lambda: simulator.xsp.unacknowledged == 0, 5, "acknowledged over https")
    yield service.stopService()
    yield http.close()
    assert watcher.count("lost") == 1  # by the stop, not before: the heartbeats came back
