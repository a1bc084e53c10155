"""Real CSTA XML traffic (reference/csta.md §1.1, §2.4, §5): OpenScape Voice
frames and documents as captured in pyssimist (csta/CstaParser.py), decoded
by our framing and codec, then re-encoded and decoded again."""

import pytest

from csta_connector.csta import messages as m
from csta_connector.csta import xml_codec as x
from csta_connector.csta.framing import (
    XML,
    XmlFrameDecoder,
    detect_framing,
    encode_xml_frame,
)
from csta_connector.csta.messages import ConnectionID

# Two complete frames from a real OpenScape Voice: the header's length field
# (0x03EB = 1003, 0x0443 = 1091) counts the whole buffer, header included.
OSV_SERVICE_INITIATED = (
    b'\x00\x00\x03\xeb9999<?xml version="1.0" encoding="UTF-8"?>'
    b'<ServiceInitiatedEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
    b"<monitorCrossRefID>1169730059</monitorCrossRefID>"
    b"<initiatedConnection><callID>FF000100000000002D65C85C1C750000</callID>"
    b"<deviceID>302118840100</deviceID></initiatedConnection>"
    b"<initiatingDevice><deviceIdentifier>N&lt;302118840100&gt;;noa=nk</deviceIdentifier>"
    b"</initiatingDevice><localConnectionInfo>initiated</localConnectionInfo>"
    b"<cause>makeCall</cause><servicesPermitted><callControlServices>"
    b"<clearConnection>true</clearConnection></callControlServices>"
    b"<callAssociatedServices/><mediaAttachementServices/><routeingServices/>"
    b"<voiceServices/></servicesPermitted><mediaCallCharacteristics><mediaClass>"
    b"<voice>true</voice><image>false</image><im>false</im></mediaClass>"
    b"</mediaCallCharacteristics><extensions><privateData>"
    b'<private xmlns:scx="http://www.siemens.com/schema/csta">'
    b"<scx:extendedServicesPermitted/></private></privateData></extensions>"
    b"</ServiceInitiatedEvent>"
)
OSV_ORIGINATED = (
    b'\x00\x00\x04C9999<?xml version="1.0" encoding="UTF-8"?>'
    b'<OriginatedEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
    b"<monitorCrossRefID>1169730059</monitorCrossRefID>"
    b"<originatedConnection><callID>FF000100000000002D65C85C1C750000</callID>"
    b"<deviceID>302118840100</deviceID></originatedConnection>"
    b"<callingDevice><deviceIdentifier>302118840100</deviceIdentifier></callingDevice>"
    b"<calledDevice><deviceIdentifier>N&lt;302118840101&gt;;displayNumber=302118840101;noa=nk"
    b"</deviceIdentifier></calledDevice><localConnectionInfo>connected</localConnectionInfo>"
    b"<cause>newCall</cause><servicesPermitted><callControlServices>"
    b"<clearConnection>true</clearConnection></callControlServices>"
    b"<callAssociatedServices/><mediaAttachementServices/><routeingServices/>"
    b"<voiceServices/></servicesPermitted><mediaCallCharacteristics><mediaClass>"
    b"<voice>true</voice><image>false</image><im>false</im></mediaClass>"
    b"</mediaCallCharacteristics><extensions><privateData>"
    b'<private xmlns:scx="http://www.siemens.com/schema/csta">'
    b"<scx:extendedServicesPermitted/></private></privateData></extensions>"
    b"</OriginatedEvent>"
)

CALL = "FF000100000000002D65C85C1C750000"

EXPECTED_SERVICE_INITIATED = m.ServiceInitiatedEvent(
    cross_ref_id="1169730059",
    initiated_connection=ConnectionID(call_id=CALL, device_id="302118840100"),
    initiating_device="N<302118840100>;noa=nk",
    local_connection_info="initiated",
    cause="makeCall",
)
EXPECTED_ORIGINATED = m.OriginatedEvent(
    cross_ref_id="1169730059",
    originated_connection=ConnectionID(call_id=CALL, device_id="302118840100"),
    calling_device="302118840100",
    called_device="N<302118840101>;displayNumber=302118840101;noa=nk",
    local_connection_info="connected",
    cause="newCall",
)


