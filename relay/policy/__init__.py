"""The policy engine: YAML rules in, a decision per recipient out (see docs/policy.md).

``load_policy`` validates and compiles a directory of policy files; ``evaluate`` is the pure,
fast decision for one message; ``explain`` the same decision with its reasons;
``relay.disposition`` turns a decision into the copies to spool; ``PolicyStore`` holds the
active policy across reloads.

    loader -> rules (conditions, actions, index) -> engine -> decision
                                                      \\-> explain -> render
"""

from relay.model import TlsCondition
from relay.policy.decision import (
    Action,
    DecisionGroup,
    MonitorHit,
    PolicyDecision,
    RecipientDecision,
    Stream,
    TlsBranch,
)
from relay.policy.engine import evaluate
from relay.policy.explain import Trace, explain
from relay.policy.loader import load_policy
from relay.policy.phi import DEFAULT_ENTITIES
from relay.policy.rules import Policy
from relay.policy.store import PolicyStore, ReloadResult, ReloadStatus

__all__ = [
    "DEFAULT_ENTITIES",
    "Action",
    "DecisionGroup",
    "MonitorHit",
    "Policy",
    "PolicyDecision",
    "PolicyStore",
    "RecipientDecision",
    "ReloadResult",
    "ReloadStatus",
    "Stream",
    "TlsBranch",
    "TlsCondition",
    "Trace",
    "evaluate",
    "explain",
    "load_policy",
]
