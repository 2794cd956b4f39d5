"""Markers that give a configuration field its parsing rule (see relay/config/schema.py).

Kept out of the relay.config package so that packages defining their own sections (relay/audit/settings.py)
can use them without importing the whole schema.
"""

DURATION = "duration"
"""``Annotated[float, DURATION]``: seconds, or ``"90s"``, ``"5m"``, ``"1h"``, ``"5d"``."""
SIZE = "size"
"""``Annotated[int, SIZE]``: bytes, or ``"512K"``, ``"25M"``, ``"1G"``."""