@pytest.mark.parametrize(
    "frame, length",
    [(OSV_SERVICE_INITIATED, 1003), (OSV_ORIGINATED, 1091)],
)
def test_header_length_counts_the_whole_frame(frame, length):
    assert len(frame) == length
    assert int.from_bytes(frame[2:4], "big") == length
    assert detect_framing(frame) == (XML, None)


def test_decode_captured_frames_split_anywhere():
    stream = OSV_SERVICE_INITIATED + OSV_ORIGINATED
    for cut in range(0, len(stream) + 1, 7):
        decoder = XmlFrameDecoder()
        frames = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [invoke for invoke, _ in frames] == [9999, 9999]
        assert [x.decode(body) for _, body in frames] == [
            (EXPECTED_SERVICE_INITIATED, x.ED4),
            (EXPECTED_ORIGINATED, x.ED4),
        ]


@pytest.mark.parametrize(
    "frame, expected",
    [
        (OSV_SERVICE_INITIATED, EXPECTED_SERVICE_INITIATED),
        (OSV_ORIGINATED, EXPECTED_ORIGINATED),
    ],
)
def test_reencoded_capture_is_framed_like_the_original(frame, expected):
    [(invoke_id, body)] = XmlFrameDecoder().feed(frame)
    message, namespace = x.decode(body)
    ours = encode_xml_frame(invoke_id, x.encode(message, namespace))
    assert ours[:2] == b"\x00\x00" and ours[4:8] == b"9999"
    assert int.from_bytes(ours[2:4], "big") == len(ours)
    # Ours carries only the modelled fields, in the capture's order.
    assert x.decode(ours[8:]) == (expected, x.ED4)
    assert ours.index(b"<initiatedConnection>" if b"ServiceInitiated" in ours
                      else b"<originatedConnection>") < ours.index(b"<cause>")


