"""A sample WAV file: a 90-second arpeggio melody that climbs an octave every 30 seconds.

RIFF/WAVE with 16-bit PCM, written by the standard library's :mod:`wave`.  Browsers
play it natively and, when the server honours byte ranges, seek in it; because the
melody rises section by section, a seek is audible.
"""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from functools import cache

SAMPLE_RATE = 44_100
"""Frames per second (one 16-bit mono sample per frame)."""

DURATION_SECONDS = 90
"""Length of the melody, in seconds."""

SECTION_SECONDS = 30
"""The melody moves up an octave at each multiple of this many seconds."""

_NOTE_FRAMES = SAMPLE_RATE // 4  # four notes per second
_NOTES_PER_BAR = 8
_ARPEGGIO = (0, 4, 7, 12, 16, 12, 7, 4)  # semitones above the bar's root: a major chord
_PROGRESSION = (0, 9, 5, 7)  # bar roots in semitones above C: C, A, F, G
_C3_HZ = 130.8128
_TABLE_BITS = 12
_PEAK = 12_000  # of 32,767: loud enough to hear, far from clipping
_ATTACK_FRAMES = SAMPLE_RATE // 200  # 5 ms
_RELEASE_FRAMES = SAMPLE_RATE // 20  # 50 ms; both ramps avoid clicks between notes
_UNITY = 1 << 10


def build_melody_wav(seconds: int = DURATION_SECONDS) -> bytes:
    """Return a mono, 16-bit little-endian PCM WAV file of ``seconds`` seconds at 44.1 kHz.

    The file is ``44 + 88,200 * seconds`` bytes (a 44-byte RIFF header, then the frames).

    Raises:
        ValueError: ``seconds`` is less than 1.
    """
    if seconds < 1:
        raise ValueError("the melody must last at least one second")
    note_count = seconds * SAMPLE_RATE // _NOTE_FRAMES
    frames = b"".join(_note(_semitone(index)) for index in range(note_count))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(frames)
    return buffer.getvalue()


def _semitone(note_index: int) -> int:
    """Semitones above C3 of the ``note_index``-th note."""
    bar, position = divmod(note_index, _NOTES_PER_BAR)
    seconds = note_index * _NOTE_FRAMES // SAMPLE_RATE
    octave = 12 * (seconds // SECTION_SECONDS)
    return octave + _PROGRESSION[bar % len(_PROGRESSION)] + _ARPEGGIO[position]


@cache
def _note(semitone: int) -> bytes:
    """One enveloped sine note as little-endian 16-bit PCM, from a phase accumulator.

    A 32-bit phase indexes a sine table, so each sample costs a shift and a lookup;
    notes repeat, so each pitch is rendered once.
    """
    hertz = _C3_HZ * 2 ** (semitone / 12)
    increment = round(hertz * 2**32 / SAMPLE_RATE)
    table = _sine_table()
    shift = 32 - _TABLE_BITS
    samples = array("h")
    phase = 0
    for frame in range(_NOTE_FRAMES):
        gain = min(
            frame * _UNITY // _ATTACK_FRAMES,
            _UNITY,
            (_NOTE_FRAMES - frame) * _UNITY // _RELEASE_FRAMES,
        )
        samples.append(table[phase >> shift] * gain // _UNITY)
        phase = (phase + increment) & 0xFFFFFFFF
    if sys.byteorder == "big":
        samples.byteswap()  # WAV PCM samples are little-endian
    return samples.tobytes()


@cache
def _sine_table() -> tuple[int, ...]:
    size = 1 << _TABLE_BITS
    return tuple(round(_PEAK * math.sin(2 * math.pi * index / size)) for index in range(size))
