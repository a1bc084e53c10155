# -*- test-case-name: tests.integration.test_link_simulator -*-
"""The BroadWorks client API the rest of the product uses.

Typed methods over any :class:`~csta_connector.interfaces.IBroadWorksLink`
(one link or a channel set): subscriptions and one method per call-control
request of SPEC §5.2. Each returns a Deferred that fires with a plain value
or fails with a :mod:`~csta_connector.broadworks.errors` exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from zope.interface import implementer

from csta_connector.broadworks import cti_contact_centre, requests, xsp
from csta_connector.broadworks.errors import BroadWorksError
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.interfaces import ISubscriptionClient


@dataclass(frozen=True, slots=True)
class CallStart:
    """The answer to a DialRequest: the caller's call half and the call's tracking id."""

    call_id: str
    ext_tracking_id: str


@implementer(ISubscriptionClient)
class BroadWorksClient:
    def __init__(
        self,
        link,
        channel_set_id: str,
        application_id: str,
        subscription_expires: int = 3600,
        default_domain: str | None = None,
    ):
        self.link = link
        self.channel_set_id = channel_set_id
        self.application_id = application_id
        self.subscription_expires = subscription_expires
        self.default_domain = default_domain

    def user_id(self, device: str) -> str:
        """A BroadWorks user id for a device id (bare ids get the default domain)."""
        if "@" in device or not self.default_domain:
            return device
        return "%s@%s" % (device, self.default_domain)

    def _values(self, response):
        return xsp.xsi_values(response.payload)

    # -- subscriptions ------------------------------------------------------

    def subscribe(self, user_id: str, package: str = requests.ADVANCED_CALL):
        """AddUserSubscriptionRequest to ``package``; fires with the subscriptionId."""
        d = self.link.request(
            requests.add_user_subscription(
                user_id, self.channel_set_id, self.application_id, self.subscription_expires,
                event_package=package,
            )
        )
        return d.addCallback(lambda r: self._values(r).get("subscriptionId"))

    def update_subscription(self, subscription_id: str):
        """UpdateSubscriptionRequest; fires with the response once BroadWorks accepted it.
        The CallSubscriptionEvent it causes arrives afterwards as an event."""
        return self.link.request(
            requests.update_subscription(subscription_id, self.subscription_expires),
            affinity=subscription_id,
        )

    def forget(self, subscription_id: str) -> None:
        """The subscription is gone: the link may drop its per-subscription state."""
        forget = getattr(self.link, "forget_subscription", None)
        if forget is not None:
            forget(subscription_id)

    def unsubscribe(self, subscription_id: str):
        return self.link.request(requests.delete_subscription(subscription_id)).addCallback(
            lambda _: None
        )

    def application_controller_state(self, controller_id: str):
        d = self.link.request(requests.get_application_controller_state(controller_id))
        return d.addCallback(lambda r: self._values(r).get("state"))

    # -- call control -----------------------------------------------------

    def dial(self, user_id: str, address: str):
        """Click-to-dial; fires with a :class:`CallStart`."""
        d = self.link.request(requests.dial(user_id, address))

        def started(response):
            values = self._values(response)
            return CallStart(values.get("callId"), values.get("externalTrackingId"))

        return d.addCallback(started)

    def _done(self, cti_request):
        return self.link.request(cti_request).addCallback(lambda _: None)

    def answer(self, user_id: str, call_id: str):
        return self._done(requests.talk(user_id, call_id))

    def retrieve(self, user_id: str, call_id: str):
        return self._done(requests.talk(user_id, call_id))

    def hold(self, user_id: str, call_id: str):
        return self._done(requests.hold(user_id, call_id))

    def reconnect(self, user_id: str, call_id: str):
        return self._done(requests.reconnect(user_id, call_id))

    def release(self, user_id: str, call_id: str, decline: bool = False):
        return self._done(requests.release(user_id, call_id, decline))

    def blind_transfer(self, user_id: str, call_id: str, address: str):
        return self._done(requests.blind_transfer(user_id, call_id, address))

    def redirect(self, user_id: str, call_id: str, address: str):
        """Deflect an alerting call: Xsi has no separate command, BlindTransfer does it."""
        return self._done(requests.blind_transfer(user_id, call_id, address))

    def consultative_transfer(self, user_id: str, call_id1: str, call_id2: str):
        return self._done(requests.consultative_transfer(user_id, call_id1, call_id2))

    def conference_start(self, user_id: str, call_ids):
        return self._done(requests.conference_start(user_id, call_ids))

    def transmit_dtmf(self, user_id: str, call_id: str, digits: str):
        return self._done(requests.transmit_dtmf(user_id, call_id, digits))

    # -- the contact centre (CTIAgent, CTIACD) ---------------------------------

    def set_agent_state(self, agent_id: str, state: str, unavailable_code: str | None = None):
        """SetAgentStateRequest: the agent's ACD state (XSIDataTypes ``AgentState``)."""
        return self._done(cti_contact_centre.set_agent_state(agent_id, state, unavailable_code))

    def get_agent_state(self, agent_id: str):
        """GetAgentStateRequest; fires with a ``CallCenterSettings``. An answer
        without an ``xsi:CallCenter`` (over Xsi, a 200 whose body is empty or
        no Xsi document, from a proxy say) fails with a BroadWorksError: it
        does not say the agent is signed out."""
        d = self.link.request(cti_contact_centre.get_agent_state(agent_id))

        def read(response):
            payload = response.payload
            if payload is None or etree.QName(payload).localname != "CallCenter":
                raise BroadWorksError("GetAgentStateRequest: the answer carries no xsi:CallCenter")
            try:
                return cc.parse_call_center(payload)
            except ValueError as e:  # xsi.XsiParseError
                raise BroadWorksError("GetAgentStateRequest: %s" % e) from None

        return d.addCallback(read)

    def acd_release_call(self, call_center_id: str, call_id: str):
        """ACDReleaseCallRequest: the queued call leaves the queue, released."""
        return self._done(cti_contact_centre.acd_release_call(call_center_id, call_id))

    def acd_blind_transfer(self, call_center_id: str, call_id: str, address: str):
        """ACDBlindTransferRequest: the queued call goes to ``address``."""
        return self._done(cti_contact_centre.acd_blind_transfer(call_center_id, call_id, address))

    # -- the contact centre: route points (CTIRoutePoint, CTISystem) ------------

    def route_point_distribute(self, route_point_id: str, call_id: str, agent_id: str):
        """RoutePointDistributeCallRequest: offer the held call to ``agent_id`` (a user id)."""
        return self._done(cti_contact_centre.route_point_distribute_call(
            route_point_id, call_id, cc.RoutePointDistribute(agent_id)))

    def route_point_blind_transfer(self, route_point_id: str, call_id: str, address: str):
        """RoutePointBlindTransferRequest: the held call goes to ``address``."""
        return self._done(cti_contact_centre.route_point_blind_transfer(route_point_id, call_id, address))

    def route_point_fail(self, route_point_id: str, call_id: str):
        """RoutePointFailCallRequest: the route point's failure policy, now."""
        return self._done(cti_contact_centre.route_point_fail_call(route_point_id, call_id))

    def route_point_release(self, route_point_id: str, call_id: str):
        """RoutePointReleaseCallRequest: the caller is released."""
        return self._done(cti_contact_centre.route_point_release_call(route_point_id, call_id))

    def route_point_admit(self, route_point_id: str, call_id: str, admit: bool = True):
        """RoutePointAdmitCallRequest (or RoutePointRejectCallRequest) of an announced call."""
        build = cti_contact_centre.route_point_admit_call if admit else cti_contact_centre.route_point_reject_call
        return self._done(build(route_point_id, call_id))

    def route_point_play(self, route_point_id: str, call_id: str, play: cc.RoutePointPlay):
        """The RoutePointPlay*Request of ``play``; fires with its playCollectId."""
        d = self.link.request(cti_contact_centre.route_point_play(route_point_id, call_id, play))
        return d.addCallback(lambda r: cc.parse_single_text(r.payload))

    def set_application_controller_state(self, controller_id: str, state: str):
        """SetApplicationControllerStateRequest (``ready`` | ``not ready``)."""
        return self._done(cti_contact_centre.set_application_controller_state(controller_id, state))
