"""A small client of the simulator's control API (tests, benchmarks, the demo)."""

from __future__ import annotations

import json

from twisted.internet import defer
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers

from csta_connector.broadworks.xsi_link import BytesBody


class ControlAPIError(Exception):
    def __init__(self, status, message):
        super().__init__("%s: %s" % (status, message))
        self.status = status
        self.message = message


class ControlClient:
    def __init__(self, reactor, host: str, port: int):
        self.base = "http://%s:%d" % (host, port)
        self.agent = Agent(reactor)

    @defer.inlineCallbacks
    def _call(self, method: bytes, path: str, body=None):
        producer = BytesBody(json.dumps(body).encode()) if body is not None else None
        response = yield self.agent.request(
            method,
            (self.base + path).encode(),
            Headers({b"Content-Type": [b"application/json"]}),
            producer,
        )
        data = yield readBody(response)
        document = json.loads(data) if data else None
        if response.code >= 400:
            raise ControlAPIError(
                response.code, (document or {}).get("error") if isinstance(document, dict) else data
            )
        return document

    def get(self, path: str):
        return self._call(b"GET", path)

    def post(self, path: str, body=None):
        return self._call(b"POST", path, body if body is not None else {})

    # the calls tests and the demo make most
    def status(self):
        return self.get("/status")

    def place_call(self, caller: str, callee: str):
        return self.post("/calls", {"from": caller, "to": callee})

    def user_action(self, user: str, action: str, call_id: str | None = None):
        return self.post("/users/%s/%s" % (user, action), {"callId": call_id} if call_id else {})

    def calls_of(self, user: str):
        return self.get("/users/%s/calls" % user)

    def failover(self, mode: str):
        return self.post("/failover", {"mode": mode})

    # the contact centre (SPEC §10)
    def agent_state(self, agent: str, state: str, unavailable_code: str | None = None):
        body = {"state": state}
        if unavailable_code is not None:
            body["unavailableCode"] = unavailable_code
        return self.post("/agents/%s/state" % agent, body)

    def join(self, agent: str, queue: str, joined: bool = True):
        return self.post("/agents/%s/join" % agent, {"acd": queue, "joined": joined})

    def queue_calls(self, queue: str):
        return self.get("/queues/%s/calls" % queue)

    def route_point_calls(self, route_point: str):
        return self.get("/routepoints/%s/calls" % route_point)

    def press_digits(self, ext_tracking_id: str, digits: str):
        return self.post("/calls/%s/digits" % ext_tracking_id, {"digits": digits})
