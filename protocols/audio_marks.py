"""Audio time marks: the sound a camera records so its audio can be placed on the timecode.

The signal (48 kHz mono, float in [-1, 1]) is a function of the device clock only:

* a quiet continuous 400 Hz tone (``TONE_LEVEL``, about -30 dBFS): "audio is present";
* a 50 ms 1 kHz beep (``BEEP_LEVEL``, -6 dBFS, 2 ms raised-cosine ramps) whose onset is at
  every whole UTC second of the device clock;
* from 60 ms after each beep's onset, the number of that second: 16 bits of the UTC second
  (seconds since 1970 mod 65536) and a CRC-4, 20 bits of 10 ms each, most significant first,
  as two tones (FSK: 2 kHz for 0, 3 kHz for 1, ``CODE_LEVEL`` -14 dBFS).

Every frequency has a whole number of periods per second (and per bit), so the phase is a
function of the time of day: blocks synthesized separately join without a click, and the same
instant always gives the same sample value. The analyzer finds the beep onsets in decoded PCM
(sub-millisecond on clean PCM, ~1 ms through AAC), reads the second each beep marks, and
compares it with the video timecode at the same container time: that difference is the A/V
offset, unambiguous for offsets up to 9 hours (beeps whose number cannot be read are placed
on the nearest second to the others). The first non-silent sample is where audio starts.

Pure numpy: no I/O.
"""

from __future__ import annotations

from math import gcd

import numpy as np

SAMPLE_RATE = 48_000
CHANNELS = 1
TONE_HZ = 400
TONE_LEVEL = 0.03
BEEP_HZ = 1000
BEEP_LEVEL = 0.5
BEEP_MS = 50.0
BEEP_RAMP_MS = 2.0
SILENCE_DBFS = -50.0  # below this RMS (over DETECT_WINDOW_MS) a stretch counts as silent
DETECT_WINDOW_MS = 5.0  # boxcar length of the beep detector: nulls at multiples of 200 Hz
CODE_START_MS = 60.0  # the second's number starts this long after the beep's onset
CODE_BIT_MS = 10.0
CODE_BITS = 16  # UTC second mod 65536
CHECK_BITS = 4  # CRC-4 (x^4 + x + 1) of the 16 bits
CODE_HZ = (2000, 3000)  # tone of a 0 bit, of a 1 bit
CODE_LEVEL = 0.2
CODE_GUARD_MS = 2.0  # each bit is read on its middle, clear of the transitions
CODE_MIN_LEVEL = 0.001  # a bit's tone must be at least this loud (-60 dBFS) to be read
CODE_PERIOD = 1 << CODE_BITS


