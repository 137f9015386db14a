"""Rendering a code as a PNG (``captcha.image``) or a WAV (``captcha.audio``): CPU work, run off the event loop.

Both are pure functions of the code plus fresh randomness: a re-render shows the same code with new noise.
The settings here were tuned with ``bench/captcha_ocr.py`` (tesseract must fail, a person must not).
"""

from __future__ import annotations

import array
import asyncio
import collections
import logging
import os
import secrets
import struct
import sys
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from captcha.image import ImageCaptcha, random_color
from PIL import Image, ImageDraw, ImageFilter

from moderation.challenges.audio import VOICE_DIR, VoiceAudio

log = logging.getLogger(__name__)

# The faces the picture uses, shipped in the package (fonts/: DejaVu Sans Bold, Sans Condensed Bold, Serif
# Bold; licence in fonts/LICENSE): every install and container renders with the same faces (a host's fonts no
# longer decide it).  Several faces make one OCR model fit worse.  The captcha library's DroidSansMono is no
# longer one of them (2026-12-03): a regular weight, its thin strokes were about as heavy as the decoys'
# outlines, so "type the solid dark characters" was hardest to follow on exactly those.
BUNDLED_FONTS = tuple(str(p) for p in sorted((Path(__file__).parent / "fonts").glob("*.ttf")))

# Only for measuring text (the parent measures on the picture's own RGB canvas: same mode, same boxes).
_MEASURE = ImageDraw.Draw(Image.new("RGB", (1, 1)))

IMAGE_WIDTH = 220
IMAGE_HEIGHT = 80
FONT_SIZES = (44, 48, 52)


class _BufferedEntropy(threading.local):
    """``secrets``-grade randomness (``os.urandom``) read 2,048 words at a time.

    The renderer makes ~200 draws per image (offsets, angles, warps, noise); one getrandom() syscall per draw
    through ``secrets`` was ~7 % of a render.  Same source, same uniformity (rejection sampling); one buffer
    per thread, so renderer threads never share a position."""

    def __init__(self) -> None:
        self._words = array.array("I")
        self._next = 0

    def randbits(self, k: int) -> int:
        if k != 32:
            return secrets.randbits(k)
        i = self._next
        if i >= len(self._words):
            self._words = array.array("I", os.urandom(2048 * 4))
            i = 0
        self._next = i + 1
        return self._words[i]

    def randbelow(self, n: int) -> int:
        limit = (1 << 32) - (1 << 32) % n
        while True:
            v = self.randbits(32)
            if v < limit:
                return v % n


