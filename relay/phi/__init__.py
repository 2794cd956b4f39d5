"""PHI detection: Presidio with spaCy NER and a healthcare recognizer pack, offline.

``PhiScanner`` scans text segments in this process; ``PhiPool`` extracts and scans whole
messages in worker processes, off the event loop (extract-only when PHI detection is off).
See docs/phi.md for what counts as PHI and why.
"""
