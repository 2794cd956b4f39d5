"""The durable queue: accept with fsync, states, leases, recovery (see docs/DESIGN.md#spool)."""

from relay.spool.committer import GroupCommitter
from relay.spool.store import AttemptUpdate, NewMessage, Spool

__all__ = ["AttemptUpdate", "GroupCommitter", "NewMessage", "Spool"]