assert array.array("I").itemsize == 4
_rng = _BufferedEntropy()


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

    decoys = (3, 4)                   # hollow pale smaller characters mixed into the row (not part of the code)
    decoy_sizes = (36, 40)            # the code's are 44-52 (was 34-38)
    decoy_fade = 0.3                  # this share of the way from the code's colour to the background's
    decoy_stroke = 3                  # outline width (was 2)
    # Measured (bench/captcha_attack.py --phases ocr and 1,000-image sweeps, 2026-12-03): the 3 px outline is
    # what makes the OCR models read the decoys as characters (captcha-whisperer per image: stroke 2 ~11 %,
    # stroke 3 1-2 %, 36-40 pt 0.4 %); solid pale decoys were ignored by them (whisperer 30 % per image),
    # more decoys (4-5) only squeezed the row and helped them, clutter lines and baseline jitter did nothing.

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decoy_fonts: list[Any] = []
        # (font, char) -> (textbbox width, height, ink left, ink top) ; (font, char, clip x, clip y) -> coverage
        self._metrics: dict[tuple[int, str], tuple[int, int, int, int]] = {}
        self._glyphs: dict[tuple[int, str, int, int], tuple[Image.Image, Image.Image]] = {}

    def _measure(self, font_index: int, c: str) -> tuple[int, int, int, int]:
        hit = self._metrics.get((font_index, c))
        if hit is None:
            font = self.truefonts[font_index]
            _, _, w, h = _MEASURE.multiline_textbbox((1, 1), c, font=font)
            pad = 64
            probe = Image.new("L", (int(w) + 2 * pad, int(h) + 2 * pad))
            ImageDraw.Draw(probe).text((pad, pad), c, font=font, fill=255)
            left, top = (probe.getbbox() or (pad, pad))[:2]
            hit = self._metrics[(font_index, c)] = (int(w), int(h), left - pad, top - pad)
        return hit

    def _glyph(self, font_index: int, c: str, color: tuple[int, ...], dx1: int,
               dy1: int) -> tuple[int, int, Image.Image]:
        """The parent's first step, memoised: the character drawn in ``color`` on a transparent RGBA canvas of
        its text box plus (dx1, dy1), at offset (dx1, dy1), cropped to its ink.

        Pillow draws text on RGBA as alpha = the glyph's coverage and RGB = ``color`` where alpha > 0, 0
        elsewhere; so the coverage (drawn once per font and character) plus the colour rebuild it exactly.
        Drawing at integer offsets only translates the ink; what differs between offsets is only how much of
        a glyph with a negative bearing (J, W, Y) the canvas's left/top edge cuts off, which is in the key.
        tests/test_challenges.py checks the whole glyph step pixel-identical to the library's own."""
        w, h, left, top = self._measure(font_index, c)
        key = (font_index, c, max(0, -(dx1 + left)), max(0, -(dy1 + top)))
        hit = self._glyphs.get(key)
        if hit is None:
            cover = Image.new("L", (w + dx1, h + dy1))
            ImageDraw.Draw(cover).text((dx1, dy1), c, font=self.truefonts[font_index], fill=255)
            cover = cover.crop(cover.getbbox())
            hit = self._glyphs[key] = (cover, cover.point(lambda v: 255 if v else 0))
        cover, ink = hit
        im = Image.new("RGBA", cover.size, (0, 0, 0, 0))
        im.paste((*color[:3], 0), mask=ink)
        im.putalpha(cover)
        return w, h, im

    def _draw_character(self, c: str, draw: ImageDraw.ImageDraw | None, color: tuple[int, ...]) -> Image.Image:
        """``ImageCaptcha._draw_character`` (captcha 0.7.1) step for step, with the rasterised glyph cached."""
        font_index = _rng.randbelow(len(self.truefonts))
        dx_lo, dx_hi = self.character_offset_dx
        dy_lo, dy_hi = self.character_offset_dy
        dx1 = _rng.randbelow(dx_hi - dx_lo + 1) + dx_lo
        dy1 = _rng.randbelow(dy_hi - dy_lo + 1) + dy_lo
        w, h, im = self._glyph(font_index, c, color, dx1, dy1)
        lo, hi = self.character_rotate
        im = im.rotate(lo + (_rng.randbits(32) / 2**32) * (hi - lo), Image.Resampling.BILINEAR, expand=True)
        wx_lo, wx_hi = self.character_warp_dx
        wy_lo, wy_hi = self.character_warp_dy
        dx2 = w * (_rng.randbits(32) / 2**32) * (wx_hi - wx_lo) + wx_lo
        dy2 = h * (_rng.randbits(32) / 2**32) * (wy_hi - wy_lo) + wy_lo
        x1 = int(_rng.randbits(32) / 2**32 * (dx2 - (-dx2)) + (-dx2))
        y1 = int(_rng.randbits(32) / 2**32 * (dy2 - (-dy2)) + (-dy2))
        x2 = int(_rng.randbits(32) / 2**32 * (dx2 - (-dx2)) + (-dx2))
        y2 = int(_rng.randbits(32) / 2**32 * (dy2 - (-dy2)) + (-dy2))
        w2 = w + abs(x1) + abs(x2)
        h2 = h + abs(y1) + abs(y2)
        data = (x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1)
        im = im.resize((w2, h2))
        return im.transform((w, h), Image.Transform.QUAD, data)

    def create_captcha_image(self, chars: str, color: tuple[int, ...], background: tuple[int, ...]) -> Image.Image:
        """The parent's layout, with two fixes: the glyph's alpha is the paste mask (the parent uses its
        luminance, which makes dark text translucent), and there are no word spaces (spaces let OCR segment)."""
        image = Image.new("RGB", (self._width, self._height), background)
        draw = ImageDraw.Draw(image)
        glyphs = [self._draw_character(c, draw, color) for c in chars]
        for _ in range(self.decoys[0] + _rng.randbelow(self.decoys[1] - self.decoys[0] + 1)):
            glyphs.insert(_rng.randbelow(len(glyphs) + 1), self._decoy(color, background))
        mean = sum(g.size[0] for g in glyphs) / len(glyphs)
        lo, hi = self.overlap
        steps = [int(mean * (lo + (hi - lo) * _rng.randbelow(1001) / 1000)) for _ in glyphs]
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

    def _decoy(self, color: tuple[int, ...], background: tuple[int, ...]) -> Image.Image:
        """A character that is not part of the code: smaller, hollow (outline only) and paler than the code's.

        Off-the-shelf OCR models read every character they see, so they answer with the decoys in the code;
        a person is told to type only the large solid dark characters (three cues at once: size, fill and
        contrast, none of them colour)."""
        from PIL import ImageFont

        if not self._decoy_fonts:
            self._decoy_fonts = [ImageFont.truetype(f, size) for f in self._fonts for size in self.decoy_sizes]
        font = self._decoy_fonts[_rng.randbelow(len(self._decoy_fonts))]
        from moderation.challenges.codes import ALPHABET

        char = ALPHABET[_rng.randbelow(len(ALPHABET))]
        pale = tuple(int(c + (b - c) * self.decoy_fade) for c, b in zip(color[:3], background[:3], strict=True))
        box = _MEASURE.textbbox((0, 0), char, font=font, stroke_width=self.decoy_stroke)
        im = Image.new("RGBA", (box[2] + 6, box[3] + 6), (0, 0, 0, 0))
        ImageDraw.Draw(im).text((3, 3), char, font=font, fill=(0, 0, 0, 0), stroke_width=self.decoy_stroke,
                                stroke_fill=(*pale, 255))
        lo, hi = self.character_rotate
        return im.rotate(lo + (_rng.randbits(32) / 2**32) * (hi - lo), Image.Resampling.BILINEAR, expand=True)

    @staticmethod
    def create_noise_dots(image: Image.Image, color: tuple[int, ...], width: int = 3,  # type: ignore[override]
                          number: int = 30) -> Image.Image:
        """``ImageCaptcha.create_noise_dots`` (captcha 0.7.1), drawing from the buffered entropy."""
        draw = ImageDraw.Draw(image)
        w, h = image.size
        for _ in range(number):
            x1 = _rng.randbelow(w + 1)
            y1 = _rng.randbelow(h + 1)
            draw.line(((x1, y1), (x1 - 1, y1 - 1)), fill=color, width=width)
        return image

    def _strike(self, im: Image.Image, color: tuple[int, ...], width: int) -> None:
        """A wavy line across the whole picture, through the band where the glyphs are."""
        import math

        w, h = im.size
        centre = h * (0.35 + 0.3 * _rng.randbelow(1001) / 1000)
        amp = h * (0.08 + 0.12 * _rng.randbelow(1001) / 1000)
        period = w * (0.6 + 0.8 * _rng.randbelow(1001) / 1000)
        phase = 2 * math.pi * _rng.randbelow(1000) / 1000
        x0, x1 = _rng.randbelow(w // 6 + 1), w - _rng.randbelow(w // 6 + 1)
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
    length = period[0] + _rng.randbelow(period[1] - period[0] + 1)
    phase = _rng.randbelow(1000) / 1000 * 2 * math.pi
    strip = 10
    mesh = []
    for x in range(0, w, strip):
        dy = amplitude * math.sin(2 * math.pi * x / length + phase)
        dy2 = amplitude * math.sin(2 * math.pi * (x + strip) / length + phase)
        x2 = min(x + strip, w)
        mesh.append(((x, 0, x2, h), (x, dy, x, h + dy, x2, h + dy2, x2, dy2)))
    return im.transform((w, h), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR, fillcolor=fill)


def available_fonts() -> list[str]:
    return list(BUNDLED_FONTS)


@dataclass
class Renderer:
    """Holds the loaded fonts and voice samples; safe to share between executor threads."""

    fonts: list[str] = field(default_factory=available_fonts)
    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    font_sizes: tuple[int, ...] = FONT_SIZES
    voice_dir: str = str(VOICE_DIR)

    def __post_init__(self) -> None:
        self._image = HardImageCaptcha(self.width, self.height, fonts=self.fonts, font_sizes=self.font_sizes)
        self._audio = VoiceAudio(self.voice_dir)
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read fonts and voice samples now (file I/O, so call it in the executor), not on the first request.

        Loaded under a lock, once, before any render."""
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
        return self._audio.wav(code)


def _png(im: Image.Image) -> bytes:
    """The picture as a PNG: RGB, 8 bits, no row filter, zlib level 1.

    Pillow's encoder tries every PNG row filter per row ("adaptive"), which on these noisy pictures costs
    more than it saves: measured on 100 renders, Pillow at level 1 took 0.73 ms for 14.3 kB, this 0.33 ms for
    13.4 kB (the library's default, level 6, 2.9 ms).  Lossless either way: tests decode it to the same pixels."""
    if im.mode != "RGB":
        im = im.convert("RGB")
    width, height = im.size
    raw = im.tobytes()
    stride = width * 3
    rows = b"".join(b"\x00" + raw[i:i + stride] for i in range(0, len(raw), stride))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    return b"".join((_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(rows, 1)),
                     _chunk(b"IEND", b"")))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# ── worker processes ──────────────────────────────────────────────────────────────────────────────
# Rendering is CPU work with long stretches of pure Python (the audio code entirely, the image code between
# PIL calls).  In a thread it holds the GIL for up to the 5 ms switch interval at a time, and the event loop
# waits for it on every socket call: measured, /healthz p99 went to tens of ms at full render load.  Worker
# processes compete with the loop only for CPU.  MODERATION_CHALLENGE_RENDER_PROCESSES=0 renders in the shared
# thread executor instead (less memory, worse tail latency).
#
# The workers are plain child processes (``python -m moderation.challenges._render_worker``) spoken to over
# their stdin/stdout pipes by the event loop itself: a request is one line ``image CODE``/``audio CODE``, an
# answer is a 5-byte header (status, length) and the bytes.  A ``ProcessPoolExecutor`` did the same through a
# manager thread in the service process that pickles, polls and wakes the loop through its self-pipe for every
# result: measured with py-spy, that thread cost a third as much CPU as the event loop's own work and took the
# GIL from it.  Requests are pipelined (each worker answers in order); the least-busy worker gets the next one.
#
# Workers run at a lower CPU priority (``MODERATION_CHALLENGE_RENDER_NICENESS``, default 19): when the cores
# are busy, the event loop and Postgres get the CPU first and the renders take what is left.  With equal
# priority the OS shares the CPU fairly between the loop and the renderers, and /healthz p99 was 17-34 ms at
# full render load.  On a dedicated host this costs no throughput (the renderers still get every idle cycle);
# on a host shared with other busy programs the renderers yield to those too (see docs/challenges.md).
DEFAULT_NICENESS = 19
STOP_TIMEOUT_S = 5.0
_HEADER = struct.Struct(">BI")   # status (0 = ok, 1 = error: the bytes are its message), length


def serve(stdin: BinaryIO, stdout: BinaryIO, niceness: int = DEFAULT_NICENESS) -> None:
    """The worker's side: render each requested code until stdin closes (the service stopped or died)."""
    if niceness:
        try:
            os.nice(niceness)
        except OSError:  # pragma: no cover - not allowed here (some sandboxes): render at normal priority
            log.warning("could not lower the captcha renderer's CPU priority")
    renderer = Renderer()
    renderer.load()
    for line in stdin:
        kind, _, code = line.decode("ascii").strip().partition(" ")
        try:
            body, status = (renderer.image_png(code) if kind == "image" else renderer.audio_wav(code)), 0
        except Exception as exc:  # report it, keep serving; the service answers this request with a 500
            log.exception("rendering failed")
            body, status = f"{exc.__class__.__name__}: {exc}".encode(), 1
        stdout.write(_HEADER.pack(status, len(body)))
        stdout.write(body)
        stdout.flush()


class RenderError(RuntimeError):
    """A worker raised while rendering (its message is the worker's exception)."""


class WorkerDied(RuntimeError):
    """A worker process exited (killed, e.g. by the OOM killer) with this request unanswered."""


_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pending: collections.deque[asyncio.Future[bytes]] = collections.deque()
        self.dead = False
        self.reader = asyncio.create_task(self._read(), name=f"captcha-renderer-{proc.pid}")

    @classmethod
    async def start(cls, niceness: int) -> _Worker:
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": _PACKAGE_ROOT + (os.pathsep + path if path else "")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "moderation.challenges._render_worker", str(niceness),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                status, length = _HEADER.unpack(await self.proc.stdout.readexactly(_HEADER.size))
                body = await self.proc.stdout.readexactly(length)
                future = self.pending.popleft()
                if future.done():       # its request was cancelled (client went away)
                    continue
                if status:
                    future.set_exception(RenderError(body.decode(errors="replace")))
                else:
                    future.set_result(body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.dead = True
            while self.pending:
                future = self.pending.popleft()
                if not future.done():
                    future.set_exception(WorkerDied(f"captcha renderer {self.proc.pid} exited"))

    async def render(self, kind: str, code: str) -> bytes:
        if self.dead:
            raise WorkerDied(f"captcha renderer {self.proc.pid} exited")
        assert self.proc.stdin is not None
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        self.proc.stdin.write(f"{kind} {code}\n".encode("ascii"))
        return await future

    async def stop(self) -> None:
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()     # the worker's loop ends at EOF
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        await self.reader


class RenderPool:
    """The renderer processes: started on the first render (so an app that never renders spawns none), each
    replaced when it dies (a request it held is retried on a live or fresh worker), stopped at shutdown."""

    def __init__(self, workers: int, niceness: int = DEFAULT_NICENESS) -> None:
        self.workers = workers
        self.niceness = niceness
        self._procs: list[_Worker] = []
        self._lock = asyncio.Lock()

    async def _pick(self) -> _Worker:
        if len(self._procs) < self.workers or any(w.dead for w in self._procs):
            async with self._lock:
                live = [w for w in self._procs if not w.dead]
                if len(live) < len(self._procs):
                    log.warning("a captcha renderer process died; starting a new one")
                while len(live) < self.workers:
                    live.append(await _Worker.start(self.niceness))
                self._procs = live
        return min(self._procs, key=lambda w: len(w.pending))

    async def render(self, kind: str, code: str) -> bytes:
        # Each WorkerDied marks one worker dead, and _pick replaces dead ones: after at most one failure
        # per worker (all killed at once, their deaths noticed one by one) a fresh worker renders it.
        for _ in range(self.workers):
            try:
                return await (await self._pick()).render(kind, code)
            except WorkerDied:
                continue
        return await (await self._pick()).render(kind, code)

    @property
    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._procs]

    async def aclose(self) -> None:
        procs, self._procs = self._procs, []
        await asyncio.gather(*(w.stop() for w in procs), return_exceptions=True)
