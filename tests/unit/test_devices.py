"""Device types from [contact-centre] (and the embedded simulator's provisioning)."""

import dataclasses

from csta_connector.config import default_config, parse_config
from csta_connector.services.devices import DeviceKind, DeviceTypes, IdSet


def test_ids_ranges_and_everything():
    ids = IdSet(("5001", "5100-5199", "sales@example.com"))
    assert "5001" in ids and "5001@example.com" in ids
    assert "5150" in ids and "5150@example.com" in ids and "5200" not in ids
    assert "sales@example.com" in ids and "sales" not in ids and "2001" not in ids
    assert "anything" in IdSet(("*",))
    assert not IdSet(()) and IdSet(("1-2",))


def test_kinds():
    types = DeviceTypes(acd_queues=("5001-5009",), route_points=("6001",), agents=("*",))
    assert types.kind_of("5003") is DeviceKind.ACD and types.is_acd("5003@example.com")
    assert types.kind_of("6001") is DeviceKind.ROUTE_POINT
    assert types.kind_of("2001") is DeviceKind.USER
    assert types.may_be_agent("2001") and not types.may_be_agent("5003") and not types.may_be_agent("6001")
    # the default: users only, no agents
    assert DeviceTypes().kind_of("5001") is DeviceKind.USER and not DeviceTypes().may_be_agent("2001")


def test_the_embedded_simulator_fills_in_what_is_not_given():
    types = DeviceTypes.from_config(default_config())
    assert types.is_acd("5001") and types.kind_of("6001") is DeviceKind.ROUTE_POINT
    assert types.may_be_agent("2001") and types.may_be_agent("2010") and not types.may_be_agent("2011")
    config = default_config()
    config = dataclasses.replace(
        config, contact_centre=dataclasses.replace(config.contact_centre, acd_queues=("7000",), agents=()))
    types = DeviceTypes.from_config(config)
    assert types.is_acd("7000") and not types.is_acd("5001") and not types.may_be_agent("2001")


def test_a_call_center_or_route_point_whose_extension_a_user_has_is_a_user():
    # the simulator then provisions neither (LMS 37408): 5001 and 6001 are users
    config = default_config()
    config = dataclasses.replace(config, simulator=dataclasses.replace(config.simulator, users=4000))
    types = DeviceTypes.from_config(config)
    assert types.kind_of("5001") is DeviceKind.USER and not types.may_be_agent("2001")
    assert types.kind_of("6001") is DeviceKind.ROUTE_POINT
    config = dataclasses.replace(config, simulator=dataclasses.replace(config.simulator, users=10000))
    types = DeviceTypes.from_config(config)
    assert types.kind_of("5001") is DeviceKind.USER and types.kind_of("6001") is DeviceKind.USER


def test_without_a_simulator_the_configuration_says_it_all():
    text = "[Connector]\nchannel-set-name = cs\n[link-a]\nhostname = xsp\n"
    types = DeviceTypes.from_config(parse_config(text))
    assert not types.is_acd("5001") and types.may_be_agent("2001")  # agents = *: every user is tried
    types = DeviceTypes.from_config(parse_config(text + "[contact-centre]\nacd-queues = 5001\nagents = 2001-2005\n"))
    assert types.is_acd("5001") and types.may_be_agent("2005") and not types.may_be_agent("2006")
