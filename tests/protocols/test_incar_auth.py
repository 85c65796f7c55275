"""ICP2: the authenticated in-car message (protocols/incar_auth.py)."""

from __future__ import annotations

import asyncio
import random

from protocols.incar import DATAGRAM_LEN, IncarMessage, MessageType, decode
from protocols.incar_auth import AUTH_LEN, IcpSigner, IcpVerifier, decode_auth, emulation_network_key, encode_auth

KEY = emulation_network_key("Springfield PD")
START = IncarMessage(MessageType.RECORDING_STARTED, "X6ICP00V1", "CAR-1", 1_780_000_000_123, 7, 1, 2, 1)


def test_round_trip_and_layout():
    datagram = IcpSigner(KEY).sign(START)
    assert len(datagram) == AUTH_LEN == DATAGRAM_LEN + 8 and datagram[:4] == b"ICP2"
    message, counter, _ = decode_auth(datagram)
    assert message == START and counter == 1
    assert IcpVerifier(KEY).check(datagram) == (START, "accepted")


def test_every_flipped_bit_is_refused():
    datagram = encode_auth(START, 41, KEY)
    for i in range(len(datagram) * 8):
        bad = bytearray(datagram)
        bad[i // 8] ^= 1 << (i % 8)
        message, why = IcpVerifier(KEY).check(bytes(bad))
        assert message is None and why in ("forged", "malformed"), i


def test_replays_and_forgeries_are_refused_10k_each():
    signer, verifier = IcpSigner(KEY), IcpVerifier(KEY)
    captured = [signer.sign(START) for _ in range(100)]
    assert all(verifier.check(d)[1] == "accepted" for d in captured)
    rng = random.Random(15)
    replays = [verifier.check(captured[rng.randrange(100)])[1] for _ in range(10_000)]
    forged = [verifier.check(encode_auth(START, rng.randrange(10**6, 2**31), rng.randbytes(32)))[1] for _ in range(10_000)]
    assert set(replays) == {"replay"} and set(forged) == {"forged"}
    assert verifier.check(signer.sign(START))[1] == "accepted"  # the genuine sender goes on


def test_the_seeded_defects_accept_what_they_should_not():
    assert IcpVerifier(KEY, checks_mac=False).check(encode_auth(START, 5, b"guessed"))[1] == "accepted"
    d = IcpSigner(KEY).sign(START)
    lax = IcpVerifier(KEY, replay_window=False)
    assert lax.check(d)[1] == lax.check(d)[1] == "accepted"


def test_a_required_endpoint_refuses_plain_icp1_and_acts_on_signed_icp2():
    from emulators.incar_net import IcpAuthSpec, IcpEndpoint

    async def main() -> tuple[list, int]:
        heard: list = []
        spec = IcpAuthSpec(mode="required", agency="Springfield PD")
        dvr = await IcpEndpoint.open("F3ICP0011", lambda m, a: heard.append(m), auth=spec)
        cam = await IcpEndpoint.open("X6ICP00V1", lambda m, a: None, auth=spec)
        plain = await IcpEndpoint.open("ATTACKER", lambda m, a: None)
        plain.send(START, dvr.address)
        cam.send(START, dvr.address)
        await asyncio.sleep(0.05)
        for ep in (dvr, cam, plain):
            ep.close()
        return heard, dvr.counters.rx_bad

    heard, bad = asyncio.run(main())
    assert heard == [START] and bad == 1
    assert decode(START.encode()) == START  # ICP1 itself is unchanged
