# -*- test-case-name: tests.integration.test_link_simulator -*-
"""The simulator's XSP: the server side of the BroadWorks CTI interface (SPEC §4).

It shares the document codecs with the connector (broadworks/xsp.py, xsi.py)
but not its call model: calls live in the simulator's :class:`CallEngine`.
This module owns channels, channel sets, subscriptions and event delivery:

* a channel is one TCP connection that sent AddChannelRequest, or one Xsi
  streaming channel (``xsi_server.py``): an :class:`IChannelConnection`
  either way; channels with the same channelSetId form a set, whatever their
  front-end;
* every engine notification for a subscribed user becomes one SubscriptionEvent
  per subscription (own ``sequenceNumber``, unique ``eventID``), delivered on
  ONE live channel of the subscription's channel set (best priority; spread by
  subscription so one user's events keep their order); an event not
  acknowledged within ``ack_timeout`` or whose channel dies is re-sent on
  another channel of the set; with no channel in the set at all it is lost;
* AddUserSubscriptionRequest and UpdateSubscriptionRequest are answered, and
  then followed by the package's subscription event: a CallSubscriptionEvent
  (``Advanced Call``: the user's calls as the active AS knows them),
  ACDSubscriptionEvent (``Call Center Queue``), RoutePointSubscriptionEvent
  (``Route Point Queue``) or AgentSubscriptionEvent (``Call Center Agent``);
  an engine notification goes to the subscriptions of its own package only;
* the contact centre's CTI requests (CTISchema ACD, Agent, RoutePoint,
  System) are the engine's call center and route point actions
  (``call_centers.py``, ``route_points.py``); those the simulator does not
  model answer 501.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import uuid
import zlib

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import Attribute, Interface, implementer

from csta_connector import lms
from csta_connector.broadworks import requests, stream, xsi, xsp
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.errors import ErrorCode, SimulatorError

MIN_EXPIRES = 3600


def _new_id() -> str:
    return str(uuid.uuid4())


class IChannelConnection(Interface):
    """What carries one channel's events to the application: a CTI interface
    connection, or an Xsi event channel's streaming HTTP answer."""

    front_end = Attribute("the index of the XSP front-end it arrived on")
    channel = Attribute("its Channel once added, else None")
    is_delivering = Attribute("False while its front-end hangs")
    transport = Attribute("the TCP transport under it (None once gone)")

    def deliver(key, event_xml):
        """Write one event (an ``xsi:Event`` serialized without declaration);
        ``key``: what the application echoes in its acknowledgement."""

    def terminate(event):
        """Write a ChannelTerminatedEvent; the channel carries nothing after it."""

    def abort():
        """Drop the connection now."""


class Channel:
    __slots__ = ("channel_id", "channel_set_id", "priority", "weight", "connection", "application_id")

    def __init__(self, channel_id, channel_set_id, priority, weight, application_id, connection):
        self.channel_id = channel_id
        self.channel_set_id = channel_set_id
        self.priority = priority
        self.weight = weight
        self.application_id = application_id
        self.connection = connection


class Subscription:
    __slots__ = (
        "subscription_id",
        "user_id",
        "owner",
        "channel_set_id",
        "application_id",
        "event_package",
        "expires",
        "sequence",
    )

    def __init__(self, user_id, owner, channel_set_id, application_id, event_package, expires):
        self.subscription_id = _new_id()
        self.user_id = user_id
        self.owner = owner
        self.channel_set_id = channel_set_id
        self.application_id = application_id
        self.event_package = event_package
        self.expires = expires
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = 1 if self.sequence >= 2147483647 else self.sequence + 1
        return self.sequence


class _Unacked:
    __slots__ = ("event", "channel_set_id", "channel", "timer", "attempts")

    def __init__(self, event, channel_set_id, timer):
        self.event = event
        self.channel_set_id = channel_set_id
        self.channel = None
        self.timer = timer
        self.attempts = 1


class FrontEnd:
    """One XSP of the simulator (one listening port), sharing the AS pair."""

    __slots__ = ("index", "port", "state", "protocol")

    def __init__(self, index, protocol="cti"):
        self.index = index
        self.port = None
        self.state = "up"  # up | close | hang
        self.protocol = protocol  # cti | xsi


