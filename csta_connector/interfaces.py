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


class ISubscriptionClient(Interface):
    """The part of the BroadWorks client API the subscription manager uses
    (``broadworks/client.py``; ``testing.ScriptedClient`` scripts it)."""

    subscription_expires = Attribute("the expiry (s) each subscription is asked for")

    def subscribe(user_id):
        """AddUserSubscriptionRequest; a Deferred firing with the subscriptionId."""

    def update_subscription(subscription_id):
        """UpdateSubscriptionRequest; fires once BroadWorks accepted it (the
        CallSubscriptionEvent it causes comes as an event)."""

    def unsubscribe(subscription_id):
        """DeleteSubscriptionRequest; fires with None."""

    def forget(subscription_id):
        """The subscription is gone: drop the links' state of it."""
