"""Rendering a code as a PNG (``captcha.image``) or a WAV (``captcha.audio``): CPU work, run off the event loop.

Both are pure functions of the code plus fresh randomness: a re-render shows the same code with new noise.
The settings here were tuned with ``bench/captcha_ocr.py`` (tesseract must fail, a person must not).
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import secrets
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from captcha.audio import DATA_DIR as VOICE_DIR
from captcha.audio import WAVE_SAMPLE_RATE, AudioCaptcha, mix_wave
from captcha.image import DEFAULT_FONTS, ImageCaptcha, random_color
from PIL import Image, ImageDraw, ImageFilter

log = logging.getLogger(__name__)

# Extra faces when the host has them (Debian's fonts-dejavu / fonts-liberation); the bundled DroidSansMono
# alone works too.  Several faces per image make one OCR model fit worse.
OPTIONAL_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)

IMAGE_WIDTH = 220
IMAGE_HEIGHT = 80
FONT_SIZES = (44, 48, 52)


class HardImageCaptcha(ImageCaptcha):
    """``ImageCaptcha`` with what makes OCR fail and people succeed: touching, rotated glyphs of several faces,
    a thick and a thin strike-through line in the text colour (the thick one survives the median filter that
    wipes thin noise), blobs, and a sine warp of the whole picture (no straight baseline for OCR line-finding).

    Measured trade-off (bench/captcha_ocr.py, 1,000 images): these settings let tesseract solve 0.5-0.8 %;
    milder ones (rotation +-22, half the glyph warp, fonts 46-54) read better for people but 2.9 %."""

    character_rotate = (-30, 30)      # with the library's per-glyph warp: measured, milder settings let OCR in
    overlap = (0.04, 0.16)            # each glyph overlaps the previous by this share of the mean width
    strike_widths = (4, 2)            # one thick strike-through line and one thin
    dots = 45
    dot_width = 4                     # blobs as big as a median-5 filter window: it cannot wipe them all
    wave_amplitude = 5.0              # pixels
    wave_period = (70, 120)           # pixels

    def create_captcha_image(self, chars: str, color: tuple[int, ...], background: tuple[int, ...]) -> Image.Image:
        """The parent's layout, with two fixes: the glyph's alpha is the paste mask (the parent uses its
        luminance, which makes dark text translucent), and there are no word spaces (spaces let OCR segment)."""
        image = Image.new("RGB", (self._width, self._height), background)
        draw = ImageDraw.Draw(image)
        glyphs = [self._draw_character(c, draw, color) for c in chars]
        mean = sum(g.size[0] for g in glyphs) / len(glyphs)
        lo, hi = self.overlap
        steps = [int(mean * (lo + (hi - lo) * secrets.randbelow(1001) / 1000)) for _ in glyphs]
        text_width = sum(g.size[0] for g in glyphs) - sum(steps[1:])
        canvas_w = max(text_width + 8, self._width)
        canvas = Image.new("RGB", (canvas_w, self._height), background)
        offset = (canvas_w - text_width) // 2
        for i, g in enumerate(glyphs):
            if i:
                offset -= steps[i]
            _w, h = g.size
            canvas.paste(g, (offset, max(0, (self._height - h) // 2)), g.getchannel("A"))
            offset += g.size[0]
        if canvas_w > self._width:
            canvas = canvas.resize((self._width, self._height), Image.Resampling.BICUBIC)
        return canvas

    def _strike(self, im: Image.Image, color: tuple[int, ...], width: int) -> None:
        """A wavy line across the whole picture, through the band where the glyphs are."""
        import math

        w, h = im.size
        centre = h * (0.35 + 0.3 * secrets.randbelow(1001) / 1000)
        amp = h * (0.08 + 0.12 * secrets.randbelow(1001) / 1000)
        period = w * (0.6 + 0.8 * secrets.randbelow(1001) / 1000)
        phase = 2 * math.pi * secrets.randbelow(1000) / 1000
        x0, x1 = secrets.randbelow(w // 6 + 1), w - secrets.randbelow(w // 6 + 1)
        points = [(x, centre + amp * math.sin(2 * math.pi * x / period + phase)) for x in range(x0, x1 + 1, 4)]
        ImageDraw.Draw(im).line(points, fill=color, width=width, joint="curve")

    def generate_image(self, chars: str, bg_color: tuple[int, ...] | None = None,
                       fg_color: tuple[int, ...] | None = None) -> Image.Image:
        background = bg_color or random_color(225, 255)
        color = fg_color or random_color(20, 120, 255)
        im = self.create_captcha_image(chars, color, background)
        self.create_noise_dots(im, color, width=self.dot_width, number=self.dots)
        for width in self.strike_widths:
            self._strike(im, color, width)
        im = _wave(im, self.wave_amplitude, self.wave_period, background)
        return im.filter(ImageFilter.SMOOTH)


def _wave(im: Image.Image, amplitude: float, period: tuple[int, int], fill: tuple[int, ...]) -> Image.Image:
    """Shift each column up/down along a sine: straight baselines are what OCR line-finding relies on."""
    import math

    w, h = im.size
    length = period[0] + secrets.randbelow(period[1] - period[0] + 1)
    phase = secrets.randbelow(1000) / 1000 * 2 * math.pi
    strip = 10
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
        return _png(self._image.generate_image(code))

    def audio_wav(self, code: str) -> bytes:
        return bytes(self._audio.generate(code))


def _png(im: Image.Image) -> bytes:
    # zlib level 1: 4x faster than the default 6 and, on these noisy pictures, as small (~15 kB)
    out = io.BytesIO()
    im.save(out, format="PNG", compress_level=1)
    return out.getvalue()


# ── worker processes ──────────────────────────────────────────────────────────────────────────────
# Rendering is CPU work with long stretches of pure Python (the audio code entirely, the image code between
# PIL calls).  In a thread it holds the GIL for up to the 5 ms switch interval at a time, and the event loop
# waits for it on every socket call: measured, /healthz p99 went to tens of ms at full render load.  Worker
# processes compete with the loop only for CPU, which the OS shares fairly.  MODERATION_CHALLENGE_RENDER_PROCESSES=0
# renders in the shared thread executor instead (less memory, worse tail latency).
_worker: Renderer | None = None


def init_worker() -> None:
    global _worker
    _worker = Renderer()
    _worker.load()


def render_in_worker(kind: str, code: str) -> bytes:
    if _worker is None:  # pragma: no cover - the pool's initializer always ran first
        init_worker()
    assert _worker is not None
    return _worker.image_png(code) if kind == "image" else _worker.audio_wav(code)


def process_pool(workers: int) -> Executor:
    """Processes start lazily (on the first render), by ``spawn``: never fork a process that has threads."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker)


class RenderPool:
    """The renderer processes, replaced once when broken (a worker killed, e.g. by the OOM killer), so one
    lost process does not turn every later render into a 500."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = process_pool(workers)

    async def render(self, kind: str, code: str) -> bytes:
        loop = asyncio.get_running_loop()
        executor = self.executor
        try:
            return await loop.run_in_executor(executor, render_in_worker, kind, code)
        except BrokenProcessPool:
            if self.executor is executor:
                log.warning("a captcha renderer process died; starting a new pool")
                self.executor = process_pool(self.workers)
                executor.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(self.executor, render_in_worker, kind, code)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
