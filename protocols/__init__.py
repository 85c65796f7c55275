"""Pure codecs: bytes in, typed values out. No I/O, no clocks, no sockets."""
