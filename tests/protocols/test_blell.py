import random

import pytest
from scapy.layers.bluetooth4LE import BTLE, BTLE_ADV_NONCONN_IND, BTLE_RF

from protocols.blell import ADV_ACCESS_ADDRESS, adv_pdu, crc24, ll_packet, phdr_record
from protocols.signal import Event, SignalFrame, encode_adv_data


def test_crc24_matches_scapy_on_random_pdus():
    rng = random.Random(5)
    for _ in range(200):
        pdu = bytes(rng.randrange(256) for _ in range(rng.randrange(2, 40)))
        assert crc24(pdu) == BTLE.compute_crc(pdu)


def test_phdr_record_dissects_in_scapy():
    data = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED))
    record = phdr_record(adv_pdu("C1:22:33:44:55:66", data), adv_channel=38, rssi_dbm=-61.4)
    pkt = BTLE_RF(record)
    assert pkt.rf_channel == 12 and pkt.signal == -61
    assert pkt.crc_checked == 0 and pkt.crc_valid == 0, "the harness wrote the CRC and checked none: the reader checks it"
    ll = pkt[BTLE]
    assert ll.access_addr == ADV_ACCESS_ADDRESS
    assert ll[BTLE_ADV_NONCONN_IND].AdvA == "c1:22:33:44:55:66"
    assert int.from_bytes(ll_packet(adv_pdu("C1:22:33:44:55:66", data))[-3:], "big")  # scapy shows the wire bytes big-endian == ll.crc


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="37, 38 or 39"):
        phdr_record(adv_pdu("C1:22:33:44:55:66", b""), adv_channel=12, rssi_dbm=-50)
    with pytest.raises(ValueError, match="at most 31"):
        adv_pdu("C1:22:33:44:55:66", bytes(32))
    with pytest.raises(ValueError, match="bad BLE address"):
        adv_pdu("C1:22", b"")
