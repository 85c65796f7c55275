"""Virtual devices (BWC, CEW, DVR) as asyncio state machines on a simulated air."""
