"""The radio model of the air: log-distance path loss with per-packet fading and random loss,
per-link shadowing and the receivers' co-channel capture threshold."""

from __future__ import annotations

import math
from dataclasses import dataclass

FT_PER_M = 3.28084


@dataclass(frozen=True)
class PathLossModel:
    """Log-distance path loss with per-packet Gaussian fading and random loss.

    rssi(d) = tx_power - pl_1m - 10 * exponent * log10(d / 1 m) + N(0, fading_sigma)
    A PDU is received when rssi >= sensitivity and a uniform draw >= loss_rate. The
    sensitivity is derived so that the mean RSSI at ``nominal_range_ft`` equals it: that
    distance is where half of the PDUs arrive (before random loss).

    ``shadowing_sigma_db``: a per-link offset on top of the mean, drawn once per (sender,
    receiver) pair (emulators/air_links.py); 0 by default: the conformance scenes are open
    ground, scene files may set it. ``capture_db``: a PDU overlapped on its channel by others
    survives at a receiver only when it is this much stronger than their summed level there
    (emulators/air_collisions.py): 21 dB, the co-channel rejection the Core Specification asks
    of an LE 1M receiver (Vol 6, Part A, 4.2: C/I co-channel 21 dB), i.e. a receiver that meets
    the specification and no better.
    """

    tx_power_dbm: float = 0.0
    pl_1m_db: float = 40.0
    exponent: float = 3.0
    fading_sigma_db: float = 1.0
    loss_rate: float = 0.05
    nominal_range_ft: float = 30.0
    shadowing_sigma_db: float = 0.0
    capture_db: float = 21.0

    def mean_rssi(self, distance_ft: float) -> float:
        d_m = max(distance_ft / FT_PER_M, 0.3)
        return self.tx_power_dbm - self.pl_1m_db - 10.0 * self.exponent * math.log10(d_m)

    @property
    def sensitivity_dbm(self) -> float:
        return self.mean_rssi(self.nominal_range_ft)

    def delivery_probability(self, distance_ft: float) -> float:
        """Analytic probability that one PDU arrives at this distance."""
        margin = self.mean_rssi(distance_ft) - self.sensitivity_dbm
        if self.fading_sigma_db <= 0:
            p = 1.0 if margin >= 0 else 0.0
        else:
            p = 0.5 * (1 + math.erf(margin / (self.fading_sigma_db * math.sqrt(2))))
        return p * (1 - self.loss_rate)
