# -*- test-case-name: tests.protocol.test_sim_control -*-
"""The simulator's control API: HTTP + JSON over the call engine (SPEC §4).

Used by tests, benchmarks, the demo and people. Every answer is a JSON
document; errors are 4xx with ``{"error": "..."}`` (a 500 only for a bug, and
never with a traceback).

====================================  ==========================================
``GET  /status``                      ``{"active_as", "users", "calls", "orphaned_calls",
                                      "queued_calls", "route_point_calls",
                                      "agents_available", "app_controller"}``
``POST /calls``                       ``{"from": "2001", "to": "2002"}``: the user picks up
                                      the phone and dials -> ``{"extTrackingId", "callId"}``
                                      (the caller's half). ``from`` may be a network
                                      number (7+ digits, not the platform's): an
                                      external party calls in. ``to`` may be a
                                      call center (``5001``) or route point (``6001``).
``GET  /users/<u>``                   the user's settings and hook status
``POST /users/<u>/settings``          ``{"busy": bool, "callWaiting": bool}`` (either);
                                      busy: every call to the user fails with Busy;
                                      callWaiting false: busy while it has a call
``GET  /users/<u>/calls``             the calls the active AS knows for the user
``POST /users/<u>/answer``            answer the alerting call \\
``POST /users/<u>/hold``              hold the active call     | optional body
``POST /users/<u>/retrieve``          retrieve the held call   | ``{"callId": "..."}``
``POST /users/<u>/release``           hang up (the active call; |
                                      also ends orphaned calls, silently) /
``GET  /network/calls``               the network (external) parties' calls
``POST /network/<number>/answer``     the external party answers its alerting call
``POST /network/<number>/release``    the external party hangs up; optional body
                                      ``{"extTrackingId": "..."}`` picks the call
``POST /failover``                    ``{"mode": "graceful"|"ungraceful"}``
``GET  /xsp``                         the XSP front-ends: index, port, state, connections
``POST /xsp/<n>/down``                ``{"mode": "close"|"hang"}``: front-end n (from 1)
                                      closes its connections (and refuses new
                                      ones), or keeps them open but stops
                                      answering and delivering
``POST /xsp/<n>/up``                  front-end n works again
``GET  /queues``                      the call centers: ``[{"acd", "userId", "policy",
                                      "agents": [{"agent", "joined"}], "calls"}]``
``GET  /queues/<q>/calls``            its queue entries on the active AS (ACDQueueEntry)
``GET  /agents/<u>``                  ``{"agent", "userId", "state", "unavailableCode",
                                      "queues": [{"acd", "joined"}]}``
``POST /agents/<u>/state``            ``{"state": "Available", "unavailableCode": "..."}``:
                                      the agent changes state on the phone
``POST /agents/<u>/join``             ``{"acd": "5001", "joined": bool}``: the
                                      administrator joins or removes the agent
``GET  /routepoints``                 the route points and their failure policy
``GET  /routepoints/<r>/calls``       its queue entries (RoutePointQueueEntry)
``POST /routepoints/<r>/state``       ``{"state": "Failed"|"Normal"}`` (as
                                      ModifyRoutePointStateRequest)
``POST /routepoints/<r>/policy``      ``{"no-request-seconds": 10, "failed-destination":
                                      "2009"}`` (either; a null destination: busy)
``POST /calls/<extTrackingId>/digits`` ``{"digits": "12#"}``: the caller of a route point
                                      call presses keys -> ``{"result": "Match" |
                                      "NoMatch" | "collecting"}``
====================================  ==========================================

``<u>`` is an extension (``2002``), a user id, or a number; so are ``<q>``
and ``<r>`` for call centers and route points. A call is
``{"callId", "extTrackingId", "personality", "state", "remoteParty"
(address), "remoteName", "remoteUserId", "startTime", "answerTime",
"heldTime"}``. A queue entry has the schema's names: ``{"position",
"callId", "extTrackingId", "remoteParty", "remoteName", "remoteUserId",
"addTime", "removeTime", "bounced", "acdName", "acdNumber", "acdPriority",
"answeringUserId", "answeringCallId"}`` (a route point's: ``routePointName``,
``routePointNumber``, ``playCollectInfo`` ``{"playCollectId",
"playCollectType"}`` instead of the acd ones).
"""

