# -*- test-case-name: tests.unit.test_xsi_contact_centre -*-
"""CTI request builders of the contact centre (pure: no Twisted).

One builder per request of CTISchema ``ACD/CTIACD.xsd``, ``Agent/CTIAgent.xsd``
(the two the product uses), ``RoutePoint/CTIRoutePoint.xsd`` and
``System/CTISystem.xsd`` (SetApplicationControllerStateRequest; the Get is in
``requests.py``, the builders of the user requests). The URIs are the Xsi-Actions ones the schemas document, the
methods their fixed values, the parameters in schema order; the bodies come
from :mod:`xsi_contact_centre`. The connector sends them, the simulator's
tests too.
"""

from __future__ import annotations

from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.requests import XSI_ACTIONS, _q
from csta_connector.broadworks.xsp import CtiRequest


def _call_center_uri(call_center: str, suffix: str = "") -> str:
    return "%s/callcenter/%s/calls%s" % (XSI_ACTIONS, _q(call_center), suffix)


def _route_point_uri(route_point: str, suffix: str = "") -> str:
    return "%s/routepoint/%s%s" % (XSI_ACTIONS, _q(route_point), suffix)


def _agent_uri(agent: str) -> str:
    return "%s/user/%s/services/callcenter" % (XSI_ACTIONS, _q(agent))


# -- Agent ------------------------------------------------------------------


def set_agent_state(agent: str, state: str, unavailable_code: str | None = None) -> CtiRequest:
    """SetAgentStateRequest: the agent's ACD state (XSIDataTypes ``AgentState``)."""
    return CtiRequest(
        "SetAgentStateRequest",
        _agent_uri(agent),
        "PUT",
        (("subscriberid", agent),),
        cc.call_center_element(cc.CallCenterSettings(state, unavailable_code)),
    )


def get_agent_state(agent: str) -> CtiRequest:
    """GetAgentStateRequest: answered with ``xsi:CallCenter``."""
    return CtiRequest("GetAgentStateRequest", _agent_uri(agent), "GET", (("subscriberid", agent),))


# -- ACD --------------------------------------------------------------------


def acd_blind_transfer(call_center: str, call_id: str, address: str) -> CtiRequest:
    return CtiRequest(
        "ACDBlindTransferRequest",
        _call_center_uri(call_center, "/%s/blindtransfer?phoneno=%s" % (_q(call_id), _q(address))),
        "PUT",
        (("callcenterid", call_center), ("callid", call_id), ("phoneno", address)),
    )


def acd_promote_call(call_center: str, call_id: str, priority: str) -> CtiRequest:
    """ACDPromoteCallRequest (``priority``: ``ACDPriorityType``); answered with
    ``xsi:QueueCallOrder``."""
    return CtiRequest(
        "ACDPromoteCallRequest",
        _call_center_uri(call_center, "/%s/promote" % _q(call_id)),
        "PUT",
        (("callcenterid", call_center), ("callid", call_id)),
        cc.acd_promote_element(priority),
    )


def acd_release_call(call_center: str, call_id: str) -> CtiRequest:
    return CtiRequest(
        "ACDReleaseCallRequest",
        _call_center_uri(call_center, "/%s" % _q(call_id)),
        "DELETE",
        (("callcenterid", call_center), ("callid", call_id)),
    )


def acd_reorder_call(call_center: str, call_id: str, index: int) -> CtiRequest:
    """ACDReorderCallRequest; answered with ``xsi:QueueCallOrder``."""
    return CtiRequest(
        "ACDReorderCallRequest",
        _call_center_uri(call_center, "/%s/reorder?index=%d" % (_q(call_id), index)),
        "PUT",
        (("callcenterid", call_center), ("callid", call_id), ("index", str(index))),
    )


def get_acd(call_center: str) -> CtiRequest:
    """GetACDRequest: answered with ``xsi:ACDQueue``."""
    return CtiRequest("GetACDRequest", _call_center_uri(call_center), "GET", (("callcenterid", call_center),))


