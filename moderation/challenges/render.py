"""Rendering a code as a PNG (``captcha.image``) or a WAV (``captcha.audio``): CPU work, run in the executor.

Both are pure functions of the code plus fresh randomness: a re-render shows the same code with new noise.
The settings here were tuned with ``bench/captcha_ocr.py`` (tesseract must fail, a person must not).
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from captcha.audio import DATA_DIR as VOICE_DIR
from captcha.audio import WAVE_SAMPLE_RATE, AudioCaptcha, mix_wave
from captcha.image import DEFAULT_FONTS, ImageCaptcha, random_color
from PIL import Image, ImageDraw, ImageFilter

# Extra faces when the host has them (Debian's fonts-dejavu / fonts-liberation); the bundled DroidSansMono
# alone works too.  Several faces per image make one OCR model fit worse.
OPTIONAL_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)

IMAGE_WIDTH = 220
IMAGE_HEIGHT = 80
FONT_SIZES = (52, 58, 64)


class HardImageCaptcha(ImageCaptcha):
    """``ImageCaptcha`` with what makes OCR fail and people succeed: touching, rotated glyphs of several faces,
    strike-through curves in the text colour, and a sine warp of the whole picture."""

    character_rotate = (-35, 35)
    word_space_probability = 0.85     # the parent inserts a space when random > this: rarely
    word_offset_dx = 0.30             # glyphs overlap by up to 30 % of their width
    curves = 2
    curve_width = 3
    dots = 60
    wave_amplitude = 5.0              # pixels
    wave_period = (60, 110)           # pixels

    def generate_image(self, chars: str, bg_color: tuple[int, ...] | None = None,
                       fg_color: tuple[int, ...] | None = None) -> Image.Image:
        background = bg_color or random_color(225, 255)
        color = fg_color or random_color(10, 110, 255)
        im = self.create_captcha_image(chars, color, background)
        self.create_noise_dots(im, color, width=2, number=self.dots)
        draw = ImageDraw.Draw(im)
        w, h = im.size
        for _ in range(self.curves):
            # a long, shallow arc through the middle band, where the glyphs are
            x1 = -secrets.randbelow(w // 2) - w // 4
            y1 = h // 4 + secrets.randbelow(h // 2)
            box = [x1, y1 - h, x1 + 2 * w + secrets.randbelow(w), y1 + h // 3 + secrets.randbelow(h)]
            draw.arc(box, 0, 360, fill=color, width=self.curve_width)
        im = _wave(im, self.wave_amplitude, self.wave_period, background)
        return im.filter(ImageFilter.SMOOTH)


def _wave(im: Image.Image, amplitude: float, period: tuple[int, int], fill: tuple[int, ...]) -> Image.Image:
    """Shift each column up/down along a sine: straight baselines are what OCR line-finding relies on."""
    import math

    w, h = im.size
    length = period[0] + secrets.randbelow(period[1] - period[0] + 1)
    phase = secrets.randbelow(1000) / 1000 * 2 * math.pi
    strip = 4
    mesh = []
    for x in range(0, w, strip):
        dy = amplitude * math.sin(2 * math.pi * x / length + phase)
        dy2 = amplitude * math.sin(2 * math.pi * (x + strip) / length + phase)
        x2 = min(x + strip, w)
        mesh.append(((x, 0, x2, h), (x, dy, x, h + dy, x2, h + dy2, x2, dy2)))
    return im.transform((w, h), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR, fillcolor=fill)


_NOISE_LEVEL = 4
_NOISE_TABLE = bytes(b % _NOISE_LEVEL + 128 - _NOISE_LEVEL // 2 for b in range(256))


class FastAudioCaptcha(AudioCaptcha):
    """``AudioCaptcha`` whose white-noise bed is made in C (``bytes.translate``) instead of one
    ``secrets.randbelow`` call per sample: same distribution, ~4x faster, and it holds the GIL far less
    (the library's audio code is pure Python, so an executor thread running it competes with the loop)."""

    def create_background_noise(self, length: int, chars: str) -> bytearray:
        noise = bytearray(secrets.token_bytes(length).translate(_NOISE_TABLE))
        pos = 0
        while pos < length:
            sound = self._noise_pick()
            end = pos + len(sound) + 1
            noise[pos:end] = mix_wave(sound, noise[pos:end])
            pos = end + secrets.randbelow(int(WAVE_SAMPLE_RATE / 10) + 1)
        return noise


def available_fonts() -> list[str]:
    return list(DEFAULT_FONTS) + [f for f in OPTIONAL_FONTS if os.path.exists(f)]


@dataclass
class Renderer:
    """Holds the loaded fonts and voice samples; safe to share between executor threads."""

    fonts: list[str] = field(default_factory=available_fonts)
    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    font_sizes: tuple[int, ...] = FONT_SIZES
    voice_dir: str = VOICE_DIR

    def __post_init__(self) -> None:
        self._image = HardImageCaptcha(self.width, self.height, fonts=self.fonts, font_sizes=self.font_sizes)
        self._audio = FastAudioCaptcha(self.voice_dir)
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read fonts and voice samples now (file I/O, so call it in the executor), not on the first request.

        AudioCaptcha's lazy loading is not thread-safe (two threads may both fill its list of choices)."""
        with self._lock:
            _ = self._image.truefonts
            self._audio.load()
            missing = [c for c in self.voice_chars_needed() if c not in self._audio.choices]
            if missing:
                raise RuntimeError(f"captcha voice files missing for {''.join(missing)} in {self.voice_dir}")

    @staticmethod
    def voice_chars_needed() -> str:
        from moderation.challenges.codes import ALPHABET

        return ALPHABET

    def image_png(self, code: str) -> bytes:
        return self._image.generate(code, format="png").getvalue()

    def audio_wav(self, code: str) -> bytes:
        return bytes(self._audio.generate(code))


def voice_dir_ok(path: str = VOICE_DIR) -> bool:
    return (Path(path) / "A").is_dir()
