"""XspXMLInterface documents: schema validity, round trips, tolerant decoding."""

import pytest

from csta_connector.broadworks import xsi, xsp

OTHER_DOCUMENTS = [
    xsp.Response("1", "S", 200, "OK", xsp.xsi_element("Subscription", ("subscriptionId", "s"), ("expires", 3600))),
    xsp.Response("2", "S", 200, "OK", xsp.xsi_element("Channel", ("channelId", "c"), ("expires", 3600))),
    xsp.Response("3", "S", 200, "OK", xsp.xsi_element("CallStartInfo", ("callId", "c"), ("externalTrackingId", "1:0"))),
    xsp.Response("4", "S", 404, "Not Found", xsp.error_info(110862, "subscription not found")),
    xsp.Response("5", "S", 200, "OK"),
    xsp.EventResponse("E1", "ev-1"),
    xsp.EventResponse("E2", "ev-2", 400, "Bad Request"),
    xsp.Keepalive("K1", 10),
    xsp.KeepaliveResponse("K1"),
]


@pytest.mark.parametrize("document", OTHER_DOCUMENTS, ids=lambda d: type(d).__name__)
def test_other_documents_validate(document, bw_validator):
    assert bw_validator(xsp.encode(document)) == []


@pytest.mark.parametrize("document", OTHER_DOCUMENTS, ids=lambda d: type(d).__name__)
def test_other_round_trips(document):
    decoded = xsp.decode(xsp.encode(document))
    assert decoded == document
    if isinstance(document, xsp.Response):
        assert xsp.xsi_values(decoded.payload) == xsp.xsi_values(document.payload)


def test_wire_form_is_declaration_document_newline():
    data = xsp.encode(xsp.KeepaliveResponse("K9"))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<xsp:keepaliveResponse')
    assert data.endswith(b"</xsp:keepaliveResponse>\n")


def test_event_decodes_with_payload_element():
    event = xsi.SubscriptionEvent("HookStatusEvent", "ev", 1, "u", "app", "sub", "ch", "t", hook_status="Off-Hook")
    decoded = xsp.decode(xsp.encode(xsp.Event("E7", xsi.event_element(event))))
    assert decoded.request_id == "E7"
    assert decoded.xsi_event() == event


def test_cti_payload_accepted_without_namespace():
    data = (
        b'<xsp:request xmlns:xsp="http://schema.broadsoft.com/XspXMLInterface"><requestId>3</requestId>'
        b"<sessionId>S</sessionId><credentials>YTpi</credentials><HoldRequest><uri>/x</uri><method>PUT</method>"
        b"<version/><params><subscriberid>u</subscriberid><callid>c</callid></params><payload/></HoldRequest></xsp:request>"
    )
    request = xsp.decode(data)
    assert request.payload.name == "HoldRequest"
    assert request.payload.param("callid") == "c"


@pytest.mark.parametrize(
    "data",
    [
        b"<xsp:response xmlns:xsp='http://schema.broadsoft.com/XspXMLInterface'><requestId>1</requestId>",
        b"<unknown/>",
        b"<xsp:response xmlns:xsp='http://schema.broadsoft.com/XspXMLInterface'><requestId>1</requestId><statusCode>x</statusCode></xsp:response>",
        b"<xsp:event xmlns:xsp='http://schema.broadsoft.com/XspXMLInterface'><requestId>1</requestId></xsp:event>",
    ],
)
def test_malformed_documents_raise_decode_error(data):
    with pytest.raises(xsp.XspDecodeError):
        xsp.decode(data)


def test_entities_are_not_expanded():
    data = (
        b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xsp:keepaliveResponse xmlns:xsp='http://schema.broadsoft.com/XspXMLInterface'><requestId>&e;</requestId></xsp:keepaliveResponse>"
    )
    try:
        decoded = xsp.decode(data)
    except xsp.XspDecodeError:
        return
    assert "root" not in (decoded.request_id or "")


def test_event_response_in_another_form_still_decodes():
    data = (
        b'<?xml version="1.0"?>\n<p:eventResponse xmlns:p="http://schema.broadsoft.com/XspXMLInterface" '
        b'xmlns:x="http://schema.broadsoft.com/xsi">\n  <requestId>E9</requestId>\n  <p:payload>'
        b"<x:EventResponse><x:eventID>a&amp;b</x:eventID><x:statusCode>500</x:statusCode>"
        b"<x:reason>oops</x:reason></x:EventResponse></p:payload></p:eventResponse>"
    )
    assert xsp.decode(data) == xsp.EventResponse("E9", "a&b", 500, "oops")


@pytest.mark.parametrize(
    "values",
    [("E1", "ev-1", 200, "OK"), ("E2", "ev-2", 400, "Bad Request"), ("E<3", "ev&4", 200, "OK"), ("E5", "é", 500, "x")],
)
def test_event_response_template_writes_what_the_tree_writes(values):
    kind = xsp.EventResponse
    fast, tree = xsp.encode_event_response(*values), xsp._encode_tree(kind(*values), kind)
    if all(v.isascii() for v in values if isinstance(v, str)):
        assert fast == tree
    else:  # the tree writes character references, the template UTF-8
        assert xsp.decode(tree) == kind(*values)
    assert xsp.decode(fast) == kind(*values)
