"""Xsi events: typed parsing, building, schema validity."""


import pytest
from hypothesis import given, strategies as st
from lxml import etree

from csta_connector.broadworks import xsi, xsp
from csta_connector.testing import ALERTING, PARTY, REDIRECTED, RELEASED, xsi_event

EVENTS = [
    xsi_event("CallReceivedEvent", call=ALERTING),
    xsi_event("CallReleasedEvent", call=RELEASED),
    xsi_event("CallHeldEvent", call=xsi.Call("c", "1:0", "Originator", "Held", PARTY, allow_retrieve=True, start_time=1, answer_time=2, held_time=3)),
    xsi_event("CallRedirectedEvent", calls=(REDIRECTED,)),
    xsi_event("CallSubscriptionEvent", calls=(ALERTING,), hook_status="Off-Hook"),
    xsi_event("CallSubscriptionResyncEvent", hook_status="On-Hook"),
    xsi_event("HookStatusEvent", hook_status="Off-Hook"),
    xsi_event("ConferenceStartedEvent", conference=xsi.Conference("Active", ("c1", "c2"))),
    xsi_event("ConferenceReleasedEvent", conference=xsi.Conference("Released")),
    xsi_event("SubscriptionTerminatedEvent"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_round_trip(event):
    assert xsi.parse_event(xsi.event_element(event)) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_built_events_validate(event, bw_validator):
    assert bw_validator(xsp.encode(xsp.Event("E1", xsi.event_element(event)))) == []


def test_channel_terminated_round_trip(bw_validator):
    event = xsi.ChannelTerminatedEvent("ch-1", "NonResponsiveChannel")
    element = xsi.event_element(event)
    assert xsi.parse_event(element) == event
    assert bw_validator(xsp.encode(xsp.Event("E1", element))) == []


def test_parsing_is_namespace_aware_not_prefix_bound():
    # the conventional meaning of the prefixes is swapped here on purpose
    data = b"""<a:Event xmlns:a="http://schema.broadsoft.com/xsi" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xsi:type="a:SubscriptionEvent"><a:eventID>e</a:eventID><a:sequenceNumber>2</a:sequenceNumber>
      <a:userId>u</a:userId><a:externalApplicationId>x</a:externalApplicationId><a:subscriptionId>s</a:subscriptionId>
      <a:eventData xsi:type="a:HookStatusEvent"><a:hookStatus>On-Hook</a:hookStatus></a:eventData></a:Event>"""
    event = xsi.parse_event(etree.fromstring(data))
    assert (event.event_type, event.hook_status, event.sequence_number, event.target_id) == ("HookStatusEvent", "On-Hook", 2, None)


def test_unknown_event_type_is_kept_as_unknown():
    element = xsi.event_element(xsi_event("HookStatusEvent", hook_status="On-Hook"))
    element.find("{%s}eventData" % xsi.XSI_NS).set("{%s}type" % xsi.XSD_INSTANCE_NS, "xsi:CallCenterMonitoringEvent")
    event = xsi.parse_event(element)
    assert isinstance(event, xsi.UnknownEvent)
    assert (event.event_type, event.event_id, event.subscription_id) == ("CallCenterMonitoringEvent", "ev-1", "sub-1")


def test_call_event_without_call_is_a_parse_error():
    element = xsi.event_element(xsi_event("HookStatusEvent", hook_status="On-Hook"))
    element.find("{%s}eventData" % xsi.XSI_NS).set("{%s}type" % xsi.XSD_INSTANCE_NS, "xsi:CallAnsweredEvent")
    with pytest.raises(xsi.XsiParseError):
        xsi.parse_event(element)


def test_bad_sequence_number_is_a_parse_error():
    element = xsi.event_element(xsi_event("HookStatusEvent", hook_status="On-Hook"))
    element.find("{%s}sequenceNumber" % xsi.XSI_NS).text = "seven"
    with pytest.raises(xsi.XsiParseError):
        xsi.parse_event(element)


_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e, blacklist_characters="<>&"), min_size=1, max_size=20)


@given(
    call_id=_text, tracking=_text,
    personality=st.sampled_from(["Originator", "Terminator", "Click-to-Dial"]),
    state=st.sampled_from(["Alerting", "Active", "Held", "Remote Held", "Released"]),
    name=st.none() | st.text(min_size=1, max_size=10).filter(lambda s: s.strip() == s and s.isprintable()),
    start=st.integers(min_value=0, max_value=2**50),
)
def test_call_round_trip_property(call_id, tracking, personality, state, name, start):
    call = xsi.Call(call_id, tracking, personality, state, xsi.RemoteParty(name=name, address="tel:2002"), start_time=start)
    assert xsi.parse_event(xsi.event_element(xsi_event("CallUpdatedEvent", call=call))).call == call


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_serialized_event_in_an_envelope_validates_and_parses_back(event, bw_validator):
    data = xsp.encode(xsp.Event("E5", xsi.event_xml(event)))
    assert bw_validator(data) == []
    assert xsp.decode(data).xsi_event() == event


def test_text_is_escaped():
    party = xsi.RemoteParty(name="Smith & <Jones>", address="tel:+15550002001")
    event = xsi_event("CallReceivedEvent", call=ALERTING._replace(remote_party=party))
    assert xsi.parse_event(etree.fromstring(xsi.event_xml(event))).call.remote_party.name == "Smith & <Jones>"