from __future__ import annotations

import json

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import resource, server

from csta_connector import lms
from csta_connector.simulator.errors import SimulatorError

_USER_ACTIONS = ("answer", "hold", "retrieve", "release")
_NETWORK_ACTIONS = ("answer", "release")


class ControlError(Exception):
    """A request the API refuses before it reaches the engine."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def entry_json(position, entry) -> dict:
    """A queue entry (ACD or route point) in the schema's names."""
    party = entry.remote_party
    body = {
        "position": position,
        "callId": entry.call_id,
        "extTrackingId": entry.ext_tracking_id,
        "remoteParty": party.address,
        "remoteName": party.name,
        "remoteUserId": party.user_id,
        "addTime": entry.add_time,
        "removeTime": entry.remove_time,
        "bounced": entry.bounced,
    }
    if hasattr(entry, "acd_name"):
        body.update(acdName=entry.acd_name, acdNumber=entry.acd_number, acdPriority=entry.acd_priority)
    else:
        info = entry.play_collect_info
        body.update(
            routePointName=entry.route_point_name,
            routePointNumber=entry.route_point_number,
            playCollectInfo=(
                {"playCollectId": info.play_collect_id, "playCollectType": info.play_collect_type}
                if info is not None else None
            ),
        )
    body.update(answeringUserId=entry.answering_user_id, answeringCallId=entry.answering_call_id)
    return body


def call_json(call) -> dict:
    party = call.remote_party
    return {
        "callId": call.call_id,
        "extTrackingId": call.ext_tracking_id,
        "personality": call.personality,
        "state": call.state,
        "remoteParty": party.address,
        "remoteName": party.name,
        "remoteUserId": party.user_id,
        "startTime": call.start_time,
        "answerTime": call.answer_time,
        "heldTime": call.held_time,
    }