class XspServer:
    """State shared by every connection of every XSP front-end of the simulator."""

    log = Logger()

    def __init__(self, engine, clock, domain="example.com", ack_timeout=5.0, max_attempts=5,
                 front_ends=1, drop_channels_on_failover=False):
        self.engine = engine
        self.front_ends = [FrontEnd(i) for i in range(max(1, front_ends))]
        self.drop_channels_on_failover = drop_channels_on_failover
        self.clock = clock
        self.domain = domain
        self.ack_timeout = ack_timeout
        self.max_attempts = max_attempts
        self.channels: dict[str, Channel] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._by_user: dict[str, list[Subscription]] = {}
        self._unacked: dict[str, _Unacked] = {}
        self._event_ids = itertools.count(1)
        # unique across simulator runs too, cheaper than a uuid per event
        self._event_id_prefix = uuid.uuid4().hex[:12]
        self._held: list | None = None
        self.connections: set = set()
        #: optional callable(direction, document bytes): an opt-in wire tap
        self.trace = None
        engine.add_listener(self._notification)

    def factory(self, front_end: int = 0) -> Factory:
        server = self

        class _Factory(Factory):
            def buildProtocol(self, addr):
                return XspServerProtocol(server, front_end)

        return _Factory()

    def add_front_end(self, protocol: str) -> int:
        """One more front-end (e.g. an Xsi one) on the same AS pair; its index."""
        self.front_ends.append(FrontEnd(len(self.front_ends), protocol))
        return len(self.front_ends) - 1

    # -- XSP front-ends (control API /xsp) -----------------------------------

    def front_end_status(self):
        return [
            {
                "xsp": fe.index + 1,
                "protocol": fe.protocol,
                "port": fe.port,
                "state": fe.state,
                "connections": sum(1 for c in self.connections if c.front_end == fe.index),
            }
            for fe in self.front_ends
        ]

    def front_end_down(self, index, mode="close"):
        """``close``: drop the front-end's connections and refuse new ones;
        ``hang``: keep them open, answer nothing, deliver nothing."""
        front_end = self.front_ends[index]
        front_end.state = mode
        lms.emit(self.log, lms.SIMULATOR_XSP_DOWN, xsp="%d (%s)" % (index + 1, mode))
        for connection in list(self.connections):
            if connection.front_end != index:
                continue
            if mode == "close":
                connection.abort()
            else:
                connection.is_delivering = False
                if connection.channel is not None:
                    # what it held unacknowledged goes out on another channel
                    self.redeliver_from(connection.channel)

    def front_end_up(self, index):
        front_end = self.front_ends[index]
        front_end.state = "up"
        lms.emit(self.log, lms.SIMULATOR_XSP_UP, xsp=index + 1)
        for connection in list(self.connections):
            if connection.front_end == index:
                connection.is_delivering = True

    def drop_all_channels(self):
        """Failover variant (``failover-drops-channels``): every channel dies
        with its connection; subscriptions stay with their channel sets."""
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.abort()

    def redeliver_from(self, channel):
        for key, entry in list(self._unacked.items()):
            if entry.channel is channel:
                if entry.timer.active():
                    entry.timer.cancel()
                self._send(key, entry, exclude=channel)

    def stop(self):
        """Cancel timers and detach from the engine (tests end with no delayed calls)."""
        self.engine.remove_listener(self._notification)
        for entry in self._unacked.values():
            if entry.timer.active():
                entry.timer.cancel()
        self._unacked.clear()

    # -- channels -----------------------------------------------------------

    def add_channel(self, connection, values) -> Channel:
        channel = Channel(
            _new_id(),
            values.get("channelSetId") or "default",
            int(values.get("priority") or 1),
            int(values.get("weight") or 50),
            values.get("applicationId"),
            connection,
        )
        self.channels[channel.channel_id] = channel
        lms.emit(self.log, lms.SIMULATOR_CHANNEL_ADDED, channel_id=channel.channel_id,
                 channel_set=channel.channel_set_id)
        # events waiting for a channel of this set go out now
        for event_key, entry in list(self._unacked.items()):
            if entry.channel is None and entry.channel_set_id == channel.channel_set_id:
                if entry.timer.active():
                    entry.timer.cancel()  # its retry: it goes out now
                self._send(event_key, entry)
        return channel

    def remove_channel(self, channel: Channel):
        if self.channels.pop(channel.channel_id, None) is None:
            return
        for key, entry in list(self._unacked.items()):
            if entry.channel is channel:
                if entry.timer.active():
                    entry.timer.cancel()
                self._send(key, entry, exclude=channel)

    def _channels_of(self, channel_set_id, exclude=None):
        return [
            c
            for c in self.channels.values()
            if c.channel_set_id == channel_set_id
            and c is not exclude
            and c.connection.is_delivering
        ]

    # -- subscriptions ----------------------------------------------------

    def add_subscription(self, user_id, owner, values) -> Subscription:
        """``SimulatorError`` when the target takes no subscription to the package."""
        package = values.get("event") or requests.ADVANCED_CALL
        self.engine.check_subscription(package, user_id)
        application_id = values.get("applicationId")
        # a subscription identical in owner, target, application and package replaces the old one
        for old in list(self._by_user.get(user_id, ())):
            if (old.owner, old.application_id, old.event_package) == (owner, application_id, package):
                self.remove_subscription(old)
        sub = Subscription(
            user_id,
            owner,
            values.get("channelSetId") or "default",
            application_id,
            package,
            max(MIN_EXPIRES, int(values.get("expires") or MIN_EXPIRES)),
        )
        self.subscriptions[sub.subscription_id] = sub
        self._by_user.setdefault(user_id, []).append(sub)
        return sub

    def remove_subscription(self, sub: Subscription, notify=False):
        self.subscriptions.pop(sub.subscription_id, None)
        subs = self._by_user.get(sub.user_id)
        if subs and sub in subs:
            subs.remove(sub)
        if notify:
            self._deliver(sub, "SubscriptionTerminatedEvent")

    def send_snapshot(self, sub: Subscription):
        """The subscription event of the subscription's package, now."""
        event_type, data = self.engine.subscription_snapshot(sub.event_package, sub.user_id)
        self._deliver(sub, event_type, **data)

    # -- events -------------------------------------------------------------

    def hold_notifications(self):
        """Queue engine notifications until :meth:`release_notifications`, so the
        response to a request goes out before the events the request caused."""
        if self._held is None:
            self._held = []

    def release_notifications(self):
        held, self._held = self._held, None
        for notification in held or ():
            self._notification(notification)

    def _notification(self, notification):
        if self._held is not None:
            self._held.append(notification)
            return
        package = notification.package
        for sub in tuple(self._by_user.get(notification.user_id, ())):
            if sub.event_package != package:
                continue
            self._deliver(
                sub,
                notification.event_type,
                call=notification.call,
                calls=notification.calls,
                conference=notification.conference,
                hook_status=notification.hook_status,
                event_data=notification.event_data,
            )

    def _deliver(self, sub: Subscription, event_type: str, **data):
        event = xsi.SubscriptionEvent(
            event_type=event_type,
            event_id="%s-%d" % (self._event_id_prefix, next(self._event_ids)),
            sequence_number=sub.next_sequence(),
            user_id=sub.owner,
            external_application_id=sub.application_id or "csta-connector",
            subscription_id=sub.subscription_id,
            channel_id=None,  # set when the event is given to one channel of the set
            target_id=sub.user_id,
            **data,
        )
        # the eventID is the key: the CTI interface echoes it as the event's
        # requestId, Xsi acknowledges by eventID
        key = event.event_id
        entry = _Unacked(event, sub.channel_set_id, _NoTimer)
        self._unacked[key] = entry
        self._send(key, entry)

    def _send(self, key, entry: _Unacked, exclude=None):
        channel_set_id = entry.channel_set_id
        candidates = self._channels_of(channel_set_id, exclude)
        if not candidates and exclude is not None and exclude.channel_id in self.channels:
            candidates = self._channels_of(channel_set_id)
        if not candidates:
            if not any(c.channel_set_id == channel_set_id for c in self.channels.values()):
                # the set has no channel at all: BroadWorks cannot deliver, the
                # event is lost (the application repairs by refreshing)
                del self._unacked[key]
                lms.emit(self.log, lms.SIMULATOR_EVENT_NO_CHANNEL, channel_set=channel_set_id, key=key)
                return
            # channels exist but none delivers now (hanging): retry later
            entry.channel = None
            entry.timer = self.clock.callLater(self.ack_timeout, self._ack_timed_out, key)
            return
        best = min(c.priority for c in candidates)
        candidates = [c for c in candidates if c.priority == best]
        # balance by subscription, not by event: one user's events stay on one
        # channel while it lives, so they arrive in order (as BroadWorks keeps them)
        candidates.sort(key=lambda c: c.channel_id)
        channel = candidates[zlib.crc32(entry.event.subscription_id.encode()) % len(candidates)]
        entry.channel = channel
        if entry.event.channel_id != channel.channel_id:
            entry.event = entry.event._replace(channel_id=channel.channel_id)
        entry.timer = self.clock.callLater(self.ack_timeout, self._ack_timed_out, key)
        channel.connection.deliver(key, xsi.event_xml(entry.event))

    def _ack_timed_out(self, key):
        entry = self._unacked.get(key)
        if entry is None:
            return
        entry.attempts += 1
        if entry.attempts > self.max_attempts:
            lms.emit(self.log, lms.SIMULATOR_EVENT_UNACKNOWLEDGED, key=key, attempts=self.max_attempts)
            del self._unacked[key]
            return
        self._send(key, entry, exclude=entry.channel)

    def acknowledge(self, key, status_code):
        entry = self._unacked.get(key)
        if entry is None:
            return
        if entry.timer.active():
            entry.timer.cancel()
        if status_code in (404, 500):
            # the application asks for the next channel of the set
            self._send(key, entry, exclude=entry.channel)
            return
        del self._unacked[key]
        if status_code == 481:
            sub = self.subscriptions.get(entry.event.subscription_id)
            if sub is not None:
                self.remove_subscription(sub)

    @property
    def unacknowledged(self) -> int:
        return len(self._unacked)