def sample_times_ms(t0_ms: float, n_samples: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Device-clock time (UTC ms, float64) of each of n samples, the first at t0_ms."""
    return t0_ms + np.arange(n_samples, dtype=np.float64) * (1000.0 / sample_rate)


def synthesize(t0_ms: float, n_samples: int, sample_rate: float = SAMPLE_RATE) -> np.ndarray:
    """The marks for n samples whose first sample is at device-clock time t0_ms (UTC ms, may
    be fractional). float32 mono in [-1, 1]. Calls for consecutive blocks (t0 advanced by
    n * 1000 / sample_rate) join seamlessly."""
    if n_samples < 0:
        raise ValueError(f"n_samples {n_samples} < 0")
    if sample_rate < 8000:
        raise ValueError(f"sample rate {sample_rate} Hz too low for a {BEEP_HZ} Hz beep")
    # time within the current second, in ms; computed from t0 mod 1000 so float precision
    # does not depend on how large the epoch count is
    within = (t0_ms % 1000.0) + np.arange(n_samples, dtype=np.float64) * (1000.0 / sample_rate)
    raw = within.copy()  # ms since the start of t0's second: its whole thousands count the seconds
    within %= 1000.0
    phase = within / 1000.0  # fraction of a second; every tone has whole periods per second
    out = TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * phase)
    code_end = CODE_START_MS + (CODE_BITS + CHECK_BITS) * CODE_BIT_MS
    in_code = (within >= CODE_START_MS) & (within < code_end)
    if in_code.any():
        bit = ((within[in_code] - CODE_START_MS) // CODE_BIT_MS).astype(np.int64)
        secs = np.floor(t0_ms / 1000.0) + np.floor(raw[in_code] / 1000.0)  # the UTC second of each code sample
        first = int(secs[0])  # seconds only go up within a block: a small table of their words
        table = np.array([code_word(first + k) for k in range(int(secs[-1]) - first + 1)], dtype=np.int64)
        words = table[(secs - first).astype(np.int64)]
        ones = (words >> (CODE_BITS + CHECK_BITS - 1 - bit)) & 1
        hz = np.where(ones == 1, CODE_HZ[1], CODE_HZ[0])
        out[in_code] += CODE_LEVEL * np.sin(2 * np.pi * hz * phase[in_code])
    in_beep = within < BEEP_MS
    if in_beep.any():
        t = within[in_beep]
        env = np.ones_like(t)
        up = t < BEEP_RAMP_MS
        env[up] = 0.5 - 0.5 * np.cos(np.pi * t[up] / BEEP_RAMP_MS)
        down = t > BEEP_MS - BEEP_RAMP_MS
        env[down] = 0.5 - 0.5 * np.cos(np.pi * (BEEP_MS - t[down]) / BEEP_RAMP_MS)
        out[in_beep] += BEEP_LEVEL * env * np.sin(2 * np.pi * BEEP_HZ * phase[in_beep])
    return out.astype(np.float32)


def crc4(value: int, bits: int = CODE_BITS) -> int:
    """CRC-4/ITU (x^4 + x + 1, init 0) of the ``bits`` low bits of value, most significant first."""
    crc = 0
    for i in range(bits - 1, -1, -1):
        top = ((crc >> 3) & 1) ^ ((value >> i) & 1)
        crc = ((crc << 1) & 0xF) ^ (0x3 if top else 0)
    return crc


def code_word(utc_second: int) -> int:
    """The 20 bits sent after the beep of this UTC second: second mod 65536, then its CRC-4."""
    v = utc_second % CODE_PERIOD
    return (v << CHECK_BITS) | crc4(v)


def synthesize_range(t0_ms: float, t1_ms: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The marks for device-clock times [t0_ms, t1_ms): round((t1 - t0) * rate / 1000) samples."""
    if t1_ms < t0_ms:
        raise ValueError(f"t1_ms {t1_ms} before t0_ms {t0_ms}")
    return synthesize(t0_ms, int(round((t1_ms - t0_ms) * sample_rate / 1000.0)), sample_rate)


def to_s16(pcm: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16 (for encoders that want s16)."""
    return np.clip(np.round(pcm * 32767.0), -32768, 32767).astype(np.int16)


def _boxcar(x: np.ndarray, width: int) -> np.ndarray:
    """Trailing moving average: out[n] = mean(x[n-width+1 .. n]) (zeros before the start)."""
    c = np.cumsum(np.concatenate((np.zeros(width, dtype=x.dtype), x)))
    return (c[width:] - c[:-width]) / width


def beep_envelope(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """Amplitude of the BEEP_HZ component per sample, and the detector's delay in samples
    (a beep's half-amplitude crossing comes that many samples after its onset)."""
    x = np.asarray(pcm, dtype=np.float64)
    width = max(1, int(round(DETECT_WINDOW_MS * sample_rate / 1000.0)))
    n = np.arange(x.size, dtype=np.float64)
    carrier = np.exp(-2j * np.pi * BEEP_HZ * n / sample_rate)
    env = 2.0 * np.abs(_boxcar(x * carrier, width))
    delay = (width - 1) / 2.0 + BEEP_RAMP_MS * sample_rate / 2000.0
    return env, delay


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.diff(mask.astype(np.int8))
    starts = [int(i) + 1 for i in np.nonzero(edges == 1)[0]]
    ends = [int(i) + 1 for i in np.nonzero(edges == -1)[0]]
    if mask.size and mask[0]:
        starts.insert(0, 0)
    if mask.size and mask[-1]:
        ends.append(mask.size)
    return list(zip(starts, ends))


def _coarse_envelope(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """The BEEP_HZ amplitude per block of a whole number of carrier periods (1 ms at 48 kHz):
    one matrix-vector product instead of a per-sample demodulation. (envelope, block size)."""
    block = sample_rate // gcd(sample_rate, BEEP_HZ)
    nb = x.size // block
    phase = 2 * np.pi * BEEP_HZ * np.arange(block) / sample_rate
    basis = np.stack((np.cos(phase), -np.sin(phase)), axis=1).astype(np.float32)  # real BLAS, no complex copy
    iq = x[: nb * block].reshape(nb, block) @ basis
    sums = iq[:, 0].astype(np.float64) + 1j * iq[:, 1].astype(np.float64)
    wb = max(1, int(round(DETECT_WINDOW_MS * sample_rate / 1000.0 / block)))
    return 2.0 * np.abs(_boxcar(sums.astype(np.complex128), wb)) / block, block


def _refine(x: np.ndarray, sample_rate: int, cut_at_start: bool) -> float | None:
    """Onset of the one beep in a short stretch, at full resolution (fractional sample)."""
    env, delay = beep_envelope(x, sample_rate)
    peak = float(env.max())
    runs = [r for r in _runs(env > 0.25 * peak) if not (cut_at_start and r[0] == 0)]
    beep_len = BEEP_MS * sample_rate / 1000.0
    runs = [(a, b) for a, b in runs if 0.5 * beep_len <= b - a <= 3.0 * beep_len]
    if not runs:
        return None
    a, b = max(runs, key=lambda r: r[1] - r[0])
    mid = env[a + (b - a) // 4 : b - (b - a) // 4]
    half = 0.5 * float(np.median(mid)) if mid.size else 0.5 * float(env[a:b].max())
    lo = max(1, a - int(2 * delay) - 2)
    idx = np.nonzero(env[lo:b] >= half)[0]
    if idx.size == 0:
        return None
    i = lo + int(idx[0])
    y0, y1 = float(env[i - 1]), float(env[i])
    frac = (half - y0) / (y1 - y0) if y1 > y0 else 0.0
    return i - 1 + frac - delay


def beep_onsets(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE, *, min_level: float = 0.01) -> np.ndarray:
    """Onsets of the beeps in mono PCM, as fractional sample indices (float64, ascending).

    A beep is a stretch where the 1 kHz amplitude stays above a quarter of the loudest
    1 kHz stretch (and above min_level) for 50-300 % of BEEP_MS (beeps cut by the start of
    the PCM are skipped); its onset is where the amplitude crosses half its plateau, less
    the detector delay. A coarse pass finds the beeps, a full-resolution pass times each."""
    x = np.asarray(pcm, dtype=np.float32)
    env, block = _coarse_envelope(x, sample_rate)
    if env.size < 2 or float(env.max()) < min_level:
        return np.zeros(0)
    beep_blocks = BEEP_MS * sample_rate / 1000.0 / block
    margin = int(round(2 * DETECT_WINDOW_MS * sample_rate / 1000.0)) + 2 * block
    first_timeable = DETECT_WINDOW_MS * sample_rate / 1000.0  # earlier onsets are cut by the start of the PCM
    onsets = []
    for a, b in _runs(env > max(min_level, 0.25 * float(env.max()))):
        if a == 0 or not 0.4 * beep_blocks <= b - a <= 3.5 * beep_blocks:
            continue  # cut by the start, a click, or a long tone that is not our beep
        lo, hi = max(0, a * block - margin), min(x.size, b * block + margin)
        onset = _refine(x[lo:hi], sample_rate, cut_at_start=lo == 0)
        if onset is not None and lo + onset >= first_timeable:
            onsets.append(lo + onset)
    return np.array(onsets, dtype=np.float64)


def first_sound(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE, *, floor_dbfs: float = SILENCE_DBFS) -> int | None:
    """Index of the first sample of the first DETECT_WINDOW_MS window whose RMS is above
    floor_dbfs (digital silence or a muted microphone stays below), or None. Scans in 1 s
    chunks and stops at the first sound."""
    width = max(1, int(round(DETECT_WINDOW_MS * sample_rate / 1000.0)))
    thr = 10.0 ** (floor_dbfs / 20.0)
    chunk = max(sample_rate, 4 * width)
    for start in range(0, pcm.size, chunk):
        lo = max(0, start - width)  # overlap: a window may straddle two chunks
        x = np.asarray(pcm[lo : start + chunk], dtype=np.float64)
        rms = np.sqrt(np.maximum(_boxcar(x * x, width), 0.0))
        loud = np.nonzero(rms > thr)[0]
        if loud.size == 0:
            continue
        end = int(loud[0])  # the first loud window ends here: its first loud sample starts the sound
        w0 = max(0, end - width + 1)
        hits = np.nonzero(np.abs(x[w0 : end + 1]) > thr)[0]
        return lo + w0 + (int(hits[0]) if hits.size else 0)
    return None


def read_code(pcm: np.ndarray, onset: float, sample_rate: float = SAMPLE_RATE) -> int | None:
    """The second number (UTC second mod 65536) sent after the beep whose onset is at sample
    index ``onset`` of pcm, or None when it is cut off, too weak or fails its CRC. Each bit is
    the louder of the two tones over the middle of its 10 ms."""
    x = np.asarray(pcm, dtype=np.float64)
    per_ms = sample_rate / 1000.0
    width = int(round((CODE_BIT_MS - 2 * CODE_GUARD_MS) * per_ms))
    n = np.arange(width, dtype=np.float64)
    word = 0
    for i in range(CODE_BITS + CHECK_BITS):
        a = int(round(onset + (CODE_START_MS + i * CODE_BIT_MS + CODE_GUARD_MS) * per_ms))
        if a < 0 or a + width > x.size:
            return None
        chunk = x[a : a + width]
        m0, m1 = (abs(np.dot(chunk, np.exp(-2j * np.pi * hz * n / sample_rate))) * 2 / width for hz in CODE_HZ)
        if max(m0, m1) < CODE_MIN_LEVEL or max(m0, m1) < 2.0 * min(m0, m1):
            return None  # no code here (silence, a cut), or neither tone clearly there
        word = (word << 1) | int(m1 > m0)
    value = word >> CHECK_BITS
    return value if crc4(value) == word & 0xF else None


def nearest_second(code: int, approx_utc_ms: float) -> int:
    """The UTC second whose number is ``code`` (mod 65536) nearest to approx_utc_ms."""
    approx = approx_utc_ms / 1000.0
    return int(code + round((approx - code) / CODE_PERIOD) * CODE_PERIOD)
