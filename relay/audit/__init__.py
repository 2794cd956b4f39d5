"""The tamper-evident audit log: who did what to which message, provably unedited.

One node writes one hash chain of JSON lines, shared by its worker processes, sealed now and
then with an Ed25519 signature, rotated by size and day and pruned after the retention period.
``relay audit verify`` proves it whole or names the first bad record; ``relay audit search``
answers questions about an address, a message or a time span. docs/audit.md is the manual.

    events    AuditKind, AuditEvent: what callers hand over (never message content)
    privacy   redact(): addresses and subjects kept, keyed-hashed or dropped
    record    the line format, hashes and seal signatures (pure)
    files     names, listing, tail reading, audit.head
    chain     the tip of the chain on disk, crash repair
    writer    AuditLog: append, seal, rotate, prune (flock across processes)
    verify    ChainVerifier (pure) and verify()
    search    search(): streaming, file skipping by time, byte prefilter
    keys      key generation and loading
    settings  AuditConfig
"""

from relay.audit.events import AuditEvent, AuditKind
from relay.audit.keys import generate_hash_key, generate_key, load_public_keys
from relay.audit.privacy import AuditPrivacy, redact
from relay.audit.search import search
from relay.audit.settings import AddressMode, AuditConfig, FsyncPolicy, SubjectMode
from relay.audit.verify import Fault, Problem, VerifyResult, verify
from relay.audit.writer import AuditLog
from relay.errors import AuditError

__all__ = [
    "AddressMode",
    "AuditConfig",
    "AuditError",
    "AuditEvent",
    "AuditKind",
    "AuditLog",
    "AuditPrivacy",
    "Fault",
    "FsyncPolicy",
    "Problem",
    "SubjectMode",
    "VerifyResult",
    "generate_hash_key",
    "generate_key",
    "load_public_keys",
    "redact",
    "search",
    "verify",
]