class _NoTimerType:
    def active(self):
        return False

    def cancel(self):
        pass


_NoTimer = _NoTimerType()


def _owner_from_credentials(credentials, domain):
    if credentials:
        try:
            user = base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            user = ""
        if user:
            return user if "@" in user else "%s@%s" % (user, domain)
    return "cti-admin@%s" % domain


class CtiRequestHandlers:
    """The CTI requests of the simulated XSP, whichever front-end received
    them: a CTI interface connection, or an Xsi HTTP request turned into the
    CTI request it stands for (``xsi_server.py``). So both front-ends serve
    the same channels, subscriptions and calls the same way.

    A front-end provides ``server`` (the XspServer), ``channel`` (the channel
    this connection carries, if any; :meth:`cti_AddChannelRequest` adds one
    for ``self``, an :class:`IChannelConnection`) and :meth:`_respond`.
    """

    server: XspServer
    channel: Channel | None = None

    def _respond(self, request, status=200, reason="OK", payload=None):
        raise NotImplementedError

    def _has_channel(self) -> bool:
        """Whether the requester has a channel to be sent events on (a CTI
        connection carries its own)."""
        return self.channel is not None

    def _error(self, request, status, error_code, summary):
        reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 501: "Not Implemented"}
        self._respond(
            request, status, reasons.get(status, "Error"), xsp.error_info(error_code, summary)
        )

    def _request(self, request: xsp.Request):
        cti = request.payload
        handler = getattr(self, "cti_" + cti.name, None)
        if handler is None:
            self._error(request, 400, 100001, "request %s not supported" % cti.name)
            return
        server = self.server
        server.hold_notifications()
        try:
            handler(request, cti)
        except SimulatorError as e:
            self._error(request, e.status_code, e.error_code, e.summary)
        except (ValueError, KeyError, TypeError) as e:  # xsi.XsiParseError among them
            self._error(request, 400, 100002, "bad %s: %s" % (cti.name, e))
        finally:
            server.release_notifications()

    # -- CTI requests -------------------------------------------------------

    def cti_AddChannelRequest(self, request, cti):
        if self.channel is not None:
            self._error(request, 400, 100003, "this connection already has a channel")
            return
        values = xsp.xsi_values(cti.body)
        self.channel = self.server.add_channel(self, values)
        self._respond(
            request,
            payload=xsp.xsi_element(
                "Channel",
                ("channelId", self.channel.channel_id),
                ("expires", max(MIN_EXPIRES, int(values.get("expires") or MIN_EXPIRES))),
            ),
        )

    def cti_UpdateChannelRequest(self, request, cti):
        channel = self.server.channels.get(cti.param("channelId"))
        if channel is None:
            self._error(request, 404, 100004, "no such channel")
            return
        expires = max(MIN_EXPIRES, int(xsp.xsi_values(cti.body).get("expires") or MIN_EXPIRES))
        self._respond(
            request,
            payload=xsp.xsi_element("Channel", ("channelId", channel.channel_id), ("expires", expires)),
        )

    def cti_DeleteChannelRequest(self, request, cti):
        channel = self.server.channels.get(cti.param("channelId"))
        if channel is None:
            self._error(request, 404, 100004, "no such channel")
            return
        self._respond(request)
        channel.connection.terminate(xsi.ChannelTerminatedEvent(channel.channel_id, "ExplicitDelete"))
        channel.connection.channel = None
        self.server.remove_channel(channel)

    def _user(self, address):
        user_id = self.server.engine.resolve_user(address or "")
        if user_id is None:
            raise SimulatorError(404, 110001, "user %s not found" % address)
        return user_id

    def cti_AddUserSubscriptionRequest(self, request, cti):
        address = cti.param("userId") or cti.uri.rsplit("/", 1)[-1]
        user_id = self.server.engine.resolve_subscriber(address or "")
        if user_id is None:
            raise SimulatorError(404, 110001, "user %s not found" % address)
        owner = _owner_from_credentials(request.credentials, self.server.domain)
        sub = self.server.add_subscription(user_id, owner, xsp.xsi_values(cti.body))
        self._respond(
            request,
            payload=xsp.xsi_element(
                "Subscription", ("subscriptionId", sub.subscription_id), ("expires", sub.expires)
            ),
        )
        self.server.send_snapshot(sub)

    def _subscription(self, cti):
        sub = self.server.subscriptions.get(cti.param("subscriptionId") or "")
        if sub is None:
            # Xsi answers every unsuccessful subscription command with 403
            raise SimulatorError(403, 110862, "subscription not found")
        return sub

    def cti_UpdateSubscriptionRequest(self, request, cti):
        sub = self._subscription(cti)
        expires = xsp.xsi_values(cti.body).get("expires")
        if expires:
            sub.expires = max(MIN_EXPIRES, int(expires))
        self._respond(
            request,
            payload=xsp.xsi_element(
                "Subscription", ("subscriptionId", sub.subscription_id), ("expires", sub.expires)
            ),
        )
        self.server.send_snapshot(sub)

    def cti_DeleteSubscriptionRequest(self, request, cti):
        sub = self._subscription(cti)
        self._respond(request)
        self.server.remove_subscription(sub, notify=True)

    def cti_GetApplicationControllerStateRequest(self, request, cti):
        state = self.server.engine.route_points.controller_state
        self._respond(request, payload=cc.application_controller_element(state))

    def cti_SetApplicationControllerStateRequest(self, request, cti):
        state = cc.parse_single_text(cti.body)
        if state == "ready" and not self._has_channel():
            # "ready" needs a channel set to route to [CTISystem]
            raise SimulatorError(409, ErrorCode.NO_CHANNEL, "no channel: the application controller cannot be ready")
        self.server.engine.route_points.set_controller_state(state)
        self._respond(request)

    # -- the contact centre: agents (CTIAgent) ------------------------------

    def cti_SetAgentStateRequest(self, request, cti):
        settings = cc.parse_call_center(cti.body)
        if settings.agent_acd_state is None:
            raise SimulatorError(400, ErrorCode.INVALID_ARGUMENT, "SetAgentStateRequest without agentACDState")
        self.server.engine.call_centers.set_agent_state(
            cti.param("subscriberid") or "", settings.agent_acd_state, settings.agent_unavailable_code
        )
        self._respond(request)

    def cti_GetAgentStateRequest(self, request, cti):
        settings = self.server.engine.call_centers.agent_settings(cti.param("subscriberid") or "")
        self._respond(request, payload=cc.call_center_element(settings))

    def _not_modelled(self, request, cti):
        raise SimulatorError(501, ErrorCode.NOT_IMPLEMENTED, "%s is not modelled by the simulator" % cti.name)

    cti_EscalateToSupervisorRequest = _not_modelled
    cti_EmergencyCallToSupervisorRequest = _not_modelled
    cti_TagDispositionCodeRequest = _not_modelled
    cti_TagDispositionCodeToCallIdRequest = _not_modelled

    # -- the contact centre: call centers (CTIACD) --------------------------

    def _center(self, cti):
        return self.server.engine.call_centers.center(cti.param("callcenterid") or "")

    def cti_ACDBlindTransferRequest(self, request, cti):
        self._center(cti).blind_transfer(cti.param("callid"), cti.param("phoneno") or "")
        self._respond(request)

    def cti_ACDReleaseCallRequest(self, request, cti):
        self._center(cti).release(cti.param("callid"))
        self._respond(request)

    def cti_ACDPromoteCallRequest(self, request, cti):
        position = self._center(cti).promote(cti.param("callid"), cc.parse_single_text(cti.body))
        self._respond(request, payload=cc.queue_call_order_element(position))

    def cti_ACDReorderCallRequest(self, request, cti):
        position = self._center(cti).reorder(cti.param("callid"), cti.param("index"))
        self._respond(request, payload=cc.queue_call_order_element(position))

    def cti_GetACDRequest(self, request, cti):
        self._respond(request, payload=cc.queue_element(self._center(cti).entries(), route_point=False))

    # -- the contact centre: route points (CTIRoutePoint) -------------------

    def _route_point(self, cti):
        return self.server.engine.route_points.route_point(cti.param("routepointId") or "")

    def _route_point_call(self, request, cti, method, *extra):
        getattr(self._route_point(cti), method)(cti.param("callId"), *extra)
        self._respond(request)

    def cti_RoutePointDistributeCallRequest(self, request, cti):
        self._route_point_call(request, cti, "distribute", cc.parse_route_point_distribute(cti.body))

    def cti_RoutePointBlindTransferRequest(self, request, cti):
        self._route_point_call(request, cti, "blind_transfer", cti.param("address") or "")

    def cti_RoutePointFailCallRequest(self, request, cti):
        self._route_point_call(request, cti, "fail")

    def cti_RoutePointReleaseCallRequest(self, request, cti):
        self._route_point_call(request, cti, "release")

    def cti_RoutePointBounceCallRequest(self, request, cti):
        self._route_point_call(request, cti, "bounce")

    def cti_RoutePointAdmitCallRequest(self, request, cti):
        self._route_point_call(request, cti, "admit")

    def cti_RoutePointRejectCallRequest(self, request, cti):
        self._route_point_call(request, cti, "reject")

    def _play(self, request, cti):
        play = cc.parse_route_point_play(cti.name, cti.body)
        play_collect_id = self._route_point(cti).play(cti.param("callId"), play)
        self._respond(request, payload=cc.route_point_play_info_element(play_collect_id))

    cti_RoutePointPlayBusyRequest = _play
    cti_RoutePointPlayMOHRequest = _play
    cti_RoutePointPlayRingbackRequest = _play
    cti_RoutePointPlaySilenceRequest = _play
    cti_RoutePointPlayTreatmentRequest = _play

    def cti_GetRoutePointRequest(self, request, cti):
        self._respond(request, payload=cc.queue_element(self._route_point(cti).entries(), route_point=True))

    def cti_GetRoutePointStateRequest(self, request, cti):
        route_point = self._route_point(cti)
        self._respond(request, payload=cc.route_point_state_element("Failed" if route_point.failed else "Normal"))

    def cti_ModifyRoutePointStateRequest(self, request, cti):
        self._route_point(cti).set_state(cc.parse_single_text(cti.body))
        self._respond(request)

    cti_RoutePointOutgoingDialRequest = _not_modelled
    cti_RoutePointConnectToVoiceXMLRequest = _not_modelled

    def cti_DialRequest(self, request, cti):
        user_id = self._user(cti.param("subscriberid"))
        call = self.server.engine.click_to_dial(user_id, cti.param("address") or "")
        self._respond(
            request,
            payload=xsp.xsi_element(
                "CallStartInfo",
                ("callId", call.call_id),
                ("externalTrackingId", call.ext_tracking_id),
            ),
        )

    def _call_action(self, request, cti, action, *extra):
        user_id = self._user(cti.param("subscriberid"))
        action(user_id, *extra)
        self._respond(request)

    def cti_TalkRequest(self, request, cti):
        self._call_action(request, cti, self.server.engine.talk, cti.param("callid"))

    def cti_HoldRequest(self, request, cti):
        self._call_action(request, cti, self.server.engine.hold, cti.param("callid"))

    def cti_ReconnectRequest(self, request, cti):
        self._call_action(request, cti, self.server.engine.reconnect, cti.param("callid"))

    def cti_ReleaseRequest(self, request, cti):
        decline = (cti.param("decline") or "").lower() == "true"
        self._call_action(
            request, cti, self.server.engine.release, cti.param("callid"), decline
        )

    def cti_BlindTransferRequest(self, request, cti):
        self._call_action(
            request,
            cti,
            self.server.engine.blind_transfer,
            cti.param("callid"),
            cti.param("address"),
        )

    def cti_ConsultativeTransferRequest(self, request, cti):
        self._call_action(
            request,
            cti,
            self.server.engine.consultative_transfer,
            cti.param("callid1"),
            cti.param("callid2"),
        )

    def cti_TransmitDTMFRequest(self, request, cti):
        self._call_action(
            request, cti, self.server.engine.transmit_dtmf, cti.param("callid"), cti.param("PlayDTMF")
        )

    def cti_ConferenceStartRequest(self, request, cti):
        call_ids = []
        if cti.body is not None:
            for el in cti.body.iter("{%s}callId" % xsi.XSI_NS):
                call_ids.append((el.text or "").strip())
        self._call_action(request, cti, self.server.engine.conference_start, call_ids)