# Unframed documents from the same source (pyssimist CstaPool / CstaParser).
DOCUMENTS = [
    (
        b'<?xml version="1.0" encoding="UTF-8"?><MonitorStop '
        b'xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b"<monitorCrossRefID>1193240031</monitorCrossRefID><extensions><privateData>"
        b'<private xmlns:scx="http://www.siemens.com/schema/csta">'
        b"<scx:staticOndDN>17133013</scx:staticOndDN></private></privateData>"
        b"</extensions></MonitorStop>",
        m.MonitorStop(cross_ref_id="1193240031"),
        x.ED4,
    ),
    (
        b'<?xml version="1.0" encoding="UTF-8"?><StartApplicationSessionPosResponse '
        b'xmlns:aps="http://www.ecma-international.org/standards/ecma-354/appl_session">'
        b"<sessionID>009968951</sessionID><actualProtocolVersion>"
        b"http://www.ecma-international.org/standards/ecma-323/csta/ed4"
        b"</actualProtocolVersion><actualSessionDuration>600</actualSessionDuration>"
        b"<extensions><actualHBT>0</actualHBT></extensions>"
        b"</StartApplicationSessionPosResponse>",
        m.StartApplicationSessionPosResponse(
            session_id="009968951", actual_protocol_version=x.ED4,
            actual_session_duration=600,
        ),
        None,
    ),
    (
        b'<?xml version="1.0" encoding="UTF-8"?><SystemRegisterResponse '
        b'xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b"<sysStatRegisterID>27ss</sysStatRegisterID></SystemRegisterResponse>",
        m.SystemRegisterResponse(sys_stat_register_id="27ss"),
        x.ED4,
    ),
    (
        b'<?xml version="1.0" encoding="UTF-8"?><MonitorStartResponse '
        b'xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b"<monitorCrossRefID>1136370025</monitorCrossRefID></MonitorStartResponse>",
        m.MonitorStartResponse(cross_ref_id="1136370025"),
        x.ED4,
    ),
    (
        b"""<?xml version="1.0" encoding="utf-8"?>
<MonitorStart>
   <monitorObject>
      <deviceObject>12313213</deviceObject>
   </monitorObject>
   <monitorType>device</monitorType>
</MonitorStart>""",
        m.MonitorStart(device="12313213"),
        None,
    ),
    (
        b"""<?xml version="1.0" encoding="utf-8"?>
<StartApplicationSession>
   <applicationInfo>
      <applicationID>pythontsm</applicationID>
   </applicationInfo>
   <requestedProtocolVersions>
      <protocolVersion>http://www.ecma-international.org/standards/ecma-323/csta/ed4</protocolVersion>
   </requestedProtocolVersions>
   <requestedSessionDuration>600</requestedSessionDuration>
</StartApplicationSession>""",
        m.StartApplicationSession(
            application_id="pythontsm", requested_protocol_versions=(x.ED4,),
            requested_session_duration=600,
        ),
        None,
    ),
    (
        b"""<?xml version="1.0" encoding="UTF-8"?>
<SystemStatus
  xmlns="http://www.ecma.ch/standards/ecma-323/csta/ed2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="
      http://www.ecma.ch/standards/ecma-323/csta/ed2  file://localhost/X:/ips_bln/long_csta/ecma/system-status.xsd
  ">
  <systemStatus>normal</systemStatus>
</SystemStatus>""",
        m.SystemStatus(status="normal"),
        x.ED2_ECMA_CH,
    ),
    (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns3:SystemStatus '
        b'xmlns:ns2="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:ns3="http://www.ecma-international.org/standards/ecma-323/csta/ed4"/>',
        m.SystemStatus(status="normal"),
        x.ED4,
    ),
    (
        b'<?xml version="1.0" encoding="utf-8"?><DeflectCall><callToBeDiverted>'
        b"<deviceID>SUB_C</deviceID><callID>FF000100000000006BB1234C31000000</callID>"
        b"</callToBeDiverted><newDestination>SUB_D</newDestination></DeflectCall>",
        m.DeflectCall(
            call_to_be_diverted=ConnectionID(
                call_id="FF000100000000006BB1234C31000000", device_id="SUB_C"
            ),
            new_destination="SUB_D",
        ),
        None,
    ),
    (
        b"""<?xml version="1.0" encoding="UTF-8"?>
<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">
   <monitorCrossRefID>1173673890</monitorCrossRefID>
   <connection>
      <callID>FF00010000000000EC6114647E570000</callID>
      <deviceID>3021061290002</deviceID>
   </connection>
   <alertingDevice>
      <deviceIdentifier>N&lt;3021061290002&gt;;noa=nk</deviceIdentifier>
   </alertingDevice>
   <callingDevice>
      <deviceIdentifier>N&lt;7868772298&gt;Line71001;displayNumber=7868772298;uid=FF00010000000000EC6114647E570000</deviceIdentifier>
   </callingDevice>
   <calledDevice>
      <deviceIdentifier>N&lt;3021061290002&gt;;noa=nk</deviceIdentifier>
   </calledDevice>
   <lastRedirectionDevice>
      <notRequired/>
   </lastRedirectionDevice>
   <localConnectionInfo>alerting</localConnectionInfo>
   <correlatorData>
      <string>75726E3A6E656E61</string>
   </correlatorData>
   <cause>enteringDistribution</cause>
   <servicesPermitted>
      <callControlServices>
         <clearConnection>true</clearConnection>
         <deflectCall>true</deflectCall>
      </callControlServices>
      <callAssociatedServices/>
      <mediaAttachementServices/>
      <routeingServices/>
      <voiceServices/>
   </servicesPermitted>
   <networkCalledDevice>
      <deviceIdentifier>02911</deviceIdentifier>
   </networkCalledDevice>
   <associatedCallingDevice>
      <notKnown/>
   </associatedCallingDevice>
</DeliveredEvent>""",
        m.DeliveredEvent(
            cross_ref_id="1173673890",
            connection=ConnectionID(
                call_id="FF00010000000000EC6114647E570000", device_id="3021061290002"
            ),
            alerting_device="N<3021061290002>;noa=nk",
            calling_device=(
                "N<7868772298>Line71001;displayNumber=7868772298;"
                "uid=FF00010000000000EC6114647E570000"
            ),
            called_device="N<3021061290002>;noa=nk",
            last_redirection_device=None,
            local_connection_info="alerting",
            cause="enteringDistribution",
        ),
        x.ED4,
    ),
    (
        b"""<?xml version="1.0" encoding="UTF-8"?>
<TransferedEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">
<monitorCrossRefID>1184300014</monitorCrossRefID>
<primaryOldCall>
<callID>FF00010000000000CFB6706408000000</callID>
<deviceID>+17867104700</deviceID>
</primaryOldCall>
<transferringDevice>
<deviceIdentifier>+17867104700</deviceIdentifier>
</transferringDevice>
<transferredToDevice>
<deviceIdentifier>N&lt;+17867100001&gt;Line00001;displayNumber=00001</deviceIdentifier>
</transferredToDevice>
<transferredConnections>
<connectionListItem>
<newConnection>
<callID>0300010000000000CFB6706408000000</callID>
<deviceID>+17867100001</deviceID>
</newConnection>
<endpoint>
<deviceID>N&lt;+17867100001&gt;Line00001;displayNumber=00001</deviceID>
</endpoint>
</connectionListItem>
<connectionListItem>
<newConnection>
<callID>0300010000000000CFB6706408000000</callID>
<deviceID>N&lt;+17867100000&gt;;uid=FF00010000000000CFB6706408000000</deviceID>
</newConnection>
<endpoint>
<deviceID>N&lt;+17867100000&gt;+ 30(210)8216100;displayNumber=7867100000;uid=FF00010000000000CFB6706408000000</deviceID>
</endpoint>
</connectionListItem>
</transferredConnections>
<localConnectionInfo>null</localConnectionInfo>
<cause>singleStepTransfer</cause>
<servicesPermitted>
<callControlServices/>
<callAssociatedServices/>
<mediaAttachementServices/>
<routeingServices/>
<voiceServices/>
</servicesPermitted>
</TransferedEvent>""",
        m.TransferredEvent(
            cross_ref_id="1184300014",
            primary_old_call=ConnectionID(
                call_id="FF00010000000000CFB6706408000000", device_id="+17867104700"
            ),
            transferring_device="+17867104700",
            transferred_to_device="N<+17867100001>Line00001;displayNumber=00001",
            transferred_connections=(
                m.ConnectionListItem(
                    new_connection=ConnectionID(
                        call_id="0300010000000000CFB6706408000000",
                        device_id="+17867100001",
                    ),
                    endpoint="N<+17867100001>Line00001;displayNumber=00001",
                ),
                m.ConnectionListItem(
                    new_connection=ConnectionID(
                        call_id="0300010000000000CFB6706408000000",
                        device_id="N<+17867100000>;uid=FF00010000000000CFB6706408000000",
                    ),
                    endpoint=(
                        "N<+17867100000>+ 30(210)8216100;displayNumber=7867100000;"
                        "uid=FF00010000000000CFB6706408000000"
                    ),
                ),
            ),
            local_connection_info="null",
            cause="singleStepTransfer",
        ),
        x.ED4,
    ),
]


@pytest.mark.parametrize(
    "body, expected, namespace",
    DOCUMENTS,
    ids=[type(expected).__name__ for _, expected, _ in DOCUMENTS],
)
def test_captured_document(body, expected, namespace):
    assert x.decode(body) == (expected, namespace)
    # And our own rendering of it decodes to the same message.
    assert x.decode(x.encode(expected, namespace))[0] == expected
