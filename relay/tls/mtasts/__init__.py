"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the HTTPS policy, its cache, the resolver.

``MtaStsResolver.policy_for(domain)`` is the entry point; the rest are its parts, each with one
job: ``record`` and ``policy`` parse (pure), ``fetch`` gets the policy body over HTTPS,
``cache`` keeps policies across restarts.
"""

from relay.tls.mtasts.policy import PolicyMode, StsPolicy
from relay.tls.mtasts.resolver import MtaStsResolver, MtaStsResult, StsStatus

__all__ = ["MtaStsResolver", "MtaStsResult", "PolicyMode", "StsPolicy", "StsStatus"]