@implementer(IChannelConnection)
class XspServerProtocol(CtiRequestHandlers, Protocol):
    """One CTI interface connection at the simulated XSP."""

    log = Logger()

    def __init__(self, server: XspServer, front_end: int = 0):
        self.server = server
        self.front_end = front_end
        self.channel: Channel | None = None
        self.is_delivering = True  # False while the front-end "hangs"
        self._splitter = stream.DocumentSplitter()

    def connectionMade(self):
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        state = self.server.front_ends[self.front_end].state
        if state == "close":
            self.transport.abortConnection()  # a front-end that is down refuses
            return
        self.is_delivering = state == "up"
        self.server.connections.add(self)

    def connectionLost(self, reason=None):
        self.server.connections.discard(self)
        if self.channel is not None:
            channel, self.channel = self.channel, None
            self.server.remove_channel(channel)

    def write_document(self, document):
        if self.transport is not None:
            data = xsp.encode(document)
            if self.server.trace is not None:
                self.server.trace("out", data)
            self.transport.write(data)

    def dataReceived(self, data):
        try:
            documents = self._splitter.feed(data)
        except stream.FramingError as e:
            lms.emit(self.log, lms.SIMULATOR_UNUSABLE_STREAM, xsp=self.front_end + 1, error=str(e))
            self.transport.abortConnection()
            return
        for document in documents:
            if not self.is_delivering:
                continue  # a hanging front-end reads and answers nothing
            if self.server.trace is not None:
                self.server.trace("in", document)
            try:
                decoded = xsp.decode(document)
            except xsp.XspDecodeError as e:
                lms.emit(self.log, lms.SIMULATOR_MALFORMED_DOCUMENT, xsp=self.front_end + 1,
                         error=str(e))
                continue
            self._handle(decoded)

    def _handle(self, document):
        kind = type(document)
        if kind is xsp.Request:
            self._request(document)
        elif kind is xsp.EventResponse:
            self.server.acknowledge(document.request_id, document.status_code)
        elif kind is xsp.Keepalive:
            self.write_document(xsp.KeepaliveResponse(document.request_id))

    def _respond(self, request, status=200, reason="OK", payload=None):
        self.write_document(
            xsp.Response(request.request_id, request.session_id, status, reason, payload)
        )

    # -- IChannelConnection -------------------------------------------------

    def deliver(self, key, event_xml):
        self.write_document(xsp.Event(key, event_xml))

    def terminate(self, event):
        self.write_document(xsp.Event("T" + event.channel_id, xsi.event_xml(event)))

    def abort(self):
        if self.transport is not None:
            self.transport.abortConnection()
