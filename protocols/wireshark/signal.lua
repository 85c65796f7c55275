-- Wireshark dissector for the Signal payload: the 24 bytes of Service Data for the 16-bit
-- UUID 0xFE6C in a BLE advert (docs/signal-codec.md; the harness's codec is protocols/signal.py),
-- and the authenticated version 0x02 (docs/signal-auth.md, protocols/signal_auth.py): its MAC,
-- counter and key id are shown, not checked (a dissector holds no key).
--
--   tshark -X lua_script:tools/wireshark/signal.lua -r air.pcap -T fields -e bwc_signal.serial -e bwc_signal.event
--
-- or copy this file to Wireshark's personal Lua plugins folder (Help > About > Folders), e.g.
-- ~/.local/lib/wireshark/plugins/. A heuristic after Wireshark's own dissection: every
-- "Service Data - 16 bit UUID" entry of an advert (BT Common's fields) whose UUID is 0xFE6C and
-- whose data has the payload's shape (24 bytes, a printable 9-character serial) is decoded; any
-- other service data is left as Wireshark shows it. (Wireshark 4.0 hands 16-bit service data to
-- no sub-dissector table, so a post-dissector is the way in that works on every version.)

local signal = Proto("bwc_signal", "Axon Signal payload (bwc-harness)")

local CLASSES = { [0] = "unknown", [1] = "CEW", [2] = "holster", [3] = "vehicle", [4] = "camera" }
local EVENTS = {
    [0x0100] = "CEW_PRESENCE", [0x0101] = "CEW_ARMED", [0x0102] = "CEW_TRIGGER", [0x0103] = "CEW_ARC",
    [0x0201] = "HOLSTER_DRAW", [0x0202] = "HOLSTER_RETURN",
    [0x0301] = "VEHICLE_LIGHT_BAR", [0x0302] = "VEHICLE_SIREN", [0x0303] = "VEHICLE_DOOR",
    [0x0304] = "VEHICLE_CRASH", [0x0305] = "VEHICLE_SPEED",
    [0x0400] = "CAMERA_PRESENCE", [0x0401] = "CAMERA_RECORDING_STARTED", [0x0402] = "CAMERA_RECORDING_STOPPED",
}
-- events on which a camera starts recording (never presence, holster return or camera status)
local ACTIVATING = {
    [0x0101] = true, [0x0102] = true, [0x0103] = true, [0x0201] = true,
    [0x0301] = true, [0x0302] = true, [0x0303] = true, [0x0304] = true, [0x0305] = true,
}

local f = {
    version = ProtoField.uint8("bwc_signal.version", "Version / frame type", base.HEX),
    serial = ProtoField.string("bwc_signal.serial", "Sender serial"),
    source_class = ProtoField.uint8("bwc_signal.class", "Source class", base.HEX, CLASSES),
    event_code = ProtoField.uint8("bwc_signal.code", "Event code", base.HEX),
    event = ProtoField.string("bwc_signal.event", "Event"),
    activates = ProtoField.bool("bwc_signal.activates", "Activates cameras"),
    reserved = ProtoField.bytes("bwc_signal.reserved", "Reserved"),
    sequence = ProtoField.uint24("bwc_signal.sequence", "Payload sequence counter", base.DEC),
    event_id = ProtoField.uint16("bwc_signal.event_id", "Event id", base.DEC),
    authenticated = ProtoField.bool("bwc_signal.authenticated", "Authenticated dialect (version 0x02)"),
    mac = ProtoField.bytes("bwc_signal.mac", "MAC (HMAC-SHA-256, 8 bytes; not checked)"),
    counter = ProtoField.uint24("bwc_signal.counter", "Counter", base.DEC),
    key_id = ProtoField.uint8("bwc_signal.key_id", "Key id", base.DEC),
}
signal.fields = { f.version, f.serial, f.source_class, f.event_code, f.event, f.activates, f.reserved, f.sequence, f.event_id,
                  f.authenticated, f.mac, f.counter, f.key_id }

local e_reserved = ProtoExpert.new("bwc_signal.reserved.nonzero", "Reserved bytes are not zero",
    expert.group.PROTOCOL, expert.severity.NOTE)
local e_unknown = ProtoExpert.new("bwc_signal.event.unknown", "Unknown source class / event code",
    expert.group.UNDECODED, expert.severity.NOTE)
signal.experts = { e_reserved, e_unknown }

local PAYLOAD_LEN, SERIAL_LEN, VERSION_AUTH = 24, 9, 0x02
local SIGNAL_UUID16 = 0xFE6C
local uuid16_field = Field.new("btcommon.eir_ad.entry.uuid_16")
local service_data_field = Field.new("btcommon.eir_ad.entry.service_data")

local function printable(tvb, offset, len)
    for i = offset, offset + len - 1 do
        local b = tvb(i, 1):uint()
        if b < 0x20 or b > 0x7e then return false end
    end
    return true
end

local function reserved(tree, range)
    local item = tree:add(f.reserved, range)
    for i = 0, range:len() - 1 do
        if range(i, 1):uint() ~= 0 then item:add_proto_expert_info(e_reserved); break end
    end
end

local function payload(range, pinfo, tree)
    local tvb = range:tvb()
    if tvb:len() ~= PAYLOAD_LEN or not printable(tvb, 1, SERIAL_LEN) then
        return false -- not the Signal payload's shape
    end
    local class, code = tvb(10, 1):uint(), tvb(11, 1):uint()
    local key = class * 256 + code
    local name = EVENTS[key] or string.format("unknown (class 0x%02x, code 0x%02x)", class, code)
    local serial = tvb(1, SERIAL_LEN):string()
    local sub = tree:add(signal, tvb(), "Axon Signal: " .. serial .. " " .. name)
    sub:add(f.version, tvb(0, 1))
    sub:add(f.serial, tvb(1, SERIAL_LEN))
    sub:add(f.source_class, tvb(10, 1))
    sub:add(f.event_code, tvb(11, 1))
    local ev = sub:add(f.event, tvb(10, 2), name):set_generated()
    if EVENTS[key] == nil then ev:add_proto_expert_info(e_unknown) end
    sub:add(f.activates, tvb(10, 2), ACTIVATING[key] == true):set_generated()
    pinfo.cols.protocol = "Signal"
    if tvb(0, 1):uint() == VERSION_AUTH then
        sub:add(f.authenticated, tvb(0, 1), true):set_generated()
        sub:add(f.mac, tvb(12, 8))
        sub:add_le(f.counter, tvb(20, 3))
        sub:add_le(f.event_id, tvb(20, 2)):set_generated() -- what a legacy reader takes for the event id
        sub:add(f.key_id, tvb(23, 1))
        pinfo.cols.info = string.format("Signal %s %s auth counter %d key %d", serial, name, tvb(20, 3):le_uint(), tvb(23, 1):uint())
        return true
    end
    reserved(sub, tvb(12, 4))
    sub:add_le(f.sequence, tvb(16, 3))
    reserved(sub, tvb(19, 1))
    sub:add_le(f.event_id, tvb(20, 2))
    reserved(sub, tvb(22, 2))
    pinfo.cols.info = string.format("Signal %s %s seq %d event %d", serial, name, tvb(16, 3):le_uint(), tvb(20, 2):le_uint())
    return true
end

function signal.dissector(_, pinfo, tree)
    local ours = {} -- offsets right after a 16-bit UUID 0xFE6C
    for _, uuid in ipairs({ uuid16_field() }) do
        if uuid.value == SIGNAL_UUID16 then ours[uuid.offset + 2] = true end
    end
    for _, data in ipairs({ service_data_field() }) do
        if ours[data.offset] then payload(data.range, pinfo, tree) end
    end
end

register_postdissector(signal, true)
