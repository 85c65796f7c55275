-- Wireshark dissector for ICP, the in-car protocol between a body camera and its cruiser's DVR
-- (docs/incar-protocol.md; the harness's codec is protocols/incar.py): UDP port 47600, one
-- 39-byte big-endian message per datagram, CRC-32 (zlib) of bytes 0-34 in bytes 35-38.
--
--   tshark -X lua_script:tools/wireshark/icp.lua -r icp.pcap -T fields -e bwc_icp.type -e bwc_icp.sender
--
-- or copy this file to Wireshark's personal Lua plugins folder (Help > About > Folders), e.g.
-- ~/.local/lib/wireshark/plugins/. The filter name is bwc_icp: Wireshark's "icp" is the
-- Internet Cache Protocol. A datagram of another length or magic is marked malformed; a wrong
-- CRC is shown (bwc_icp.crc.status == 0) with an expert warning, as the endpoints drop it.
-- ICP2 (authenticated, protocols/incar_auth.py): magic ICP2, 47 bytes, the same fields, then a
-- 32-bit counter (bwc_icp.counter) and an 8-byte MAC (bwc_icp.mac) in place of the CRC; the MAC
-- needs the agency's key, so it is shown, not checked.

local icp = Proto("bwc_icp", "In-car protocol (bwc-harness ICP)")

local TYPES = { [1] = "HEARTBEAT", [2] = "RECORDING_STARTED", [3] = "RECORDING_STOPPED", [4] = "ACK", [5] = "STOP_GROUP" }
local CLASSES = { [0] = "none", [1] = "CEW", [2] = "holster", [3] = "vehicle", [4] = "camera" }
local CRC_STATUS = { [0] = "Bad", [1] = "Good" }

local f = {
    magic = ProtoField.string("bwc_icp.magic", "Magic"),
    type = ProtoField.uint8("bwc_icp.type", "Message type", base.DEC, TYPES),
    flags = ProtoField.uint8("bwc_icp.flags", "Flags", base.HEX),
    ack_requested = ProtoField.bool("bwc_icp.flags.ack_requested", "Ack requested", 8, nil, 0x01),
    sequence = ProtoField.uint16("bwc_icp.seq", "Sequence number", base.DEC),
    sender = ProtoField.string("bwc_icp.sender", "Sender serial"),
    vehicle = ProtoField.string("bwc_icp.vehicle", "Vehicle id"),
    event_ms = ProtoField.uint64("bwc_icp.event_time_ms", "Event time (UTC ms, sender's clock)", base.DEC),
    event_time = ProtoField.absolute_time("bwc_icp.event_time", "Event time", base.UTC),
    reason_class = ProtoField.uint8("bwc_icp.reason_class", "Reason source class", base.DEC, CLASSES),
    reason_code = ProtoField.uint8("bwc_icp.reason_code", "Reason code", base.DEC),
    crc = ProtoField.uint32("bwc_icp.crc", "CRC-32", base.HEX),
    crc_status = ProtoField.uint8("bwc_icp.crc.status", "CRC status", base.DEC, CRC_STATUS),
    counter = ProtoField.uint32("bwc_icp.counter", "Counter (ICP2)", base.DEC),
    mac = ProtoField.bytes("bwc_icp.mac", "MAC (ICP2, HMAC-SHA-256/64, not checked here)"),
}
icp.fields = { f.magic, f.type, f.flags, f.ack_requested, f.sequence, f.sender, f.vehicle, f.event_ms, f.event_time,
               f.reason_class, f.reason_code, f.crc, f.crc_status, f.counter, f.mac }

local e_crc = ProtoExpert.new("bwc_icp.crc.bad", "ICP CRC-32 mismatch (the endpoints drop this datagram)",
    expert.group.CHECKSUM, expert.severity.WARN)
local e_malformed = ProtoExpert.new("bwc_icp.malformed", "Not a valid ICP datagram", expert.group.MALFORMED, expert.severity.ERROR)
local e_type = ProtoExpert.new("bwc_icp.type.unknown", "Unknown ICP message type", expert.group.MALFORMED, expert.severity.ERROR)
icp.experts = { e_crc, e_malformed, e_type }

local DATAGRAM_LEN, BODY_LEN, AUTH_LEN = 39, 35, 47

-- CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF)
local CRC_TABLE = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if bit32.band(c, 1) == 1 then c = bit32.bxor(bit32.rshift(c, 1), 0xEDB88320) else c = bit32.rshift(c, 1) end
    end
    CRC_TABLE[i] = c
