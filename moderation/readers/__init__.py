"""The readers' side: reactions with exact counts, reports, the public comment API and the demo article page."""
