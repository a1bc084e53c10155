"""The seams of the product (zope.interface), where a second implementation is planned."""

from zope.interface import Attribute, Interface


class ILinkListener(Interface):
    """What a BroadWorks link reports to the layer above it (the channel set)."""

    def link_ready(link):
        """The link's channel was added: requests may go over it."""

    def link_lost(link, reason):
        """The link's connection ended (reason: a Failure)."""

    def event_received(link, event):
        """A new (not duplicate) Xsi event arrived: SubscriptionEvent or UnknownEvent."""

    def sequence_gap(link, gap):
        """A subscription's sequenceNumber jumped (a SequenceGap): events were lost."""

    def channel_terminated(link, event):
        """BroadWorks terminated the link's channel (a ChannelTerminatedEvent)."""


class IBroadWorksLink(Interface):
    """Something that carries CTI requests to BroadWorks and returns Deferred responses.

    Implemented by one TCP link and by a channel set of links; a later Xsi
    HTTP link type implements it too (SPEC §3, "Later").
    """

    is_up = Attribute("True while requests can be sent")

    def request(cti_request, affinity=None):
        """Send a CtiRequest; a Deferred firing with the xsp.Response (2xx) or
        failing with a BroadWorksError. ``affinity`` (a subscriptionId) asks
        for the link that carries that subscription's events."""


class IEventSink(Interface):
    """Receives the ordered stream of BroadWorks events of a channel set."""

    def broadworks_event(event):
        """A SubscriptionEvent (duplicates already dropped)."""

    def broadworks_sequence_gap(gap):
        """Events of gap.subscription_id were lost; refresh that subscription."""

    def broadworks_link_state(up_links, total_links):
        """The number of links that are up changed."""

    def broadworks_link_recovered(link_name):
        """A link that had been up is up again: events may have been missed."""


class ICSTAServices(Interface):
    """What the CSTA server asks of the services (monitoring, call control)."""

    def session_opened(session):
        """A CSTA client finished its session start."""

    def session_closed(session):
        """A CSTA client went away: release everything it held."""

    def handle(session, request):
        """Serve one request; the response message, or a Deferred of it, or a
        CSTARequestError."""


class IWire(Interface):
    """One CSTA connection's codec, XML or BER, for either end of it (pure).

    ``feed`` turns received bytes into :class:`~csta_connector.csta.wire.Incoming`
    items; the other methods turn message objects into the bytes of this
    connection's encoding, framing and namespace. The wire's ``role`` says
    which end it is: a server (the connector) refuses events from its peer,
    a client takes them as events. The CSTA server, the CSTA client and the
    fan-out are written once against this interface.
    """

    encoding = Attribute("'xml' or 'ber'")
    role = Attribute("the end of the connection this wire speaks for (a wire.Role)")
    event_key = Attribute(
        "wires with equal keys encode an event to the same bytes but for the "
        "cross-reference id (the fan-out encodes once per key)"
    )
    buffered = Attribute("bytes received of a frame not complete yet (0 between frames)")

    def feed(data):
        """Received bytes -> a list of Incoming (maybe empty); raises
        framing.FramingError when the stream cannot be framed (close it)."""

    def next_invoke_id():
        """The invoke id for the next request this end sends."""

    def request(invoke_id, message):
        """The bytes of a request (a ROSE invoke / an XML request document)."""

    def result(invoke_id, message):
        """The bytes of a positive response to the peer's request ``invoke_id``."""

    def error(invoke_id, error):
        """The bytes of a CSTAError answering the peer's request ``invoke_id``."""

    def unknown(invoke_id):
        """The answer to a request for an operation this end does not serve."""

    def malformed(invoke_id, detail):
        """The answer to a message that could not be decoded (``detail``: the
        Incoming's detail), or None when it cannot be answered (no invoke id)."""

    def event(message):
        """The bytes of one event (the cross-reference id already set)."""

    def encode_event(message):
        """The part of an event shared by every wire of the same ``event_key``."""

    def event_from_encoded(encoded):
        """The bytes of an event from ``encode_event``'s result."""

    def dump(data):
        """Bytes of this wire as a Debug line shows them (XML as text, BER in hex)."""


class ISubscriptionClient(Interface):
    """The part of the BroadWorks client API the subscription manager uses
    (``broadworks/client.py``; ``testing.ScriptedClient`` scripts it)."""

    subscription_expires = Attribute("the expiry (s) each subscription is asked for")

    def subscribe(user_id, package="Advanced Call"):
        """AddUserSubscriptionRequest to ``package``; a Deferred firing with
        the subscriptionId. (A manager of ``Advanced Call`` passes only the
        user id.)"""

    def update_subscription(subscription_id):
        """UpdateSubscriptionRequest; fires once BroadWorks accepted it (the
        CallSubscriptionEvent it causes comes as an event)."""

    def unsubscribe(subscription_id):
        """DeleteSubscriptionRequest; fires with None."""

    def forget(subscription_id):
        """The subscription is gone: drop the links' state of it."""


class IResyncTarget(Interface):
    """One kind of subscription the proactive failover resync wave refreshes
    (``services/resync.py``): the users' Advanced Call subscriptions
    (``UserCalls``); the contact centre's queues and route points join the
    wave the same way."""

    name = Attribute("what a key names, for the log: 'user', 'queue', ...")

    def holding():
        """``(key, reported)`` for every subscription whose calls the model
        holds at least one of. ``reported``: BroadWorks tells a failover's
        losses of it by itself (an unsolicited event), so the wave can
        refresh it last, when that event has most likely come."""

    def refresh(key):
        """UpdateSubscriptionRequest for ``key``; a Deferred firing once the
        event it causes went through the model (or failing)."""

    def device_of(key):
        """The device ``key`` is, for the log."""
