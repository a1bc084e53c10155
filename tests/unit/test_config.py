"""INI configuration: defaults, overrides, samples and one-line errors (SPEC §7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from csta_connector import config
from csta_connector.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
F = "etc/x.ini"
MINIMAL = "[Connector]\nchannel-set-name = cs\n[link-a]\nhostname = xsp1\n"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, F)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- defaults ---------------------------------------------------------------


def test_embedded_default():
    c = config.default_config()
    assert c.source == "<embedded default>"
    assert c.simulator.enabled is True
    assert [(l.name, l.hostname, l.port) for l in c.links] == [("simulator", "127.0.0.1", 8011)]
    assert (c.csta.bind, c.csta.port, c.csta.encoding) == ("127.0.0.1", 1040, "auto")
    assert c.connector.application_name == "csta-connector"
    assert c.connector.channel_set_name == config.EMBEDDED_CHANNEL_SET
    assert c.metrics is None
    assert c.log.verbose == "standard" and c.log.all == ("stdout",) and c.log.format == "text"


def test_file_defaults():
    c = parse_config(MINIMAL, F)
    assert c.simulator.enabled is False
    k = c.connector
    assert (k.application_name, k.channel_set_name) == ("csta-connector", "cs")
    assert (k.channel_expire_tout, k.kpl_interval, k.kpl_tolerance) == (3600, 10, 0)
    assert (k.link_recovery_tout, k.snapshot_timeout, k.request_timeout) == (10.0, 5.0, 10.0)
    assert (k.subscription_renew_interval, k.subscription_renew_jitter) == (1800, 600)
    assert k.max_document_size == 1024 * 1024
    assert k.default_domain is None and k.app_controller is None
    (link,) = c.links
    assert (link.name, link.hostname, link.port, link.priority, link.weight) == (
        "a", "xsp1", 8011, 1, 50)
    assert link.tls is False and link.username is None
    s = c.csta
    assert (s.port, s.detect_timeout, s.ber_framing, s.xml_namespace, s.tls) == (
        1040, 1.0, "length2", "ed3", False)
    assert (s.frame_timeout, s.max_output_buffer, s.snapshot_requester_events) == (
        5.0, 4 * 1024 * 1024, False)
    assert c.source == F


def test_csta_hardening_options():
    c = parse_config(MINIMAL + "[csta]\nframe-timeout = 2.5\nmax-output-buffer = 65536\n"
                     "snapshot-requester-events = true\n", F)
    assert (c.csta.frame_timeout, c.csta.max_output_buffer, c.csta.snapshot_requester_events) == (
        2.5, 65536, True)
    assert error_of(MINIMAL + "[csta]\nmax-output-buffer = 1000\n") == (
        "etc/x.ini: [csta] max-output-buffer = '1000': allowed values are integers from "
        "65536 to 1073741824")
    assert error_of(MINIMAL + "[csta]\nframe-timeout = 0\n") == (
        "etc/x.ini: [csta] frame-timeout = '0': allowed values are seconds from 0.1 to 600")


def test_simulator_enabled_file_needs_no_link_nor_channel_set():
    c = parse_config("[simulator]\nenabled = yes\ncti-port = 9011\nxsp-ports = 9021\n", F)
    assert [(l.name, l.port) for l in c.links] == [("simulator", 9011), ("simulator-1", 9021)]
    assert c.connector.channel_set_name == config.EMBEDDED_CHANNEL_SET


def test_link_overrides_kpl_values():
    c = parse_config(
        "[Connector]\nchannel-set-name = cs\nkpl-interval = 30\nkpl-tolerance = 2\n"
        "[link-a]\nhostname = xsp1\n"
        "[link-b]\nhostname = xsp2\nkpl-interval = 5\nkpl-tolerance = 0\n",
        F,
    )
    a, b = c.links
    assert (a.kpl_interval, a.kpl_tolerance) == (30, 2)
    assert (b.kpl_interval, b.kpl_tolerance) == (5, 0)


def test_links_keep_file_order_and_options():
    c = parse_config(
        MINIMAL + "[link-z]\nhostname = xsp2\nport = 8012\ntls = true\npriority = 2\n"
        "weight = 10\nusername = u\npassword = p;#%x\n", F)
    assert [l.name for l in c.links] == ["a", "z"]
    z = c.links[1]
    assert (z.port, z.tls, z.priority, z.weight, z.username, z.password) == (
        8012, True, 2, 10, "u", "p;#%x")


def test_metrics_section():
    c = parse_config(MINIMAL + "[metrics]\nport = 9102\n", F)
    assert c.metrics == config.MetricsSection(port=9102, bind="127.0.0.1")


def test_log_outputs_list():
    c = parse_config(MINIMAL + "[log]\nverbose = trace\nall = stdout, /tmp/a.log\n"
                     "standard = stderr\nformat = json\n", F)
    assert c.log.all == ("stdout", "/tmp/a.log")
    assert c.log.standard == ("stderr",)
    assert (c.log.verbose, c.log.format) == ("trace", "json")
    assert parse_config(MINIMAL + "[log]\nall =\n", F).log.all == ()


def test_config_is_frozen():
    c = config.default_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.csta.port = 1  # type: ignore[misc]


# -- samples ----------------------------------------------------------------


def test_sample_connector_ini_loads():
    c = load_config(str(ROOT / "etc" / "csta-connector.ini"))
    assert [(l.name, l.protocol) for l in c.links] == [("xsp1", "cti"), ("xsp2", "cti"), ("xsp3", "xsi")]
    assert c.links[1].kpl_tolerance == 1
    assert (c.links[2].url, c.links[2].priority) == ("https://xsp3.example.net", 2)
    assert c.simulator.enabled is False
    assert c.metrics is not None
    assert (c.contact_centre.acd_queues, c.contact_centre.agents) == (("5001", "5002"), ("2001-2099",))


def test_sample_simulator_ini_loads():
    c = config.load_simulator_config(str(ROOT / "etc" / "broadworks-sim.ini"))
    s = c.simulator
    assert (s.users, s.domain, s.cti_port, s.xsp_ports, s.control_port) == (
        100, "example.com", 8011, (8021,), 8090)
    assert s.resync_event == "CallSubscriptionEvent"
    assert s.failover_drops_channels is False
    assert (s.xsi_port, s.xsi_credentials, s.xsi_event_timeout) == (8080, (), 0.0)


def test_simulator_defaults_without_file():
    c = config.load_simulator_config(None)
    assert (c.simulator.cti_port, c.simulator.control_port, c.simulator.users) == (
        8011, 8090, 100)
    assert c.log.verbose == "standard"


# -- one-line errors, one per kind -------------------------------------------


def test_bad_enum():
    assert error_of(MINIMAL + "[csta]\nencoding = foo\n") == (
        "etc/x.ini: [csta] encoding = 'foo': allowed values are auto, xml, ber")


def test_bad_integer():
    assert error_of(MINIMAL + "[csta]\nport = abc\n") == (
        "etc/x.ini: [csta] port = 'abc': allowed values are integers from 0 to 65535")


def test_integer_out_of_range():
    assert error_of("[Connector]\nchannel-set-name = cs\nkpl-interval = 601\n") == (
        "etc/x.ini: [Connector] kpl-interval = '601': allowed values are integers from 0 to 600")


def test_link_integer_out_of_range():
    assert error_of(MINIMAL + "[link-b]\nhostname = h\nkpl-tolerance = 11\n") == (
        "etc/x.ini: [link-b] kpl-tolerance = '11': allowed values are integers from 0 to 10")


def test_bad_seconds():
    assert error_of(MINIMAL + "[csta]\ndetect-timeout = soon\n") == (
        "etc/x.ini: [csta] detect-timeout = 'soon': allowed values are seconds from 0 to 60")


def test_bad_boolean():
    assert error_of(MINIMAL + "[simulator]\nenabled = maybe\n") == (
        "etc/x.ini: [simulator] enabled = 'maybe': allowed values are true, false")


def test_bad_port_list():
    assert error_of(MINIMAL + "[simulator]\nxsp-ports = 8021, x\n") == (
        "etc/x.ini: [simulator] xsp-ports = '8021, x': allowed values are "
        "comma-separated ports from 1 to 65535")


def test_unknown_section():
    assert error_of(MINIMAL + "[foo]\n") == (
        "etc/x.ini: [foo]: unknown section; allowed sections are [Connector], "
        "[link-NAME], [csta], [contact-centre], [simulator], [log], [metrics]")


def test_section_names_are_case_sensitive():
    assert error_of("[connector]\nchannel-set-name = cs\n").startswith(
        "etc/x.ini: [connector]: unknown section")


def test_default_section_is_not_special():
    assert error_of(MINIMAL + "[DEFAULT]\nport = 1\n").startswith(
        "etc/x.ini: [DEFAULT]: unknown section")


def test_unknown_option():
    assert error_of(MINIMAL + "[csta]\nencodng = xml\n") == (
        "etc/x.ini: [csta] encodng: unknown option; allowed options are port, bind, "
        "encoding, detect-timeout, ber-framing, xml-namespace, tls, tls-certificate, tls-key, "
        "frame-timeout, max-output-buffer, snapshot-requester-events")


def test_missing_mandatory_option():
    assert error_of("[link-a]\nhostname = xsp1\n") == (
        "etc/x.ini: [Connector] channel-set-name: mandatory option missing; "
        "allowed values are any non-empty string")


def test_empty_mandatory_option_is_missing():
    assert error_of("[Connector]\nchannel-set-name =\n[link-a]\nhostname = h\n") == (
        "etc/x.ini: [Connector] channel-set-name: mandatory option missing; "
        "allowed values are any non-empty string")


def test_missing_link_hostname():
    assert error_of("[Connector]\nchannel-set-name = cs\n[link-a]\nport = 8011\n") == (
        "etc/x.ini: [link-a] hostname: mandatory option missing with protocol = cti; "
        "allowed values are any non-empty string")


def test_missing_metrics_port():
    assert error_of(MINIMAL + "[metrics]\nbind = 0.0.0.0\n") == (
        "etc/x.ini: [metrics] port: mandatory option missing; "
        "allowed values are integers from 0 to 65535")


def test_no_link():
    assert error_of("[Connector]\nchannel-set-name = cs\n") == (
        "etc/x.ini: no [link-NAME] section; at least one link is required "
        "unless [simulator] enabled = true")


def test_link_without_name():
    assert error_of(MINIMAL + "[link-]\nhostname = h\n").startswith(
        "etc/x.ini: [link-]: unknown section")


def test_csta_tls_needs_certificate():
    assert error_of(MINIMAL + "[csta]\ntls = true\ntls-key = k.pem\n") == (
        "etc/x.ini: [csta] tls-certificate: mandatory option missing when tls = true; "
        "allowed values are a PEM file path")


def test_renewal_must_fit_in_expiry():
    assert error_of("[Connector]\nchannel-set-name = cs\nsubscription-renew-interval = 3000\n"
                    "[link-a]\nhostname = h\n") == (
        "etc/x.ini: [Connector] subscription-renew-interval = '3000': allowed values are "
        "below subscription-expire-tout (3600) minus subscription-renew-jitter (600)")


def test_unreadable_file(tmp_path):
    path = str(tmp_path / "missing.ini")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == "%s: cannot read: No such file or directory" % path


def test_syntax_errors():
    assert error_of("port = 1\n") == (
        "etc/x.ini: line 1: option outside any section; a [section] header must come first")
    assert error_of("[csta]\nport = 1\nport = 2\n") == (
        "etc/x.ini: line 3: [csta] port appears twice")
    assert error_of("[csta]\n[csta]\n") == "etc/x.ini: line 2: section [csta] appears twice"
    assert error_of("[csta]\njust words\n") == (
        "etc/x.ini: line 2: not 'option = value': just words")


def test_value_errors_come_before_missing_options():
    # The operator fixes the line the message names, not a far-away one.
    assert error_of("[csta]\nencoding = foo\n").startswith("etc/x.ini: [csta] encoding")


def test_error_attributes():
    with pytest.raises(ConfigError) as info:
        parse_config(MINIMAL + "[csta]\nencoding = foo\n", F)
    e = info.value
    assert (e.file, e.section, e.option, e.value) == (F, "csta", "encoding", "foo")


def test_simulator_config_errors():
    with pytest.raises(ConfigError) as info:
        config.parse_simulator_config("[simulator]\nenabled = true\n", F)
    assert str(info.value).startswith("etc/x.ini: [simulator] enabled: unknown option")
    with pytest.raises(ConfigError) as info:
        config.parse_simulator_config("[simulator]\nresync-event = Foo\n", F)
    assert str(info.value) == (
        "etc/x.ini: [simulator] resync-event = 'Foo': allowed values are "
        "CallSubscriptionEvent, CallSubscriptionResyncEvent")
    with pytest.raises(ConfigError) as info:
        config.parse_simulator_config("[Connector]\n", F)
    assert str(info.value) == (
        "etc/x.ini: [Connector]: unknown section; allowed sections are [simulator], [log]")


# -- ports: the same one twice is known at load ------------------------------

SIMULATED = "[simulator]\nenabled = true\n"


def test_metrics_port_equal_to_the_csta_port():
    assert error_of(MINIMAL + "[csta]\nport = 9102\n[metrics]\nport = 9102\n") == (
        "etc/x.ini: [metrics] port = '9102': already the port of [csta] port; allowed values "
        "are a port no other listener of this configuration uses")


def test_simulator_ports_equal_to_each_other_or_to_the_csta_port():
    assert error_of(SIMULATED + "cti-port = 8011\nxsp-ports = 8012, 8011\n") == (
        "etc/x.ini: [simulator] xsp-ports = '8011': already the port of [simulator] cti-port; "
        "allowed values are a port no other listener of this configuration uses")
    assert error_of(SIMULATED + "control-port = 8011\n").startswith(
        "etc/x.ini: [simulator] control-port = '8011': already the port of [simulator] cti-port")
    assert error_of(SIMULATED + "xsp-ports = 8012, 8012\n").startswith(
        "etc/x.ini: [simulator] xsp-ports = '8012': already the port of [simulator] xsp-ports")
    assert error_of(SIMULATED + "cti-port = 1040\n").startswith(
        "etc/x.ini: [simulator] cti-port = '1040': already the port of [csta] port")


def test_a_disabled_simulator_listens_nowhere():
    c = parse_config(MINIMAL + "[csta]\nport = 8011\n", F)
    assert c.csta.port == 8011 and c.simulator.cti_port == 8011


def test_same_port_on_different_addresses_or_any_free_port():
    c = parse_config(MINIMAL + "[csta]\nport = 9102\nbind = 10.0.0.1\n"
                               "[metrics]\nport = 9102\nbind = 127.0.0.1\n", F)
    assert c.csta.port == c.metrics.port == 9102
    assert error_of(MINIMAL + "[csta]\nport = 9102\nbind = 0.0.0.0\n"
                              "[metrics]\nport = 9102\n").startswith(
        "etc/x.ini: [metrics] port = '9102': already the port of [csta] port")
    c = parse_config(SIMULATED + "cti-port = 0\ncontrol-port = 0\n[csta]\nport = 0\n"
                                 "[metrics]\nport = 0\n", F)
    assert c.simulator.cti_port == c.simulator.control_port == c.csta.port == 0


def test_simulator_alone_checks_its_ports():
    with pytest.raises(ConfigError) as info:
        config.parse_simulator_config("[simulator]\ncontrol-port = 8011\n", F)
    assert str(info.value).startswith(
        "etc/x.ini: [simulator] control-port = '8011': already the port of [simulator] cti-port")


# -- the option table --------------------------------------------------------


def test_help_lists_every_option():
    text = config.options_help()
    for spec in config.CONNECTOR_SECTIONS:
        assert "[%s]" % spec.title in text
        for option in spec.options:
            assert "  %s (default: " % option.name in text
    assert "channel-set-name (default: mandatory" in text
    assert "encoding (default: auto; auto, xml, ber)" in text
    assert "kpl-interval (default: [Connector] value" in text
    assert "[simulator]" in config.simulator_options_help()


def test_table_matches_dataclasses():
    pairs = [
        (config.CONNECTOR, config.ConnectorSection, set()),
        (config.LINK, config.LinkSection, {"name"}),
        (config.CSTA, config.CstaSection, set()),
        (config.CONTACT_CENTRE, config.ContactCentreSection, set()),
        (config.SIMULATOR, config.SimulatorSection, set()),
        (config.LOG, config.LogSection, set()),
        (config.METRICS, config.MetricsSection, set()),
    ]
    for spec, cls, extra in pairs:
        fields = {f.name for f in dataclasses.fields(cls)}
        assert fields == {o.attribute for o in spec.options} | extra, spec.name


def test_genesys_names_used():
    names = {o.name for o in config.CONNECTOR.options}
    assert {"application-name", "channel-set-name", "app-controller", "broadworks-version",
            "channel-expire-tout", "default-domain", "kpl-interval", "kpl-tolerance",
            "link-recovery-tout"} <= names


# -- Xsi links and the simulator's Xsi front-end (issue 13) -----------------

XSI_LINK = ("[Connector]\nchannel-set-name = cs\n[link-x]\nprotocol = xsi\nurl = https://xsp1.example.net/\n"
            "username = app@example.com\n")


def test_an_xsi_link_reaches_its_xsp_by_url():
    (link,) = parse_config(XSI_LINK + "password = s;e#c\n", F).links
    assert (link.protocol, link.url, link.hostname) == ("xsi", "https://xsp1.example.net", None)
    assert (link.username, link.password) == ("app@example.com", "s;e#c")
    (cti,) = parse_config(MINIMAL, F).links
    assert (cti.protocol, cti.url) == ("cti", None)


def test_a_mixed_channel_set():
    c = parse_config(MINIMAL + "[link-b]\nprotocol = xsi\nurl = http://xsp2:8080/prefix\npriority = 2\n"
                     "username = u\n", F)
    assert [(l.name, l.protocol, l.priority) for l in c.links] == [("a", "cti", 1), ("b", "xsi", 2)]


def test_an_xsi_link_without_url():
    assert error_of("[Connector]\nchannel-set-name = cs\n[link-x]\nprotocol = xsi\n") == (
        "etc/x.ini: [link-x] url: mandatory option missing with protocol = xsi; allowed values are "
        "http://HOST[:PORT][/PREFIX] or https://HOST[:PORT][/PREFIX]")


def test_an_xsi_link_without_user():
    assert error_of(XSI_LINK.replace("username = app@example.com\n", "")) == (
        "etc/x.ini: [link-x] username: mandatory option missing with protocol = xsi; allowed values are "
        "any non-empty string")


@pytest.mark.parametrize("option", ["hostname = xsp1", "port = 8011", "tls = true"])
def test_an_xsi_link_refuses_the_cti_options(option):
    name, _, value = option.partition(" = ")
    assert error_of(XSI_LINK + option + "\n") == (
        "etc/x.ini: [link-x] %s = %r: not an option of a protocol = xsi link (it reaches its XSP by url)"
        % (name, value))


def test_a_cti_link_refuses_a_url():
    assert error_of(MINIMAL + "url = http://xsp1\n") == (
        "etc/x.ini: [link-a] url = 'http://xsp1': not an option of a protocol = cti link "
        "(it reaches its XSP by hostname)")


@pytest.mark.parametrize("url", ["ftp://xsp1", "xsp1.example.net", "https://", "http://xsp1:99999",
                                 "http://xsp1/?a=1", "http://user:pw@xsp1"])
def test_a_bad_xsi_url(url):
    assert error_of(XSI_LINK.replace("https://xsp1.example.net/", url)).startswith(
        "etc/x.ini: [link-x] url = %r: allowed values are http://HOST" % url)


def test_an_unknown_link_protocol():
    assert error_of(MINIMAL + "protocol = sip\n") == (
        "etc/x.ini: [link-a] protocol = 'sip': allowed values are cti, xsi")


@pytest.mark.parametrize("text, value", [("8081", 8081), ("0", None), ("off", None), ("any", 0)])
def test_the_simulator_xsi_port(text, value):
    c = config.parse_simulator_config("[simulator]\nxsi-port = %s\n" % text, F)
    assert c.simulator.xsi_port == value


def test_the_simulator_xsi_defaults_and_credentials():
    s = config.load_simulator_config(None).simulator
    assert (s.xsi_port, s.xsi_credentials, s.xsi_event_timeout) == (8080, (), 0.0)
    s = config.parse_simulator_config(
        "[simulator]\nxsi-credentials = app@example.com:secret, other:\nxsi-event-timeout = 30\n", F
    ).simulator
    assert s.xsi_credentials == (("app@example.com", "secret"), ("other", ""))
    assert s.xsi_event_timeout == 30.0
    with pytest.raises(ConfigError) as info:
        config.parse_simulator_config("[simulator]\nxsi-credentials = nobody\n", F)
    assert str(info.value) == (
        "etc/x.ini: [simulator] xsi-credentials = 'nobody': allowed values are comma-separated USER:PASSWORD")


def test_help_shows_the_xsi_options():
    text = config.options_help()
    assert "  protocol (default: cti; cti, xsi)" in text
    assert "  url (default: none; http://HOST[:PORT][/PREFIX] or https://HOST[:PORT][/PREFIX])" in text
    # the embedded simulator serves Xsi only when asked, twistd broadworks-sim on 8080
    assert "  xsi-port (default: 0 (off); 0 or off (none), any (a free port), or a port from 1 to 65535)" in text
    assert "  xsi-credentials (default: none; comma-separated USER:PASSWORD)" in text
    assert ("  xsi-port (default: 8080; 0 or off (none), any (a free port), or a port from 1 to 65535)"
            in config.simulator_options_help())
    assert config.default_config().simulator.xsi_port is None


# -- [contact-centre] ------------------------------------------------------------


def test_contact_centre_ids_and_ranges():
    cc = config.parse_config(
        MINIMAL + "[contact-centre]\nacd-queues = 5001, 5100-5199, sales@example.com, 5001\n"
        "route-points = 6001\nagents =\nagent-login-state = Available\n", F
    ).contact_centre
    assert cc.acd_queues == ("5001", "5100-5199", "sales@example.com")
    assert (cc.route_points, cc.agents, cc.agent_login_state) == (("6001",), (), "Available")
    default = config.parse_config(MINIMAL, F).contact_centre
    assert (default.acd_queues, default.route_points, default.agents) == ((), (), ("*",))


@pytest.mark.parametrize("value", ["5010-5001", "50-x", "a b", "@example.com"])
def test_contact_centre_bad_ids(value):
    assert error_of(MINIMAL + "[contact-centre]\nacd-queues = %s\n" % value).startswith(
        "etc/x.ini: [contact-centre] acd-queues = '%s': allowed values are comma-separated ids" % value
    )
