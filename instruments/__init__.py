"""Observers: they watch devices from outside (air capture, BLE observer, clip analyzer)."""
