"""Entry point of a captcha renderer process: ``python -m moderation.challenges._render_worker NICENESS``.

Started and spoken to by ``render.RenderPool`` (protocol in ``render.serve``).  Its stdout carries the
answers, so anything else that would print there goes to stderr.
"""

from __future__ import annotations

import logging
import os
import sys

from moderation.challenges.render import serve


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # stray prints must not corrupt the answers
    logging.basicConfig(level=logging.WARNING)
    serve(sys.stdin.buffer, answers, int(sys.argv[1]) if len(sys.argv) > 1 else 0)


if __name__ == "__main__":
    main()
