"""The baseline: a stock Postfix, configured only as far as needed to relay to the sink.

A private instance (``postfix -c DIR``) with its own configuration, queue, data directory and
log file under the benchmark's temporary directory. It listens on a loopback port that is not
25 and shares nothing with a system Postfix (the master's lock and pid live in its own data and
queue directories), so one may run on the same machine undisturbed. Everything that affects
throughput is left at Postfix's defaults, fsync of queue files included: the point is to compare
with what an administrator gets out of the box. Only limits the benchmark's own concurrency
could hit are raised to at least that concurrency.
"""

from __future__ import annotations

import asyncio
import os
import pty
import pwd
from pathlib import Path

from .procs import LOOPBACK, BenchError, spawn, stop_process, wait_for_greeting

CONTROL_TIMEOUT_SECONDS = 60.0
"""``postfix start`` / ``stop`` run checks and wait for the master; far longer than they need."""
START_TIMEOUT_SECONDS = 30.0
QUEUE_SUBDIRS = ("maildrop", "incoming", "active", "deferred", "hold")
"""Where a message that is not yet delivered can be (Postfix's QSHAPE_README)."""

# chroot is off ("n" in the fifth column): a chroot would need copies of /etc files in the
# queue directory, and Debian's copying script only serves the system instance.
_MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - local
virtual    unix  - n n -  - virtual
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


class PostfixBaseline:
    """A private Postfix instance under ``root`` that relays everything to ``sink_port``."""

    name = "postfix"

    def __init__(self, root: Path, *, port: int, sink_port: int, concurrency: int) -> None:
        self.port = port
        self._sink_port = sink_port
        self._concurrency = concurrency
        self._config_dir = root / "etc"
        self._queue_dir = root / "queue"
        self._data_dir = root / "data"
        self._pid_file = self._queue_dir / "pid" / "master.pid"
        self.log_path = root / "maillog"
        self._started = False

    def _main_cf(self) -> str:
        connections = max(50, self._concurrency)  # Postfix's default limit is 50 per client
        processes = max(100, 2 * self._concurrency)  # default_process_limit is 100
        return f"""\
compatibility_level = 3.6
queue_directory = {self._queue_dir}
data_directory = {self._data_dir}
maillog_file = {self.log_path}
maillog_file_prefixes = {self.log_path.parent}
syslog_name = postfix-bench
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = {LOOPBACK}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [{LOOPBACK}]:{self._sink_port}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_client_connection_count_limit = {connections}
default_process_limit = {processes}
"""

    def _write_config(self) -> None:
        for directory in (self._config_dir, self._queue_dir):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)  # the queue directory must be root-owned and not group-writable
        (self._config_dir / "main.cf").write_text(self._main_cf())
        (self._config_dir / "master.cf").write_text(_MASTER_CF.format(listen=f"{LOOPBACK}:{self.port}"))

    async def _postfix(self, *command: str) -> None:
        """Run ``postfix -c DIR COMMAND``; its errors go to stderr only if that is a terminal."""
        primary, secondary = pty.openpty()
        try:
            proc = await spawn(
                "postfix", "-c", str(self._config_dir), *command,
                stdin=asyncio.subprocess.DEVNULL, stdout=secondary, stderr=secondary,
            )
        finally:
            os.close(secondary)
        try:
            async with asyncio.timeout(CONTROL_TIMEOUT_SECONDS):
                code = await proc.wait()
        except (TimeoutError, asyncio.CancelledError) as exc:
            await stop_process(proc, grace=0.0)
            os.close(primary)
            if isinstance(exc, TimeoutError):
                limit = CONTROL_TIMEOUT_SECONDS
                raise BenchError(f"postfix {' '.join(command)} took over {limit:g}s") from None
            raise
        output = _read_available(primary)
        if code != 0:
            raise BenchError(f"postfix -c {self._config_dir} {' '.join(command)} exited {code}: {output}")

    async def start(self) -> None:
        if os.geteuid() != 0:
            raise BenchError("the Postfix baseline must run as root (postfix start needs it)")
        try:
            pwd.getpwnam("postfix")
        except KeyError:
            raise BenchError("no 'postfix' user: install the postfix package (make debs-bench)") from None
        self._write_config()
        # Let the instance's own directories (data_directory, queue subdirectories) be created
        # with the owners and modes Postfix wants, as a package install would.
        await self._postfix("check")
        self._started = True  # from here on stop() must look for a master, even if start fails
        await self._postfix("start")
        await wait_for_greeting(self.port, timeout=START_TIMEOUT_SECONDS,
                                alive=lambda: _running(self._pid_file))

    async def stop(self) -> None:
        """``postfix stop`` (``abort`` if that fails), then wait for the master to be gone."""
        if not self._started:
            return
        self._started = False
        if not _running(self._pid_file):
            return
        try:
            await self._postfix("stop")
        except BenchError:
            await self._postfix("abort")  # a master that will not stop: kill it, no drain
        deadline = asyncio.get_running_loop().time() + CONTROL_TIMEOUT_SECONDS
        while _running(self._pid_file):
            if asyncio.get_running_loop().time() > deadline:
                raise BenchError(f"the Postfix master of {self._config_dir} did not exit")
            await asyncio.sleep(0.1)

    @property
    def pid(self) -> int:
        """The master's pid: every Postfix daemon is its child, for CPU accounting."""
        pid = _read_pid(self._pid_file)
        if pid is None:
            raise BenchError("the Postfix master is not running (no pid file)")
        return pid

    def queue_size(self) -> int:
        """Messages still in the queue (files below the queue subdirectories)."""
        return sum(
            len(files)
            for sub in QUEUE_SUBDIRS
            for _, _, files in os.walk(self._queue_dir / sub)
        )


def _read_available(fd: int) -> str:
    """What a finished command wrote to its terminal (a few lines), then close it."""
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:  # EAGAIN: nothing more; EIO: the other side is closed
        pass
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace").strip()


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _running(pid_file: Path) -> bool:
    """Whether the process named in a Postfix pid file still exists."""
    pid = _read_pid(pid_file)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
