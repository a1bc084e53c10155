"""Known-byte BER vectors of the contact-centre messages, built by hand, tag
by tag, from the ECMA-285 modules (reference/ecma-285/ and the Wildboar
upstream named in reference/contact-centre.md): a request, a response and
an event of each family where the family has them. Each vector must decode
to the message and the message must encode to exactly these bytes.

Reading aid: ``a1`` ROSE invoke, ``a2`` returnResult, ``02`` INTEGER (invoke
id, opcode), ``30`` SEQUENCE, ``80..8n`` / ``a0..an`` context tags
(primitive / constructed), ``55`` MonitorCrossRefID [APPLICATION 21],
``58`` RouteingCrossRefID [APPLICATION 24], ``61/62/63/64`` Calling /
Called / Subject / Redirection DeviceID [APPLICATION 1/2/3/4], ``6b``
ConnectionID [APPLICATION 11], ``4e`` LocalConnectionState [APPLICATION
14], ``76`` SnapshotDeviceData [APPLICATION 22], ``7e`` CSTACommonArguments
[APPLICATION 30].
"""

from __future__ import annotations

import pytest

from csta_connector.csta import messages as m
from csta_connector.csta.ber import codec
from csta_connector.csta.ber.rose import Invoke, ReturnResult


def h(*parts: str) -> bytes:
    return bytes.fromhex("".join(parts).replace(" ", ""))


# DeviceID { dialingNumber [0] IMPLICIT "2002" } and friends
DEVICE_2001 = "3006 8004 32303031"
DEVICE_2002 = "3006 8004 32303032"
DEVICE_2003 = "3006 8004 32303033"
DEVICE_5001 = "3006 8004 35303031"
DEVICE_6001 = "3006 8004 36303031"
# ConnectionID [APPLICATION 11] { both { callID [0] "c1", deviceID [1] { staticID 5001 } } }
CONNECTION_C1_5001 = "6b10 300e 8002 6331 a108" + DEVICE_5001
CONNECTION_C2_6001 = "6b10 300e 8002 6332 a108" + DEVICE_6001
AT_5001 = m.ConnectionID(call_id="c1", device_id="5001")
AT_6001 = m.ConnectionID(call_id="c2", device_id="6001")

