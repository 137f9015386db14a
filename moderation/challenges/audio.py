"""The audio code: the characters read out by one of several voices, over babble of the same voices.

Why not the ``captcha`` library's audio as it is: it has one clip per character, so a matched filter built
from the library's own files found 198 of 200 codes (issue #17).  Here

* each character has several clips (``voices/``: espeak-ng voices, pitches and speeds, made by
  ``bench/_make_voices.py`` and shipped), one picked per character and per render;
* each clip is stretched (and so re-pitched) by a random factor, its loudness varied;
* the bed under it is **babble**: two or three streams of other characters, in the same voices, at a third of
  the loudness, with white noise.  A person hears the loud voice; a template matcher finds every
  character of the alphabet in the babble too.

Same WAV shape as the library (8 kHz, 8-bit unsigned, mono, three beeps first) and the same helpers for
the beeps and the header.  The mixing is numpy, not the library's per-sample Python loops (~20x faster).
"""

from __future__ import annotations

import secrets
import wave
from pathlib import Path

import numpy as np
from captcha.audio import BEEP, END_BEEP, SILENCE, WAVE_SAMPLE_RATE, patch_wave_header

VOICE_DIR = Path(__file__).parent / "voices"

SPEED = (0.85, 1.2)           # clip length factor (resampling: shorter is also higher)
GAIN = (0.75, 1.0)            # the code's voices
GAP_S = (0.55, 1.3)           # pause between characters
BABBLE_STREAMS = (2, 3)
BABBLE_GAIN = (0.22, 0.36)    # each babble stream, relative to full scale
BABBLE_SPEED = (0.8, 1.3)
NOISE = 0.02                  # white noise, relative to full scale


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 1 or w.getnchannels() != 1 or w.getframerate() != WAVE_SAMPLE_RATE:
            raise ValueError(f"{path}: voice clips must be 8 kHz 8-bit mono (bench/_make_voices.py)")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.uint8)
    return (data.astype(np.float32) - 128.0) / 128.0


class VoiceAudio:
    """Loaded clips per character; ``wav(code)`` renders one (thread-safe: no shared mutable state)."""

    def __init__(self, voice_dir: Path | str = VOICE_DIR) -> None:
        self.voice_dir = Path(voice_dir)
        self.clips: dict[str, list[np.ndarray]] = {}

    def load(self) -> None:
        clips: dict[str, list[np.ndarray]] = {}
        for folder in sorted(p for p in self.voice_dir.iterdir() if p.is_dir() and len(p.name) == 1):
            found = [_read(f) for f in sorted(folder.glob("*.wav"))]
            if found:
                clips[folder.name] = found
        self.clips = clips

    @property
    def choices(self) -> list[str]:
        return list(self.clips)

    def wav(self, code: str) -> bytes:
        rng = np.random.default_rng(secrets.randbits(128))
        voices = [self._twist(rng, self.clips[c], SPEED, GAIN) for c in code]
        gaps = [int(rng.uniform(*GAP_S) * WAVE_SAMPLE_RATE) for _ in range(len(code) + 1)]
        length = sum(len(v) for v in voices) + sum(gaps)
        out = self._babble(rng, length)
        pos = gaps[0]
        for voice, gap in zip(voices, gaps[1:], strict=True):
            out[pos:pos + len(voice)] += voice
            pos += len(voice) + gap
        body = np.clip(out * 127.0 + 128.0, 0, 255).astype(np.uint8).tobytes()
        return bytes(patch_wave_header(bytearray(BEEP + SILENCE + BEEP + SILENCE + BEEP + body + END_BEEP)))

    @staticmethod
    def _twist(rng: np.random.Generator, clips: list[np.ndarray], speed: tuple[float, float],
               gain: tuple[float, float]) -> np.ndarray:
        clip = clips[int(rng.integers(len(clips)))]
        factor = rng.uniform(*speed)
        n = max(2, int(len(clip) * factor))
        stretched = np.interp(np.linspace(0, len(clip) - 1, n), np.arange(len(clip)), clip)
        peak = float(np.max(np.abs(stretched))) or 1.0
        return (stretched / peak * rng.uniform(*gain)).astype(np.float32)

    def _babble(self, rng: np.random.Generator, length: int) -> np.ndarray:
        out = rng.uniform(-NOISE, NOISE, length).astype(np.float32)
        pool = list(self.clips.values())
        for _ in range(int(rng.integers(BABBLE_STREAMS[0], BABBLE_STREAMS[1] + 1))):
            pos = int(rng.integers(0, WAVE_SAMPLE_RATE // 2))
            while pos < length:
                clip = self._twist(rng, pool[int(rng.integers(len(pool)))], BABBLE_SPEED, BABBLE_GAIN)
                end = min(length, pos + len(clip))
                out[pos:end] += clip[:end - pos]
                pos = end + int(rng.integers(0, WAVE_SAMPLE_RATE // 8))
        return out
