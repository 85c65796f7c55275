"""Audio time marks: synthesis is a function of the device clock; beep onsets are found to
well under a millisecond on PCM at the usual sample rates, also under noise; the number each
beep carries names its second, so offsets of whole seconds are not ambiguous."""

import numpy as np
import pytest

from protocols import audio_marks as am

T0 = 1_780_000_000_000 - 333.3  # not on a whole second, not on a whole millisecond


def _err_ms(onsets: np.ndarray, t0: float, rate: int) -> np.ndarray:
    """Each onset's distance from the nearest whole second of the device clock."""
    t = t0 + onsets * 1000.0 / rate
    return (t + 500.0) % 1000.0 - 500.0


def test_blocks_join_seamlessly_and_depend_only_on_the_clock():
    whole = am.synthesize(T0, 48_000 * 3)
    blocks = np.concatenate([am.synthesize(T0 + i * 1024 / 48, 1024) for i in range(48_000 * 3 // 1024)])
    assert np.abs(blocks - whole[: blocks.size]).max() < 1e-3
    later = am.synthesize(T0 + 1000.0, 4800)  # one second later: the same samples
    assert np.abs(later - whole[48_000 : 48_000 + 4800]).max() < 1e-3


def test_levels_beep_at_whole_seconds_and_quiet_tone_between():
    pcm = am.synthesize(1_780_000_000_000, 48_000)
    beep = pcm[int(0.010 * 48_000) : int(0.040 * 48_000)]
    code = pcm[int(0.070 * 48_000) : int(0.250 * 48_000)]  # the second's number (FSK)
    between = pcm[int(0.300 * 48_000) : int(0.900 * 48_000)]
    assert np.abs(code).max() == pytest.approx(am.CODE_LEVEL + am.TONE_LEVEL, abs=0.01)
    assert np.abs(beep).max() == pytest.approx(am.BEEP_LEVEL + am.TONE_LEVEL, abs=0.01)
    assert np.abs(between).max() == pytest.approx(am.TONE_LEVEL, abs=0.002)
    assert len(am.synthesize_range(T0, T0 + 100.0)) == 4800


@pytest.mark.parametrize("rate", [48_000, 44_100, 32_000, 16_000])
def test_onsets_are_found_to_a_tenth_of_a_millisecond(rate):
    pcm = am.synthesize(T0, rate * 5, rate)
    onsets = am.beep_onsets(pcm, rate)
    assert len(onsets) == 5
    assert np.abs(_err_ms(onsets, T0, rate)).max() < 0.1


def test_onsets_under_noise_and_at_a_low_recording_level():
    rng = np.random.default_rng(0)
    pcm = 0.1 * am.synthesize(T0, 48_000 * 5) + rng.normal(0, 0.005, 48_000 * 5).astype(np.float32)
    onsets = am.beep_onsets(pcm)
    assert len(onsets) == 5 and np.abs(_err_ms(onsets, T0, 48_000)).max() < 0.5
    assert [am.read_code(pcm, o) for o in onsets] == [(int(T0 // 1000) + 1 + i) % 65536 for i in range(5)]


@pytest.mark.parametrize("rate", [48_000, 44_100, 16_000])
def test_each_beep_names_its_second(rate):
    pcm = am.synthesize(T0, rate * 4, rate)
    onsets = am.beep_onsets(pcm, rate)
    seconds = [am.nearest_second(am.read_code(pcm, o, rate), T0 + o * 1000 / rate) for o in onsets]
    assert seconds == [int(T0 // 1000) + 1 + i for i in range(4)]
    assert am.read_code(pcm[: int(onsets[-1]) + rate // 10], onsets[-1], rate) is None  # cut off by the end


def test_second_numbers_wrap_and_a_damaged_number_is_refused():
    assert am.nearest_second(5, 65_541_000.0 + 400.0) == 65_541  # 65541 mod 65536 == 5
    assert am.nearest_second(65_535, 65_536_300.0) == 65_535  # just before the wrap
    assert am.crc4(0) == 0 and am.code_word(70_000) >> am.CHECK_BITS == 70_000 % 65_536
    second = 1_780_000_007
    pcm = am.synthesize(second * 1000.0 - 500.0, 48_000)
    (onset,) = am.beep_onsets(pcm)
    assert am.read_code(pcm, onset) == second % 65_536
    bit = int(onset + (am.CODE_START_MS + 5 * am.CODE_BIT_MS) * 48)  # overwrite bit 5 with the other tone
    n = np.arange(int(am.CODE_BIT_MS * 48))
    hz = am.CODE_HZ[1 - ((am.code_word(second) >> (am.CODE_BITS + am.CHECK_BITS - 1 - 5)) & 1)]
    pcm[bit : bit + n.size] = am.CODE_LEVEL * np.sin(2 * np.pi * hz * n / 48_000)
    assert am.read_code(pcm, onset) is None  # the CRC catches it
    assert am.read_code(np.zeros(48_000, np.float32), 100.0) is None


def test_no_beeps_in_silence_a_tone_or_a_beep_cut_by_the_start():
    assert am.beep_onsets(np.zeros(48_000, np.float32)).size == 0
    assert am.beep_onsets(np.zeros(0, np.float32)).size == 0
    n = np.arange(48_000 * 2)
    assert am.beep_onsets((0.5 * np.sin(2 * np.pi * 1000 * n / 48_000)).astype(np.float32)).size == 0  # a long 1 kHz tone
    cut = am.synthesize(1_780_000_000_010, 48_000 // 2)  # starts 10 ms into a beep
    assert am.beep_onsets(cut).size == 0


def test_first_sound_after_silence():
    silence = np.zeros(48_000 * 3 + 123, np.float32)
    assert am.first_sound(np.concatenate([silence, am.synthesize(T0, 4800)])) == silence.size
    assert am.first_sound(silence) is None
    hiss = np.random.default_rng(1).normal(0, 1e-4, 48_000).astype(np.float32)  # -80 dBFS: a muted microphone
    assert am.first_sound(hiss) is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        am.synthesize(T0, -1)
    with pytest.raises(ValueError, match="too low"):
        am.synthesize(T0, 10, 4000)
    with pytest.raises(ValueError, match="before"):
        am.synthesize_range(T0, T0 - 1)