VECTORS = [
    # --- agents -------------------------------------------------------------
    pytest.param(
        h(
            "a132 020101 02020138",          # invoke 1, setAgentState (312)
            "3029",                          # SetAgentStateArgument
            DEVICE_2002,                     #   device
            "0a0102",                        #   requestedAgentState notReady (2)
            "8204 32303032",                 #   agentID [2] IMPLICIT "2002"
            "7e16 a114 0412",                #   extensions { privateData [1] { OCTET STRING
            "756e617661696c61626c65436f64653d3137",  # "unavailableCode=17" } }
        ),
        Invoke(1, 312, m.SetAgentState(
            device="2002", requested_agent_state="notReady", agent_id="2002",
            extensions=(("unavailableCode", "17"),),
        )),
        id="SetAgentState",
    ),
    pytest.param(
        h(
            "a22a 020101",                   # returnResult 1
            "3025 02020130",                 #   { opcode getAgentState (304),
            "301f",                          #     GetAgentStateResult
            "301d",                          #       agentStateList
            "301b",                          #         AgentStateEntry
            "0404 32303032",                 #           agentID "2002"
            "0101ff",                        #           loggedOn TRUE
            "3010 300e",                     #           agentInfo { AgentInfo
            DEVICE_5001,                     #             acdGroup
            "0a0100",                        #             agentState agentNotReady (0)
            "800102",                        #             pendingAgentState [0] agentReady (2)
        ),
        ReturnResult(1, 304, m.GetAgentStateResponse(agent_state_list=(
            m.AgentStateEntry(agent_id="2002", logged_on=True, agent_info=(
                m.AgentInfo(acd_group="5001", agent_state="agentNotReady",
                            pending_agent_state="agentReady"),
            )),
        ))),
        id="GetAgentStateResponse",
    ),
    pytest.param(
        h(
            "a142 020102 020115",            # invoke 2, cSTAEventReport (21)
            "303a 550137",                   #   crossRefIdentifier "7"
            "a435",                          #   logicalDeviceFeatureEvents [4]
            "a333",                          #     agentNotReady [3] IMPLICIT
            "6308" + DEVICE_2002,            #       agentDevice SubjectDeviceID
            "0404 32303032",                 #       agentID (untagged here) "2002"
            DEVICE_5001,                     #       acdGroup
            "0a014e",                        #       cause normal (78)
            "7e16 a114 0412",                #       extensions: "unavailableCode=17"
            "756e617661696c61626c65436f64653d3137",
        ),
        Invoke(2, 21, m.AgentNotReadyEvent(
            cross_ref_id="7", agent_device="2002", agent_id="2002", acd_group="5001",
            cause="normal", extensions=(("unavailableCode", "17"),),
        )),
        id="AgentNotReadyEvent",
    ),
    pytest.param(
        h(
            "a11c 020103 020115 3014 550137",
            "a40f",                          #   logicalDeviceFeatureEvents [4]
            "a50d",                          #     agentWorkingAfterCall [5] IMPLICIT
            "6308" + DEVICE_2002,            #       agentDevice
            "820101",                        #       pendingAgentState [2] ready (1)
        ),
        Invoke(3, 21, m.AgentWorkingAfterCallEvent(
            cross_ref_id="7", agent_device="2002", pending_agent_state="ready",
        )),
        id="AgentWorkingAfterCallEvent",
    ),
    # --- ACD ------------------------------------------------------------------
    pytest.param(
        h(
            "a14f 020104 020115",
            "3047 550137",
            "a042",                          #   callControlEvents [0]
            "ae40",                          #     queued [14] IMPLICIT
            CONNECTION_C1_5001,              #       queuedConnection
            "6308" + DEVICE_5001,            #       queue
            "6108" + DEVICE_2001,            #       callingDevice
            "6208" + DEVICE_5001,            #       calledDevice
            "6402 8800",                     #       lastRedirectionDevice notRequired [8]
            "800102",                        #       numberQueued [0] 2
            "810101",                        #       callsInFront [1] 1
            "4e0105",                        #       localConnectionInfo queued (5)
            "0a012a",                        #       cause enteringDistribution (42)
        ),
        Invoke(4, 21, m.QueuedEvent(
            cross_ref_id="7", queued_connection=AT_5001, queue="5001",
            calling_device="2001", called_device="5001", number_queued=2,
            calls_in_front=1, local_connection_info="queued", cause="enteringDistribution",
        )),
        id="QueuedEvent",
    ),
    pytest.param(
        h(
            "a12b 020105 020115 3023 550137",
            "a11e",                          #   callAssociatedEvents [1]
            "a01c",                          #     callInformation [0] IMPLICIT
            CONNECTION_C1_5001,              #       connection
            "6308" + DEVICE_5001,            #       device
        ),
        Invoke(5, 21, m.CallInformationEvent(cross_ref_id="7", connection=AT_5001, device="5001")),
        id="CallInformationEvent",
    ),
    pytest.param(
        h(
            "a225 020101",
            "3020 02014a",                   #   { opcode snapshotDevice (74),
            "301b",                          #     SnapshotDeviceResult
            "7619",                          #       snapshotData [APPLICATION 22]
            "3017",                          #         SnapshotDeviceResponseInfo
            CONNECTION_C1_5001,              #           connectionIdentifier
            "a003 4e0105",                   #           compoundCallState [0] { queued }
        ),
        ReturnResult(1, 74, m.SnapshotDeviceResponse(items=(
            m.SnapshotDeviceItem(connection=AT_5001, local_connection_state="queued"),
        ))),
        id="SnapshotDeviceResponse-queued",
    ),
    # --- routeing ---------------------------------------------------------------
    pytest.param(
        h(
            "a111 020101 020200f8",          # invoke 1, routeRegister (248)
            "3008" + DEVICE_6001,            #   routeingDevice
        ),
        Invoke(1, 248, m.RouteRegister(routeing_device="6001")),
        id="RouteRegister",
    ),
    pytest.param(
        h(
            "a20f 020101",
            "300a 020200f8",                 #   { opcode routeRegister (248),
            "3004 0402 7231",                #     { routeRegisterReqID "r1" } }
        ),
        ReturnResult(1, 248, m.RouteRegisterResponse(route_register_req_id="r1")),
        id="RouteRegisterResponse",
    ),
    pytest.param(
        h("a20b 020102 3006 020200fa 0500"),  # routeRegisterCancel (250): noData
        ReturnResult(2, 250, m.RouteRegisterCancelResponse()),
        id="RouteRegisterCancelResponse",
    ),
    pytest.param(
        h(
            "a136 020106 02011f",            # invoke 6, routeRequest (31)
            "302e",
            "5802 7831",                     #   crossRefIdentifier [APPLICATION 24] "x1"
            "8002 7231",                     #   routeRegisterReqID [0] "r1"
            "6208" + DEVICE_6001,            #   currentRoute CalledDeviceID
            "6108" + DEVICE_2001,            #   callingDevice
            CONNECTION_C2_6001,              #   routedCall
        ),
        Invoke(6, 31, m.RouteRequest(
            routing_cross_ref_id="x1", route_register_req_id="r1", current_route="6001",
            calling_device="2001", routed_call=AT_6001,
        )),
        id="RouteRequest",
    ),
    pytest.param(
        h(
            "a122 020107 020121",            # invoke 7, routeSelectRequest (33)
            "301a",
            "5802 7831",                     #   crossRefIdentifier "x1"
            "8002 7231",                     #   routeRegisterReqID [0] "r1"
            "a108" + DEVICE_2003,            #   routeSelected [1] EXPLICIT DeviceID
            "a303 820101",                   #   remainRetries [3] { retryCount [2] 1 }
            "8401ff",                        #   routeUsedReq [4] TRUE
        ),
        Invoke(7, 33, m.RouteSelectRequest(
            routing_cross_ref_id="x1", route_register_req_id="r1", route_selected="2003",
            remain_retries=1, route_used_req=True,
        )),
        id="RouteSelectRequest",
    ),
    pytest.param(
        h(
            "a113 020108 020123",            # invoke 8, routeEndRequest (35)
            "300b",
            "5802 7831",                     #   crossRefIdentifier "x1"
            "a105 a003 0a010e",              #   errorValue [1] { operation [0] invalidDestination (14) }
        ),
        Invoke(8, 35, m.RouteEndRequest(
            routing_cross_ref_id="x1",
            error_value=m.CSTAError(category="operation", value="invalidDestination"),
        )),
        id="RouteEndRequest",
    ),
    pytest.param(
        h("a10f 020109 020124 3007 5802 7831 810103"),  # routeReject (36), rejectCause [1] capacityOverflow
        Invoke(9, 36, m.RouteReject(routing_cross_ref_id="x1", reject_cause="capacityOverflow")),
        id="RouteReject",
    ),
    # --- voice unit ---------------------------------------------------------------
    pytest.param(
        h(
            "a13b 020101 020201f6",          # invoke 1, playMessage (502)
            "3032",
            "0401 30",                       #   messageToBePlayed "0"
            CONNECTION_C2_6001,              #   overConnection
            "02010a",                        #   duration 10
            "7e18 a116 0414",                #   extensions: "busyPattern=FastBusy"
            "627573795061747465726e3d46617374427573 79",
        ),
        Invoke(1, 502, m.PlayMessage(
            message_to_be_played="0", over_connection=AT_6001, duration=10,
            extensions=(("busyPattern", "FastBusy"),),
        )),
        id="PlayMessage",
    ),
    pytest.param(
        h("a20b 020101 3006 020201f6 0500"),  # playMessage result: noData
        ReturnResult(1, 502, m.PlayMessageResponse()),
        id="PlayMessageResponse",
    ),
    pytest.param(
        h(
            "a124 020102 020115 301c 550137",
            "a617",                          #   voiceUnitEvents [6]
            "a015",                          #     play [0] IMPLICIT
            CONNECTION_C2_6001,              #       connection
            "0401 31",                       #       message "1"
        ),
        Invoke(2, 21, m.PlayEvent(cross_ref_id="7", connection=AT_6001, message="1")),
        id="PlayEvent",
    ),
    pytest.param(
        h(
            "a13e 020103 020115 3036 550137",
            "a631",                          #   voiceUnitEvents [6]
            "a32f",                          #     stop [3] IMPLICIT
            CONNECTION_C2_6001,              #       connection
            "0401 31",                       #       message "1"
            "0a0127",                        #       cause dTMFDigitDetected (39)
            "7e15 a113 0411",                #       extensions: "collectDigits=12#"
            "636f6c6c656374446967697473 3d313223",
        ),
        Invoke(3, 21, m.StopEvent(
            cross_ref_id="7", connection=AT_6001, message="1", cause="dTMFDigitDetected",
            extensions=(("collectDigits", "12#"),),
        )),
        id="StopEvent",
    ),
    # --- device maintenance -----------------------------------------------------
    pytest.param(
        h(
            "a119 020104 020115 3011 550137",
            "a50c",                          #   deviceMaintenanceEvents [5]
            "a20a",                          #     outOfService [2] IMPLICIT
            "6308" + DEVICE_6001,            #       device
        ),
        Invoke(4, 21, m.OutOfServiceEvent(cross_ref_id="7", device="6001")),
        id="OutOfServiceEvent",
    ),
    pytest.param(
        h(
            "a11c 020105 020115 3014 550137",
            "a50f",                          #   deviceMaintenanceEvents [5]
            "a00d",                          #     backInService [0] IMPLICIT
            "6308" + DEVICE_6001,            #       device
            "0a014e",                        #       cause normal
        ),
        Invoke(5, 21, m.BackInServiceEvent(cross_ref_id="7", device="6001", cause="normal")),
        id="BackInServiceEvent",
    ),
]


