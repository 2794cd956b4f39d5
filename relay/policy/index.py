"""A prefilter over the rules, so a message is tested only against rules that could match it.

Every condition that can says which *keys* a message must have for it to hold: ``sender_domain:
clinic.example`` needs the key ``("sender_domain", "clinic.example")``, ``recipient_domain:
"*.partner.example"`` needs ``("recipient_domain*", "partner.example")``, ``header: {name: X}``
needs ``("header", "x")``, ``stream: bulk`` needs ``("stream", Stream.BULK)``. A rule's *guard* is
the key set of one of its top-level conditions (any one key suffices): if the message has none of
those keys the condition cannot hold, so neither can the rule. Rules without a guard are always
tested. The guard is only a necessary condition; the rule's full test still decides, so the
index changes how many rules are tested, never the result (tests compare both ways).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from relay.policy.patterns import Part, is_glob
from relay.policy.view import MessageView, RecipientView

Key = tuple[str, object]

SPECIFIC = 0
"""Rank of a guard on a value (an address, a domain, a header, a subject tag): few messages have it."""
COARSE = 1
"""Rank of a guard on a flag (stream, authenticated, has attachments, PHI type): many have it."""


@dataclass(frozen=True, slots=True)
class Guard:
    keys: frozenset[Key]
    rank: int


def text_guard(kind: str, parts: Sequence[Part], *, address: bool) -> Guard | None:
    """Keys for an address or domain pattern list; None if one pattern cannot be indexed.

    ``kind`` is ``sender``, ``sender_domain``, ``recipient`` or ``recipient_domain``.
    """
    keys: set[Key] = set()
    for part in parts:
        text = part.text.lower()
        if part.kind == "exact":
            key: Key | None = (kind, text)
        elif part.kind != "glob":
            return None
        elif address:
            key = _address_key(kind, text)
        else:
            key = (f"{kind}*", text[2:]) if text.startswith("*.") and _literal(text[2:]) else None
        if key is None:
            return None
        keys.add(key)
    return Guard(frozenset(keys), SPECIFIC)


def _address_key(kind: str, text: str) -> Key | None:
    """For a glob ``local@domain``: the literal local part, else the (suffix of the) domain.

    ``name@*`` needs the text before the first ``@`` to be ``name``; ``*@d`` needs the text after
    the last ``@`` to be ``d``; ``*@*.d`` needs it to end in ``.d``.
    """
    local, at, domain = text.rpartition("@")
    if not at:
        return None
    if _literal(local):
        return (f"{kind}_local", local)
    if _literal(domain):
        return (f"{kind}_domain", domain)
    if domain.startswith("*.") and _literal(domain[2:]):
        return (f"{kind}_domain*", domain[2:])
    return None


def subject_guard(parts: Sequence[Part]) -> Guard | None:
    """``contains`` and ``*text*`` need the text in the subject; an exact subject needs itself."""
    keys: set[Key] = set()
    for part in parts:
        text = part.text.lower()
        if part.kind == "contains":
            keys.add(("subject", text))
        elif part.kind == "glob" and len(text) > 2 and text[0] == text[-1] == "*" and _literal(text[1:-1]):
            keys.add(("subject", text[1:-1]))
        elif part.kind == "exact":
            keys.add(("subject=", text))
        else:
            return None
    return Guard(frozenset(keys), SPECIFIC)


def flag_guard(kind: str, value: object) -> Guard:
    return Guard(frozenset({(kind, value)}), COARSE)


def best_of(guards: Iterable[Guard | None]) -> Guard | None:
    """For all-of: any one member's guard will do; take the most specific (first on a tie)."""
    found = [g for g in guards if g is not None]
    return min(found, key=lambda g: g.rank) if found else None


def union_of(guards: Sequence[Guard | None]) -> Guard | None:
    """For any-of: the union, but only if every member has a guard."""
    if not guards or any(g is None for g in guards):
        return None
    keys = frozenset().union(*(g.keys for g in guards if g is not None))
    return Guard(keys, max(g.rank for g in guards if g is not None))


def _literal(text: str) -> bool:
    return bool(text) and not is_glob(text) and "@" not in text


def _suffixes(kind: str, domain: str) -> list[Key]:
    """``(kind*, s)`` for every s that follows a dot in ``domain`` (what ``*.s`` matches)."""
    keys: list[Key] = []
    dot = domain.find(".")
    while dot >= 0:
        keys.append((kind, domain[dot + 1 :]))
        dot = domain.find(".", dot + 1)
    return keys


class RuleIndex:
    """Rule positions by guard key, and the positions that have no guard."""

    __slots__ = ("_by_key", "_subject_texts", "_unguarded", "_uses")

    def __init__(self, guards: Sequence[Guard | None]) -> None:
        by_key: dict[Key, list[int]] = {}
        unguarded = []
        for index, guard in enumerate(guards):
            if guard is None:
                unguarded.append(index)
                continue
            for key in guard.keys:
                by_key.setdefault(key, []).append(index)
        self._by_key = {key: tuple(positions) for key, positions in by_key.items()}
        self._unguarded = frozenset(unguarded)
        self._uses = frozenset(kind for kind, _ in by_key)
        self._subject_texts = tuple(sorted(str(v) for kind, v in by_key if kind == "subject"))

    def for_message(self, m: MessageView) -> set[int]:
        """Positions of the rules that may match this message, before looking at recipients."""
        found = set(self._unguarded)
        by_key = self._by_key
        for key in self._message_keys(m):
            positions = by_key.get(key)
            if positions:
                found.update(positions)
        return found

    def for_recipient(self, r: RecipientView, found: set[int]) -> list[int]:
        """``found`` plus the rules guarded by this recipient's keys, in policy order."""
        by_key = self._by_key
        extra = [
            by_key.get(("recipient", r.address)),
            by_key.get(("recipient_domain", r.domain)),
            by_key.get(("recipient_local", r.local)),
        ]
        if "recipient_domain*" in self._uses:
            extra += [by_key.get(key) for key in _suffixes("recipient_domain*", r.domain)]
        if "recipient_internal" in self._uses:
            extra.append(by_key.get(("recipient_internal", r.internal)))
        hits = [positions for positions in extra if positions]
        if not hits:
            return sorted(found)  # the same for every such recipient, but one sort is cheap
        return sorted(found.union(*hits))

    def _message_keys(self, m: MessageView) -> list[Key]:
        uses = self._uses
        keys: list[Key] = [
            ("sender", m.sender),
            ("sender_domain", m.sender_domain),
            ("sender_local", m.sender.partition("@")[0]),
        ]
        if "sender_domain*" in uses:
            keys += _suffixes("sender_domain*", m.sender_domain)
        keys += [("header", name) for name in m.headers]
        if self._subject_texts:
            subject = m.subject
            keys += [("subject", text) for text in self._subject_texts if text in subject]
        if "subject=" in uses:
            keys.append(("subject=", m.subject))
        if "stream" in uses:
            keys.append(("stream", m.stream_name))
        if "authenticated" in uses:
            keys.append(("authenticated", m.auth_user is not None))
        if "sender_internal" in uses:
            keys.append(("sender_internal", m.sender_internal))
        if m.attachments:
            keys.append(("attachment", True))
            if "extension" in uses:
                keys += [("extension", a.extension) for a in m.attachments]
        if "phi_type" in uses:
            keys += [("phi_type", name) for name, (count, _) in m.phi_types.items() if count > 0]
        if "contains_phi" in uses:
            keys.append(("contains_phi", m.phi.contains_phi))
        if "unscannable" in uses:
            keys.append(("unscannable", m.phi.unscannable))
        return keys
