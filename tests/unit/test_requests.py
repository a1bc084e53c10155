"""The CTI request payloads: schema validity inside their envelope, round trips, URIs."""

import pytest

from csta_connector.broadworks import requests, xsp

CTI_REQUESTS = [
    requests.add_channel("cs1", 1, 50, 3600, "app"),
    requests.delete_channel("ch-1"),
    requests.update_channel("ch-1", 3600),
    requests.add_user_subscription("2001@example.com", "cs1", "app", 3600),
    requests.update_subscription("sub-1", 3600),
    requests.delete_subscription("sub-1"),
    requests.get_application_controller_state("ctl-1"),
    requests.dial("2001@example.com", "2002"),
    requests.talk("2001@example.com", "callhalf-1:0"),
    requests.hold("2001@example.com", "callhalf-1:0"),
    requests.reconnect("2001@example.com", "callhalf-1:0"),
    requests.release("2001@example.com", "callhalf-1:0"),
    requests.release("2001@example.com", "callhalf-1:0", decline=True),
    requests.blind_transfer("2001@example.com", "callhalf-1:0", "2003"),
    requests.consultative_transfer("2001@example.com", "callhalf-1:0", "callhalf-2:0"),
    requests.transmit_dtmf("2001@example.com", "callhalf-1:0", "12#"),
    requests.conference_start("2001@example.com", ["callhalf-1:0", "callhalf-2:0"]),
]


@pytest.mark.parametrize("cti", CTI_REQUESTS, ids=lambda c: c.name + c.method)
def test_requests_validate_against_the_official_schemas(cti, bw_validator):
    data = xsp.encode(xsp.Request("7", "S", cti, xsp.credentials_for("admin", "pw")))
    assert bw_validator(data) == []


@pytest.mark.parametrize("cti", CTI_REQUESTS, ids=lambda c: c.name + c.method)
def test_request_round_trip(cti):
    request = xsp.Request("7", "S", cti, xsp.credentials_for("admin", "pw"))
    decoded = xsp.decode(xsp.encode(request))
    assert decoded == request
    assert decoded.payload.params == cti.params
    if cti.body is not None:
        assert xsp.xsi_values(decoded.payload.body) == xsp.xsi_values(cti.body)


def test_uri_carries_the_parameter_values():
    assert requests.update_subscription("a b", 3600).uri == "/com.broadsoft.xsi-events/v2.0/subscription/a%20b"
    assert requests.dial("2001@example.com", "+15550002002").uri.endswith(
        "/user/2001@example.com/calls/new?address=+15550002002"
    )