@pytest.mark.parametrize("data, apdu", VECTORS)
def test_vector_decodes(data, apdu):
    assert codec.decode_apdu(data) == apdu


@pytest.mark.parametrize("data, apdu", VECTORS)
def test_vector_encodes_to_the_same_bytes(data, apdu):
    assert codec.encode_apdu(apdu) == data


def test_peer_components_before_the_extensions_do_not_hide_them():
    # A StopEvent as a switch may send it: resource [2], length [0],
    # currentPosition [1] and servicesPermitted (five empty BIT STRINGs)
    # before the extensions; the collected digits must still be read.
    data = h(
        "a15a 020101 020115 3052 550137",
        "a64d a34b",
        CONNECTION_C2_6001,
        "0401 33",                           # message "3"
        "8203 616e6e",                       # resource [2] "ann"
        "800105 810102",                     # length [0] 5, currentPosition [1] 2
        "0a0138",                            # cause timeout (56)
        "300f 030100 030100 030100 030100 030100",  # servicesPermitted
        "7e15 a113 0411 636f6c6c656374446967697473 3d313223",
    )
    event = codec.decode_apdu(data).message
    assert event == m.StopEvent(
        cross_ref_id="7", connection=AT_6001, message="3", resource="ann", length=5,
        current_position=2, cause="timeout", extensions=(("collectDigits", "12#"),),
    )


def test_a_result_for_a_one_way_operation_is_not_decoded():
    # A peer that answers a routeEndRequest (ALWAYS RESPONDS FALSE) anyway:
    # the codec reads the envelope and leaves the result raw.
    apdu = codec.decode_apdu(h("a20a 020108 3005 020123 0500"))
    assert apdu == ReturnResult(8, 35, None, h("0500"))