# -- Route Point ------------------------------------------------------------


def _route_point_call(name: str, suffix: str, method: str = "PUT"):
    def build(route_point: str, call_id: str) -> CtiRequest:
        return CtiRequest(
            name,
            _route_point_uri(route_point, "/calls/%s%s" % (_q(call_id), suffix)),
            method,
            (("routepointId", route_point), ("callId", call_id)),
        )

    build.__name__ = name
    build.__doc__ = "Build a %s for one call of a route point." % name
    return build


route_point_fail_call = _route_point_call("RoutePointFailCallRequest", "/fail")
route_point_bounce_call = _route_point_call("RoutePointBounceCallRequest", "/bounce")
route_point_release_call = _route_point_call("RoutePointReleaseCallRequest", "/", "DELETE")
route_point_admit_call = _route_point_call("RoutePointAdmitCallRequest", "/admit")
route_point_reject_call = _route_point_call("RoutePointRejectCallRequest", "/reject")


def route_point_distribute_call(route_point: str, call_id: str, distribute: cc.RoutePointDistribute) -> CtiRequest:
    """RoutePointDistributeCallRequest: offer the call to ``distribute.agent_id``."""
    return CtiRequest(
        "RoutePointDistributeCallRequest",
        _route_point_uri(route_point, "/calls/%s/distribute" % _q(call_id)),
        "PUT",
        (("routepointId", route_point), ("callId", call_id)),
        cc.route_point_distribute_element(distribute),
    )


def route_point_blind_transfer(route_point: str, call_id: str, address: str) -> CtiRequest:
    return CtiRequest(
        "RoutePointBlindTransferRequest",
        _route_point_uri(route_point, "/calls/%s/blindtransfer?address=%s" % (_q(call_id), _q(address))),
        "PUT",
        (("routepointId", route_point), ("callId", call_id), ("address", address)),
    )


def route_point_play(route_point: str, call_id: str, play: cc.RoutePointPlay) -> CtiRequest:
    """The RoutePointPlay*Request of ``play.kind``; answered with ``xsi:RoutePointPlayInfo``."""
    return CtiRequest(
        play.kind.request,
        _route_point_uri(route_point, "/calls/%s/%s" % (_q(call_id), play.kind.uri_suffix)),
        "PUT",
        (("routepointId", route_point), ("callId", call_id)),
        cc.route_point_play_element(play),
    )


def get_route_point(route_point: str) -> CtiRequest:
    """GetRoutePointRequest: answered with ``xsi:RoutePointQueue``."""
    return CtiRequest(
        "GetRoutePointRequest", _route_point_uri(route_point, "/calls"), "GET", (("routepointId", route_point),)
    )


def get_route_point_state(route_point: str) -> CtiRequest:
    """GetRoutePointStateRequest: answered with ``xsi:RoutePointState``."""
    return CtiRequest(
        "GetRoutePointStateRequest",
        _route_point_uri(route_point, "/profile/state"),
        "GET",
        (("routepointId", route_point),),
    )


def modify_route_point_state(route_point: str, state: str) -> CtiRequest:
    """ModifyRoutePointStateRequest (``state``: Normal | Failed)."""
    return CtiRequest(
        "ModifyRoutePointStateRequest",
        _route_point_uri(route_point, "/profile/state"),
        "PUT",
        (("routepointId", route_point),),
        cc.route_point_state_element(state),
    )


# -- System -----------------------------------------------------------------


def set_application_controller_state(controller_id: str, state: str) -> CtiRequest:
    """SetApplicationControllerStateRequest (``state``: ready | not ready)."""
    return CtiRequest(
        "SetApplicationControllerStateRequest",
        "%s/system/services/routepoint/applicationcontroller/%s" % (XSI_ACTIONS, _q(controller_id)),
        "PUT",
        (("applicationcontrollerid", controller_id),),
        cc.application_controller_element(state),
    )
