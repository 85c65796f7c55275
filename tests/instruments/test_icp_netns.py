"""BWC and DVR as separate hosts in their own network namespaces joined by veth: the chaining
message crosses the link, the DVR records, and the sniffer dissects the ICP datagrams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP

from instruments.icp_sniffer import ICP
from protocols.incar import IncarMessage, MessageType

REPO = Path(__file__).resolve().parents[2]


def test_scapy_layer_dissects_and_builds():
    raw = IncarMessage(MessageType.RECORDING_STARTED, "X6BWC00A1", "CAR-A", 1_780_000_062_600, 9, 1, 1, 1).encode()
    pkt = IP(dst="169.254.10.2") / UDP(sport=47600, dport=47600) / raw
    pkt = IP(bytes(pkt))
    assert pkt.haslayer(ICP) and pkt[ICP].sender == b"X6BWC00A1" and pkt[ICP].type == 2 and pkt[ICP].crc_ok()
    built = bytes(ICP(type=4, seq=9, sender=b"F3DVR00A1", vehicle=b"CAR-A   ", event_utc_ms=5))
    assert built[:4] == b"ICP1" and len(built) == 39


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def netns_pair():
    if os.geteuid() != 0:
        pytest.fail("network namespaces need root (CI runs as root)")
    tag = uuid.uuid4().hex[:6]
    a, b = f"bwc-{tag}", f"dvr-{tag}"
    va, vb = f"vb{tag}", f"vd{tag}"
    _ip("netns", "add", a)
    _ip("netns", "add", b)
    try:
        _ip("link", "add", va, "type", "veth", "peer", "name", vb)
        _ip("link", "set", va, "netns", a)
        _ip("link", "set", vb, "netns", b)
        _ip("-n", a, "addr", "add", "169.254.10.1/24", "dev", va)
        _ip("-n", b, "addr", "add", "169.254.10.2/24", "dev", vb)
        for ns, dev in ((a, va), (b, vb)):
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield a, b, va
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_chaining_crosses_a_veth_link_between_namespaces(netns_pair, tmp_path):
    ns_bwc, ns_dvr, veth = netns_pair
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    dvr = subprocess.Popen(["ip", "netns", "exec", ns_dvr, sys.executable, "-m", "emulators.incar_node", "dvr", "--serial", "F3NSD00A1",
                            "--vehicle", "CAR-A", "--paired", "X6NSB00A1", "--bind", "169.254.10.2", "--seconds", "7", "--out", str(tmp_path)],
                           cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sniffer_code = (
        "import sys, json, time; sys.path.insert(0, %r)\n"
        "from instruments.icp_sniffer import IcpSniffer\n"
        "s = IcpSniffer(%r); s.start(); time.sleep(6); seen = s.stop()\n"
        "print(json.dumps([[x.src, x.dst, x.message.type.name if x.message else None, x.error] for x in seen]))\n"
    ) % (str(REPO), veth)
    sniffer = subprocess.Popen(["ip", "netns", "exec", ns_bwc, sys.executable, "-c", sniffer_code], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bwc = subprocess.run(["ip", "netns", "exec", ns_bwc, sys.executable, "-m", "emulators.incar_node", "bwc", "--serial", "X6NSB00A1",
                          "--vehicle", "CAR-A", "--dvr", "169.254.10.2", "--bind", "169.254.10.1", "--after", "3"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    dvr_out, dvr_err = dvr.communicate(timeout=60)
    sniff_out, sniff_err = sniffer.communicate(timeout=60)
    assert bwc.returncode == 0 and json.loads(bwc.stdout)["acked"], bwc.stderr
    clips = json.loads(dvr_out.strip().splitlines()[-1])["clips"]
    assert len(clips) == 2, dvr_err  # front and rear started by the paired camera's message
    seen = json.loads(sniff_out.strip().splitlines()[-1])
    assert ["169.254.10.1", "169.254.10.2", "RECORDING_STARTED", None] in seen, sniff_err
    assert ["169.254.10.2", "169.254.10.1", "ACK", None] in seen