end

local function crc32(range)
    local crc = 0xFFFFFFFF
    local bytes = range:bytes()
    for i = 0, bytes:len() - 1 do
        crc = bit32.bxor(CRC_TABLE[bit32.band(bit32.bxor(crc, bytes:get_index(i)), 0xFF)], bit32.rshift(crc, 8))
    end
    return bit32.bxor(crc, 0xFFFFFFFF)
end

function icp.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "ICP"
    local sub = tree:add(icp, tvb())
    local v2 = tvb:len() == AUTH_LEN and tvb(0, 4):string() == "ICP2"
    if not v2 and (tvb:len() ~= DATAGRAM_LEN or tvb(0, 4):string() ~= "ICP1") then
        sub:add_proto_expert_info(e_malformed, string.format("not ICP: %d bytes (ICP datagrams are %d, magic ICP1; ICP2 %d)", tvb:len(), DATAGRAM_LEN, AUTH_LEN))
        pinfo.cols.info = "ICP (malformed)"
        return tvb:len()
    end
    sub:add(f.magic, tvb(0, 4))
    local kind = tvb(4, 1):uint()
    local type_item = sub:add(f.type, tvb(4, 1))
    if TYPES[kind] == nil then type_item:add_proto_expert_info(e_type) end
    local flags = sub:add(f.flags, tvb(5, 1))
    flags:add(f.ack_requested, tvb(5, 1))
    sub:add(f.sequence, tvb(6, 2))
    sub:add(f.sender, tvb(8, 9))
    sub:add(f.vehicle, tvb(17, 8), (tvb(17, 8):string():gsub("%s+$", "")))
    sub:add(f.event_ms, tvb(25, 8))
    local ms = tvb(25, 8):uint64()
    local seconds = (ms / 1000):tonumber()
    local nanos = (ms % 1000):tonumber() * 1000000
    sub:add(f.event_time, tvb(25, 8), NSTime.new(seconds, nanos)):set_generated()
    sub:add(f.reason_class, tvb(33, 1))
    sub:add(f.reason_code, tvb(34, 1))
    local ack = bit32.band(tvb(5, 1):uint(), 1) == 1 and " (ack requested)" or ""
    local what = string.format("%s seq %d from %s vehicle %s%s", TYPES[kind] or string.format("type 0x%02x", kind),
        tvb(6, 2):uint(), tvb(8, 9):string(), (tvb(17, 8):string():gsub("%s+$", "")), ack)
    if v2 then
        sub:add(f.counter, tvb(35, 4))
        sub:add(f.mac, tvb(39, 8))
        pinfo.cols.info = string.format("ICP2 %s counter %d", what, tvb(35, 4):uint())
        return AUTH_LEN
    end
    local wire = tvb(35, 4):uint()
    local good = crc32(tvb(0, BODY_LEN)) == wire
    local crc_item = sub:add(f.crc, tvb(35, 4))
    crc_item:add(f.crc_status, tvb(35, 4), good and 1 or 0):set_generated()
    if not good then crc_item:add_proto_expert_info(e_crc) end
    pinfo.cols.info = what .. (good and "" or " [BAD CRC]")
    return DATAGRAM_LEN
end

DissectorTable.get("udp.port"):add(47600, icp)
