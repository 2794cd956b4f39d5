"""PHI detection: Presidio with spaCy NER and a healthcare recognizer pack, offline.

``PhiScanner`` scans text segments in this process; ``PhiPool`` runs scanners in a process
pool off the event loop. See docs/phi.md for what counts as PHI and why.
"""
