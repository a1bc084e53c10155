"""The fakes of csta_connector.testing provide the interfaces they stand in
for, as the product objects they replace do."""

from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from csta_connector.broadworks.channelset import ChannelSet
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.interfaces import (
    IBroadWorksLink,
    ICSTAServices,
    IEventSink,
    ILinkListener,
    ISubscriptionClient,
)
from csta_connector.services.core import ConnectorCore
from csta_connector.testing import FakeServices, RecordingEventSink, RecordingListener, ScriptedClient, Wire


# -- the CSTA side


def test_fake_services_provide_icstaservices():
    assert verifyObject(ICSTAServices, FakeServices())


# -- BroadWorks side and services


def test_the_recording_event_sink_is_an_event_sink_as_the_core_is():
    assert verifyObject(IEventSink, RecordingEventSink(Clock()))
    assert verifyObject(IEventSink, ConnectorCore(ScriptedClient(), Clock()))
    assert verifyObject(ICSTAServices, ConnectorCore(ScriptedClient(), Clock()))


def test_the_recording_listener_is_a_link_listener_as_the_channel_set_is():
    assert verifyObject(ILinkListener, RecordingListener())
    assert verifyObject(ILinkListener, ChannelSet(Clock()))


def test_the_scripted_client_is_a_subscription_client_as_the_broadworks_client_is():
    assert verifyObject(ISubscriptionClient, ScriptedClient())
    assert verifyObject(ISubscriptionClient, BroadWorksClient(ChannelSet(Clock()), "cs", "app"))


def test_the_scripted_clients_call_control_takes_the_real_clients_arguments():
    import inspect

    def parameters(function):
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]

    for name in ("hold", "release", "blind_transfer", "acd_release_call", "acd_blind_transfer",
                 "route_point_distribute", "route_point_blind_transfer", "route_point_fail",
                 "route_point_release", "route_point_admit", "route_point_play",
                 "set_application_controller_state"):
        assert parameters(getattr(ScriptedClient, name)) == parameters(getattr(BroadWorksClient, name))


def test_the_wire_drives_a_real_link():
    wire = Wire()
    assert verifyObject(IBroadWorksLink, wire.link)
    wire.add_channel()
    assert wire.close() == []
