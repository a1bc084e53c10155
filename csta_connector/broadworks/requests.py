# -*- test-case-name: tests.unit.test_requests -*-
"""The CTI request payloads the connector sends (pure: no Twisted).

One builder per request of SPEC §3 and §5.2: each returns an
:class:`~csta_connector.broadworks.xsp.CtiRequest` holding the Xsi ``uri``,
``method``, ``params`` and body that BroadWorks' ``CTISchema`` expects. The
envelope they travel in is :mod:`~csta_connector.broadworks.xsp`'s business;
the simulator reads them back with the same names.
"""

from __future__ import annotations

from urllib.parse import quote

from lxml import etree

from csta_connector.broadworks.xsi import NSMAP as XSI_NSMAP, XSI_NS
from csta_connector.broadworks.xsp import CtiRequest, _sub, xsi_element

XSI_EVENTS = "/com.broadsoft.xsi-events/v2.0"
XSI_ACTIONS = "/com.broadsoft.xsi-actions/v2.0"
#: the event package of every subscription the connector adds
ADVANCED_CALL = "Advanced Call"

_X = "{%s}" % XSI_NS


def _q(value: str) -> str:
    return quote(str(value), safe="@+:")


def _user_call_uri(user: str, call_id: str, suffix: str = "") -> str:
    return "%s/user/%s/calls/%s%s" % (XSI_ACTIONS, _q(user), _q(call_id), suffix)


def add_channel(
    channel_set_id: str, priority: int, weight: int, expires: int, application_id: str
) -> CtiRequest:
    return CtiRequest(
        "AddChannelRequest",
        XSI_EVENTS + "/channel",
        "POST",
        (),
        xsi_element(
            "Channel",
            ("channelSetId", channel_set_id),
            ("priority", priority),
            ("weight", weight),
            ("expires", expires),
            ("applicationId", application_id),
        ),
    )


def update_channel(channel_id: str, expires: int) -> CtiRequest:
    """Refresh a channel's expiry (only ``expires`` can change)."""
    return CtiRequest(
        "UpdateChannelRequest",
        "%s/channel/%s" % (XSI_EVENTS, _q(channel_id)),
        "PUT",
        (("channelId", channel_id),),
        xsi_element("Channel", ("expires", expires)),
    )


def delete_channel(channel_id: str) -> CtiRequest:
    return CtiRequest(
        "DeleteChannelRequest",
        "%s/channel/%s" % (XSI_EVENTS, _q(channel_id)),
        "DELETE",
        (("channelId", channel_id),),
    )


def add_user_subscription(
    user_id: str,
    channel_set_id: str,
    application_id: str,
    expires: int,
    event_package: str = ADVANCED_CALL,
) -> CtiRequest:
    return CtiRequest(
        "AddUserSubscriptionRequest",
        "%s/user/%s" % (XSI_EVENTS, _q(user_id)),
        "POST",
        (("userId", user_id),),
        xsi_element(
            "Subscription",
            ("event", event_package),
            ("expires", expires),
            ("channelSetId", channel_set_id),
            ("applicationId", application_id),
        ),
    )


def update_subscription(subscription_id: str, expires: int) -> CtiRequest:
    return CtiRequest(
        "UpdateSubscriptionRequest",
        "%s/subscription/%s" % (XSI_EVENTS, _q(subscription_id)),
        "PUT",
        (("subscriptionId", subscription_id),),
        xsi_element("Subscription", ("expires", expires)),
    )


def delete_subscription(subscription_id: str) -> CtiRequest:
    return CtiRequest(
        "DeleteSubscriptionRequest",
        "%s/subscription/%s" % (XSI_EVENTS, _q(subscription_id)),
        "DELETE",
        (("subscriptionId", subscription_id),),
    )


def get_application_controller_state(controller_id: str) -> CtiRequest:
    return CtiRequest(
        "GetApplicationControllerStateRequest",
        "%s/system/services/routepoint/applicationcontroller/%s"
        % (XSI_ACTIONS, _q(controller_id)),
        "GET",
        (("applicationcontrollerid", controller_id),),
    )


def dial(user: str, address: str) -> CtiRequest:
    return CtiRequest(
        "DialRequest",
        "%s/user/%s/calls/new?address=%s" % (XSI_ACTIONS, _q(user), _q(address)),
        "POST",
        (("subscriberid", user), ("address", address)),
    )


def _call_request(name: str, suffix: str, method: str = "PUT"):
    def build(user: str, call_id: str) -> CtiRequest:
        return CtiRequest(
            name,
            _user_call_uri(user, call_id, suffix),
            method,
            (("subscriberid", user), ("callid", call_id)),
        )

    build.__name__ = name
    build.__doc__ = "Build a %s for one call of a user." % name
    return build


talk = _call_request("TalkRequest", "/talk")
hold = _call_request("HoldRequest", "/hold")
reconnect = _call_request("ReconnectRequest", "/reconnect")


def release(user: str, call_id: str, decline: bool = False) -> CtiRequest:
    params = [("subscriberid", user), ("callid", call_id)]
    uri = _user_call_uri(user, call_id)
    if decline:
        params.append(("decline", "true"))
        uri += "?decline=true"
    return CtiRequest("ReleaseRequest", uri, "DELETE", tuple(params))


def blind_transfer(user: str, call_id: str, address: str) -> CtiRequest:
    return CtiRequest(
        "BlindTransferRequest",
        _user_call_uri(user, call_id, "/blindtransfer?address=%s" % _q(address)),
        "PUT",
        (("subscriberid", user), ("callid", call_id), ("address", address)),
    )


def consultative_transfer(user: str, call_id1: str, call_id2: str) -> CtiRequest:
    return CtiRequest(
        "ConsultativeTransferRequest",
        _user_call_uri(user, call_id1, "/ConsultTransfer/%s" % _q(call_id2)),
        "PUT",
        (("subscriberid", user), ("callid1", call_id1), ("callid2", call_id2)),
    )


def transmit_dtmf(user: str, call_id: str, digits: str) -> CtiRequest:
    return CtiRequest(
        "TransmitDTMFRequest",
        _user_call_uri(user, call_id, "/transmitDTMF?playdtmf=%s" % _q(digits)),
        "PUT",
        (("subscriberid", user), ("callid", call_id), ("PlayDTMF", digits)),
    )


def conference_start(user: str, call_ids) -> CtiRequest:
    conference = etree.Element(_X + "Conference", nsmap=XSI_NSMAP)
    participants = _sub(conference, _X + "conferenceParticipantList")
    for call_id in call_ids:
        _sub(_sub(participants, _X + "conferenceParticipant"), _X + "callId", call_id)
    return CtiRequest(
        "ConferenceStartRequest",
        "%s/user/%s/calls/conference" % (XSI_ACTIONS, _q(user)),
        "POST",
        (("subscriberid", user),),
        conference,
    )
