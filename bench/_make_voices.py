"""Generate the audio code's voice clips with espeak-ng (+ sox) into moderation/challenges/voices/.

    python bench/_make_voices.py            # needs espeak-ng and sox (Debian packages of those names)

One directory per character of the code alphabet, one 8 kHz 8-bit mono WAV per voice setting: several
espeak-ng voices (US, British, Scottish, Caribbean, RP; male and female variants) at different pitches and
speeds.  The captcha library's own clips are one voice per character, so a matched filter built from the
library solves its audio (issue #17: 198 of 200); here each character has VOICES clips, the renderer picks one
per character, stretches it, and buries it in babble made of the same voices, so one template no longer fits.
The clips are generated once and shipped (espeak-ng is not a runtime dependency); re-running this
regenerates the same settings.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.challenges.codes import ALPHABET  # noqa: E402

OUT = ROOT / "moderation" / "challenges" / "voices"

# (name, espeak-ng voice, pitch 0-99, words per minute)
VOICES = (
    ("us-m", "en-us", 45, 140),
    ("us-f", "en-us+f3", 70, 135),
    ("gb-m", "en-gb", 35, 130),
    ("gb-f", "en-gb+f4", 75, 140),
    ("rp-m", "en-gb-x-rp", 55, 125),
    ("scot", "en-gb-scotland+m3", 40, 135),
    ("carib-f", "en-029+f2", 65, 130),
    ("us-klatt", "en-us+klatt2", 50, 145),
)


def render(char: str, voice: str, pitch: int, speed: int, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), char],
                       check=True)
        # 8 kHz, mono, unsigned 8-bit (what the captcha library mixes), silence trimmed both ends, normalised
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "8", "-e", "unsigned-integer", str(target),
                        "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse",
                        "norm", "-1"], check=True)


def main() -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install {tool}")
    if OUT.exists():
        shutil.rmtree(OUT)
    for char in ALPHABET:
        folder = OUT / char
        folder.mkdir(parents=True)
        for name, voice, pitch, speed in VOICES:
            render(char, voice, pitch, speed, folder / f"{name}.wav")
    size = sum(p.stat().st_size for p in OUT.rglob("*.wav"))
    print(f"{len(ALPHABET)} characters x {len(VOICES)} voices -> {OUT} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