class ControlResource(resource.Resource):
    """One leaf resource that routes on method and path itself: small enough
    that a route table reads better than a tree of child resources."""

    isLeaf = True
    log = Logger()

    def __init__(self, engine, xsp=None):
        super().__init__()
        self.engine = engine
        self.xsp = xsp

    def render(self, request):
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        try:
            status, body = self._dispatch(request)
        except ControlError as e:
            status, body = e.status, {"error": e.message}
        except SimulatorError as e:
            status = e.status_code
            body = {"error": e.summary, "errorCode": e.error_code}
        except Exception:
            lms.emit(self.log, lms.SIMULATOR_CONTROL_REQUEST_FAILED, failure=Failure(),
                     method=request.method.decode("ascii", "replace"),
                     uri=request.uri.decode("ascii", "replace"))
            status, body = 500, {"error": "internal error"}
        request.setResponseCode(status)
        return json.dumps(body).encode("utf-8") + b"\n"

    # ------------------------------------------------------------------ routing

    def _dispatch(self, request):
        method = request.method.decode("ascii", "replace").upper()
        try:
            path = [p.decode("utf-8") for p in request.postpath]
        except UnicodeDecodeError:
            raise ControlError(400, "path is not UTF-8") from None
        while path and path[-1] == "":
            path.pop()  # tolerate a trailing slash
        route = self._route(path)
        if route is None:
            raise ControlError(404, "no such resource: /" + "/".join(path))
        handlers, args = route
        handler = handlers.get(method)
        if handler is None:
            request.setHeader(b"allow", ", ".join(sorted(handlers)).encode())
            raise ControlError(405, "method %s not allowed here" % method)
        if method == "POST":
            return handler(self._body(request), *args)
        return handler(*args)

    def _route(self, path):
        if path == ["status"]:
            return {"GET": self._status}, ()
        if path == ["calls"]:
            return {"POST": self._make_call}, ()
        if path == ["failover"]:
            return {"POST": self._failover}, ()
        if path == ["network", "calls"]:
            return {"GET": self._network_calls}, ()
        if path == ["xsp"] and self.xsp is not None:
            return {"GET": self._front_ends}, ()
        if len(path) == 3 and path[0] == "xsp" and path[2] in ("down", "up") and self.xsp is not None:
            return {"POST": self._front_end_action}, (path[1], path[2])
        if len(path) == 2 and path[0] == "users":
            return {"GET": self._user}, (path[1],)
        if len(path) == 3 and path[0] == "users":
            if path[2] == "calls":
                return {"GET": self._user_calls}, (path[1],)
            if path[2] == "settings":
                return {"POST": self._settings}, (path[1],)
            if path[2] in _USER_ACTIONS:
                return {"POST": self._user_action}, (path[1], path[2])
        if len(path) == 3 and path[0] == "network" and path[2] in _NETWORK_ACTIONS:
            return {"POST": self._network_action}, (path[1], path[2])
        return self._contact_centre_route(path)

    def _contact_centre_route(self, path):
        if path == ["queues"]:
            return {"GET": self._queues}, ()
        if len(path) == 3 and path[0] == "queues" and path[2] == "calls":
            return {"GET": self._queue_calls}, (path[1],)
        if len(path) == 2 and path[0] == "agents":
            return {"GET": self._agent}, (path[1],)
        if len(path) == 3 and path[0] == "agents" and path[2] in ("state", "join"):
            return {"POST": self._agent_state if path[2] == "state" else self._agent_join}, (path[1],)
        if path == ["routepoints"]:
            return {"GET": self._route_points}, ()
        if len(path) == 3 and path[0] == "routepoints":
            if path[2] == "calls":
                return {"GET": self._route_point_calls}, (path[1],)
            if path[2] == "state":
                return {"POST": self._route_point_state}, (path[1],)
            if path[2] == "policy":
                return {"POST": self._route_point_policy}, (path[1],)
        if len(path) == 3 and path[0] == "calls" and path[2] == "digits":
            return {"POST": self._digits}, (path[1],)
        return None

    @staticmethod
    def _body(request) -> dict:
        raw = request.content.read() if request.content is not None else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ControlError(400, "body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        return body

    @staticmethod
    def _string(body, key, required=True):
        value = body.get(key)
        if value is None and not required:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # {"from": 2001} is what people type
        if not isinstance(value, str) or not value:
            raise ControlError(400, "%r must be a non-empty string" % key)
        return value

    # ---------------------------------------------------------------- handlers

    def _status(self):
        return 200, self.engine.status()

    def _make_call(self, body):
        caller = self._string(body, "from")
        destination = self._string(body, "to")
        if self.engine.resolve_user(caller) is not None:
            call = self.engine.dial(caller, destination)
        else:
            call = self.engine.network_call(caller, destination)
        return 200, {"extTrackingId": call.ext_tracking_id, "callId": call.call_id}

    def _failover(self, body):
        mode = self._string(body, "mode")
        self.engine.failover(mode)  # which logs SIMULATOR_FAILOVER
        if mode == "ungraceful" and self.xsp is not None and self.xsp.drop_channels_on_failover:
            self.xsp.drop_all_channels()
        return 200, self.engine.status()

    def _user(self, user):
        return 200, self.engine.user_info(user)

    def _user_calls(self, user):
        return 200, [call_json(c) for c in self.engine.calls_of(user)]

    def _settings(self, body, user):
        options = {}
        for key, name in (("busy", "busy"), ("callWaiting", "call_waiting")):
            if key in body:
                if not isinstance(body[key], bool):
                    raise ControlError(400, "%r must be true or false" % key)
                options[name] = body[key]
        unknown = set(body) - {"busy", "callWaiting"}
        if unknown:
            raise ControlError(400, "unknown settings: %s" % ", ".join(sorted(unknown)))
        return 200, self.engine.set_user_options(user, **options)

    def _user_action(self, body, user, action):
        call_id = self._string(body, "callId", required=False)
        if action == "release":
            self.engine.hang_up(user, call_id)
            return 200, {"released": True}
        method = getattr(self.engine, action)
        return 200, call_json(method(user, call_id))

    def _front_ends(self):
        return 200, self.xsp.front_end_status()

    def _front_end_action(self, body, number, action):
        try:
            index = int(number) - 1
        except ValueError:
            raise ControlError(400, "XSP front-end must be a number from 1") from None
        if not 0 <= index < len(self.xsp.front_ends):
            raise ControlError(404, "no XSP front-end %s" % number)
        if action == "up":
            self.xsp.front_end_up(index)
        else:
            mode = body.get("mode", "close")
            if mode not in ("close", "hang"):
                raise ControlError(400, "'mode' must be 'close' or 'hang'")
            self.xsp.front_end_down(index, mode)
        return 200, self.xsp.front_end_status()[index]

    # ------------------------------------------------------- contact centre

    def _queues(self):
        return 200, [center.view() for center in self.engine.call_centers.centers]

    def _queue_calls(self, queue):
        center = self.engine.call_centers.center(queue)
        return 200, [entry_json(n, entry) for n, entry in enumerate(center.entries(), 1)]

    def _agent(self, agent):
        return 200, self.engine.call_centers.agent_view(agent)

    def _agent_state(self, body, agent):
        unknown = set(body) - {"state", "unavailableCode"}
        if unknown:
            raise ControlError(400, "unknown fields: %s" % ", ".join(sorted(unknown)))
        state = self._string(body, "state")
        code = self._string(body, "unavailableCode", required=False)
        self.engine.call_centers.set_agent_state(agent, state, code)
        return 200, self.engine.call_centers.agent_view(agent)

    def _agent_join(self, body, agent):
        queue = self._string(body, "acd")
        joined = body.get("joined", True)
        if not isinstance(joined, bool):
            raise ControlError(400, "'joined' must be true or false")
        self.engine.call_centers.join(agent, queue, joined)
        return 200, self.engine.call_centers.agent_view(agent)

    def _route_points(self):
        return 200, [route_point.view() for route_point in self.engine.route_points.route_points]

    def _route_point_calls(self, route_point):
        holder = self.engine.route_points.route_point(route_point)
        return 200, [entry_json(n, entry) for n, entry in enumerate(holder.entries(), 1)]

    def _route_point_state(self, body, route_point):
        holder = self.engine.route_points.route_point(route_point)
        holder.set_state(self._string(body, "state"))
        return 200, holder.view()

    def _route_point_policy(self, body, route_point):
        holder = self.engine.route_points.route_point(route_point)
        unknown = set(body) - {"no-request-seconds", "failed-destination"}
        if unknown:
            raise ControlError(400, "unknown fields: %s" % ", ".join(sorted(unknown)))
        seconds = body.get("no-request-seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
            raise ControlError(400, "'no-request-seconds' must be a number")
        destination = None
        if body.get("failed-destination") is not None:
            destination = self._string(body, "failed-destination")
        return 200, holder.set_policy(
            seconds, destination, clear_destination="failed-destination" in body and destination is None
        )

    def _digits(self, body, ext_tracking_id):
        digits = self._string(body, "digits")
        return 200, {"result": self.engine.route_points.press(ext_tracking_id, digits)}

    def _network_calls(self):
        return 200, [call_json(c) for c in self.engine.network_calls()]

    def _network_action(self, body, number, action):
        ext_tracking_id = self._string(body, "extTrackingId", required=False)
        if action == "answer":
            return 200, call_json(self.engine.network_answer(number, ext_tracking_id))
        self.engine.network_release(number, ext_tracking_id)
        return 200, {"released": True}


def make_control_site(engine, reactor=None, xsp=None) -> server.Site:
    """The control API's ``Site`` (``reactor``: the clock for its timeouts;
    ``xsp``: the XspServer, for the /xsp endpoints)."""
    site = server.Site(ControlResource(engine, xsp), reactor=reactor)
    site.displayTracebacks = False
    site.noisy = False
    return site
