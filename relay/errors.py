"""The one exception tree of the relay.

Expected outcomes (a 4xx reply, NXDOMAIN, a policy that says reject) are values, not
exceptions. What is raised here is a failure: bad input from an operator, a broken disk, a
programming error surfacing at a boundary. Library exceptions are translated where they enter
(``raise ConfigError(...) from exc``) so callers only ever catch these.

    RelayError
    ├── ConfigError        bad relay.yaml / policy file; carries file, line, key
    ├── UsageError         wrong CLI arguments or an unknown queue ID
    ├── SpoolError         the durable queue could not read or write
    ├── PipelineError      the before-queue pipeline failed (answered 451 4.3.0)
    └── AuditError         the audit log could not be written, or an event was malformed
"""

from __future__ import annotations


class RelayError(Exception):
    """Root of every exception the relay raises on purpose."""


class ConfigError(RelayError):
    """A configuration or policy file is invalid.

    ``str()`` gives the one line an operator sees: ``file:line: key: problem``.
    """

    def __init__(self, problem: str, *, file: str = "", line: int = 0, key: str = "") -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.key = key
        super().__init__(self.__str__())

    def __reduce__(self) -> tuple[object, ...]:
        """Rebuilt whole when it crosses from a scanner process (pickle would otherwise pass
        the whole line as ``problem`` and repeat the key)."""
        return (_config_error, (self.problem, self.file, self.line, self.key))

    def __str__(self) -> str:
        where = self.file
        if where and self.line:
            where = f"{where}:{self.line}"
        parts = [p for p in (where, self.key, self.problem) if p]
        return ": ".join(parts)


def _config_error(problem: str, file: str, line: int, key: str) -> ConfigError:
    return ConfigError(problem, file=file, line=line, key=key)


class UsageError(RelayError):
    """The command line asked for something that cannot be done."""


class SpoolError(RelayError):
    """The spool could not be read or written."""


class PipelineError(RelayError):
    """The before-queue pipeline failed; the client is told to retry (451 4.3.0)."""


class AuditError(RelayError):
    """The audit log could not be written, or an event was malformed (a programming error)."""
