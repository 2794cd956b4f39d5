"""The spool database and the group committer (relay.spool), on a real SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from relay.clock import FakeClock
from relay.errors import SpoolError
from relay.model import Envelope, Plan, QueueState, RecipientState, RecipientStatus, SpooledMessage
from relay.spool import AttemptUpdate, GroupCommitter, NewMessage, Spool
from relay.spool.intake import SpoolIntake

T0 = 1_700_000_000.0


def new_message(
    queue_id: str, *, recipients: tuple[str, ...] = ("b@example.test",), **extra: object
) -> NewMessage:
    envelope = Envelope(sender="a@example.org", recipients=recipients, client_ip="127.0.0.1", helo="client")
    return NewMessage(
        queue_id=queue_id,
        envelope=envelope,
        plan=Plan.opportunistic(envelope),
        data=f"Subject: {queue_id}\r\n\r\nbody of {queue_id}\r\n".encode(),
        **extra,  # type: ignore[arg-type]
    )


def deferred_update(queue_id: str, *, due: float, attempts: int = 1) -> AttemptUpdate:
    return AttemptUpdate(
        queue_id=queue_id,
        recipients=(
            RecipientStatus(address="b@example.test", last_reply="451 4.3.0 later", remote_host="mx"),
        ),
        state=QueueState.DEFERRED,
        next_attempt_at=due,
        attempts=attempts,
        last_error="451 4.3.0 later",
    )


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    store = Spool(tmp_path / "spool")
    yield store
    store.close()


def insert(spool: Spool, *messages: NewMessage, now: float = T0) -> None:
    with spool.transaction() as db:
        for message in messages:
            Spool.insert(db, message, now)


def claim(spool: Spool, owner: str, *, now: float = T0, limit: int = 100) -> list[str]:
    with spool.transaction() as db:
        claimed = Spool.claim_due(db, owner=owner, now=now, lease_until=now + 3600, limit=limit)
    return [message.queue_id for message, _ in claimed]


# -- Spool ------------------------------------------------------------------------------------


def test_insert_round_trips_envelope_plan_and_bytes(spool: Spool) -> None:
    message = new_message("Q1", recipients=("b@example.test", "c@other.test"))
    insert(spool, message)
    stored = spool.get("Q1")
    assert stored is not None
    assert stored.envelope == message.envelope
    assert stored.plan == message.plan
    assert stored.state is QueueState.ACTIVE
    assert stored.size == len(message.data)
    assert stored.created_at == stored.next_attempt_at == T0
    assert stored.pending == ("b@example.test", "c@other.test")
    assert stored == message.as_spooled(T0)
    assert spool.data("Q1") == message.data
    assert spool.get("nope") is None
    assert spool.data("nope") is None


def test_duplicate_queue_id_is_refused_and_the_transaction_rolls_back(spool: Spool) -> None:
    insert(spool, new_message("Q1"))
    with pytest.raises(sqlite3.IntegrityError), spool.transaction() as db:
        Spool.insert(db, new_message("Q2"), T0)
        Spool.insert(db, new_message("Q1"), T0)
    assert [m.queue_id for m in spool.messages()] == ["Q1"]


def test_claim_leases_due_messages_once(spool: Spool) -> None:
    insert(spool, new_message("LATE"), now=T0 + 5)
    insert(spool, new_message("EARLY"), now=T0 - 5)
    insert(spool, new_message("FUTURE"), now=T0 + 60)
    assert claim(spool, "w1", now=T0 + 10) == ["EARLY", "LATE"]
    assert claim(spool, "w2", now=T0 + 10) == [], "a leased message must not be claimed twice"
    # A lease that ran out (its worker died) is claimable again by anyone.
    assert claim(spool, "w2", now=T0 + 5000) == ["EARLY", "LATE", "FUTURE"]


def test_claim_respects_the_limit(spool: Spool) -> None:
    insert(spool, *(new_message(f"Q{i}") for i in range(5)))
    first = claim(spool, "w1", limit=2)
    rest = claim(spool, "w1", limit=10)
    assert len(first) == 2
    assert sorted(first + rest) == [f"Q{i}" for i in range(5)]


def test_a_message_inserted_leased_is_not_claimable_until_released(spool: Spool) -> None:
    insert(spool, new_message("Q1", lease_owner="intake", lease_until=T0 + 3600))
    assert claim(spool, "other") == []
    with spool.transaction() as db:
        Spool.release_lease(db, "Q1")
    assert claim(spool, "other") == ["Q1"]


@pytest.mark.parametrize("state", [QueueState.HELD, QueueState.QUARANTINED], ids=lambda s: s.value)
def test_admin_states_are_never_claimed(spool: Spool, state: QueueState) -> None:
    insert(spool, new_message("Q1", state=state))
    assert claim(spool, "w1", now=T0 + 10**6) == []
    assert spool.next_due() is None


def test_record_attempt_defers_and_releases_the_lease(spool: Spool) -> None:
    insert(spool, new_message("Q1"))
    assert claim(spool, "w1") == ["Q1"]
    with spool.transaction() as db:
        Spool.record_attempt(db, deferred_update("Q1", due=T0 + 60))
    stored = spool.get("Q1")
    assert stored is not None
    assert stored.state is QueueState.DEFERRED
    assert stored.attempts == 1
    assert stored.last_error == "451 4.3.0 later"
    assert stored.next_attempt_at == T0 + 60
    assert stored.recipients[0].last_reply == "451 4.3.0 later"
    assert stored.recipients[0].state is RecipientState.PENDING
    assert claim(spool, "w2", now=T0 + 59) == []
    assert claim(spool, "w2", now=T0 + 60) == ["Q1"], "the lease was released with the attempt"


@pytest.mark.parametrize("state", [QueueState.HELD, QueueState.QUARANTINED], ids=lambda s: s.value)
def test_a_message_held_in_flight_stays_held_after_its_attempt(spool: Spool, state: QueueState) -> None:
    insert(spool, new_message("Q1"))
    assert claim(spool, "w1") == ["Q1"]
    with spool.transaction() as db:  # the admin acts while the delivery runs
        assert Spool.set_state(db, "Q1", state, next_attempt_at=None)
    with spool.transaction() as db:
        Spool.record_attempt(db, deferred_update("Q1", due=T0 + 1))
    stored = spool.get("Q1")
    assert stored is not None
    assert stored.state is state
    assert stored.attempts == 1
    assert claim(spool, "w2", now=T0 + 10**6) == []


def test_record_attempt_does_not_resurrect_a_deleted_message(spool: Spool) -> None:
    insert(spool, new_message("Q1"))
    assert claim(spool, "w1") == ["Q1"]
    with spool.transaction() as db:
        assert Spool.remove(db, "Q1")
    with spool.transaction() as db:
        Spool.record_attempt(db, deferred_update("Q1", due=T0 + 1))
    assert spool.get("Q1") is None
    assert spool.messages() == []


def test_remove_reports_whether_anything_was_removed(spool: Spool) -> None:
    insert(spool, new_message("Q1"))
    with spool.transaction() as db:
        assert Spool.remove(db, "Q1") is True
        assert Spool.remove(db, "Q1") is False
    assert spool.data("Q1") is None


def test_flush_makes_deferred_and_active_due_now_and_leaves_held_alone(spool: Spool) -> None:
    insert(spool, new_message("DEFERRED"), new_message("ACTIVE"), new_message("HELD", state=QueueState.HELD))
    with spool.transaction() as db:
        Spool.record_attempt(db, deferred_update("DEFERRED", due=T0 + 3600))
        Spool.set_state(db, "ACTIVE", QueueState.ACTIVE, next_attempt_at=T0 + 7200)
    assert claim(spool, "w1", now=T0 + 10) == []
    with spool.transaction() as db:
        assert Spool.flush_deferred(db, T0 + 10) == 2
    states = {m.queue_id: (m.state, m.next_attempt_at) for m in spool.messages()}
    assert states == {
        "DEFERRED": (QueueState.ACTIVE, T0 + 10),
        "ACTIVE": (QueueState.ACTIVE, T0 + 10),
        "HELD": (QueueState.HELD, T0),
    }
    assert sorted(claim(spool, "w1", now=T0 + 10)) == ["ACTIVE", "DEFERRED"]


def test_set_state(spool: Spool) -> None:
    insert(spool, new_message("Q1"))
    with spool.transaction() as db:
        assert Spool.set_state(db, "Q1", QueueState.HELD, next_attempt_at=None)
        assert not Spool.set_state(db, "missing", QueueState.HELD, next_attempt_at=None)
    stored = spool.get("Q1")
    assert stored is not None and stored.state is QueueState.HELD and stored.next_attempt_at == T0
    with spool.transaction() as db:
        assert Spool.set_state(db, "Q1", QueueState.ACTIVE, next_attempt_at=T0 + 99)
    stored = spool.get("Q1")
    assert stored is not None and stored.state is QueueState.ACTIVE and stored.next_attempt_at == T0 + 99
    assert spool.counts() == {
        QueueState.ACTIVE: 1, QueueState.DEFERRED: 0, QueueState.HELD: 0, QueueState.QUARANTINED: 0
    }
    assert [m.queue_id for m in spool.messages(QueueState.ACTIVE)] == ["Q1"]
    assert spool.messages(QueueState.HELD) == []
    assert spool.next_due() == T0 + 99


def test_release_all_leases_counts_and_frees_every_lease(spool: Spool) -> None:
    insert(spool, *(new_message(f"Q{i}") for i in range(3)))
    insert(spool, new_message("MINE", lease_owner="dead-worker", lease_until=T0 + 3600))
    assert len(claim(spool, "w1", limit=2)) == 2
    with spool.transaction() as db:
        assert Spool.release_all_leases(db) == 3
        assert Spool.release_all_leases(db) == 0
    assert len(claim(spool, "w2")) == 4


def test_data_survives_reopening(tmp_path: Path) -> None:
    first = Spool(tmp_path / "spool")
    insert(first, new_message("Q1"), new_message("Q2", state=QueueState.HELD))
    with first.transaction() as db:
        Spool.record_attempt(db, deferred_update("Q1", due=T0 + 60, attempts=3))
    first.close()
    again = Spool(tmp_path / "spool")
    try:
        stored = {m.queue_id: m for m in again.messages()}
        assert set(stored) == {"Q1", "Q2"}
        assert stored["Q1"].state is QueueState.DEFERRED and stored["Q1"].attempts == 3
        assert stored["Q2"].state is QueueState.HELD
        assert again.data("Q1") == new_message("Q1").data
    finally:
        again.close()


def test_an_unreadable_spool_is_a_spool_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(SpoolError, match="cannot open spool"):
        Spool(tmp_path / "file")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "queue.db").write_bytes(b"this is not an SQLite database at all" * 100)
    with pytest.raises(SpoolError, match="cannot open spool"):
        Spool(tmp_path / "bad")


# -- GroupCommitter ---------------------------------------------------------------------------


@pytest.fixture
def committer(spool: Spool) -> Iterator[GroupCommitter]:
    group = GroupCommitter(spool)
    group.start()
    yield group
    group.stop()


async def test_concurrent_writes_share_commits(spool: Spool, committer: GroupCommitter) -> None:
    messages = [new_message(f"Q{i:03d}") for i in range(200)]

    def inserter(message: NewMessage) -> Callable[[sqlite3.Connection], None]:
        return lambda db: Spool.insert(db, message, T0)

    await asyncio.gather(*(committer.run(inserter(m)) for m in messages))
    assert len(spool.messages()) == 200
    assert committer.operations == 200
    print(f"\n200 concurrent writes took {committer.commits} commit(s)")
    assert committer.commits <= 20, f"{committer.commits} commits for 200 writes: not batching"


async def test_returns_the_operation_result_once_committed(spool: Spool, committer: GroupCommitter) -> None:
    await committer.run(lambda db: Spool.insert(db, new_message("Q1"), T0))
    claimed = await committer.run(
        lambda db: Spool.claim_due(db, owner="w", now=T0, lease_until=T0 + 1, limit=5)
    )
    assert [(m.queue_id, data) for m, data in claimed] == [("Q1", new_message("Q1").data)]


def _blocker(started: threading.Event, release: threading.Event) -> Callable[[sqlite3.Connection], None]:
    def operation(db: sqlite3.Connection) -> None:
        started.set()
        assert release.wait(10)

    return operation


async def _wait_until(event: threading.Event) -> None:
    async with asyncio.timeout(10):
        while not event.is_set():
            await asyncio.sleep(0.001)


async def test_a_failing_operation_fails_alone(
    tmp_path: Path, spool: Spool, committer: GroupCommitter
) -> None:
    insert(spool, new_message("TAKEN"))
    started, release = threading.Event(), threading.Event()
    # Occupy the commit thread so that everything below queues up into one batch.
    blocked = asyncio.ensure_future(committer.run(_blocker(started, release)))
    await _wait_until(started)

    def half_done_then_fail(db: sqlite3.Connection) -> None:
        Spool.insert(db, new_message("PARTIAL"), T0)
        raise ValueError("boom")

    def inserter(queue_id: str) -> Callable[[sqlite3.Connection], None]:
        return lambda db: Spool.insert(db, new_message(queue_id), T0)

    ops = [inserter(f"OK{i}") for i in range(10)]
    ops.insert(3, inserter("TAKEN"))  # duplicate key
    ops.insert(7, half_done_then_fail)
    futures = [asyncio.ensure_future(committer.run(op)) for op in ops]
    await asyncio.sleep(0.05)  # let every run() enqueue
    release.set()
    results = await asyncio.gather(*futures, return_exceptions=True)
    await blocked

    assert isinstance(results[3], sqlite3.IntegrityError)
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i not in (3, 7)] == [None] * 10
    # One commit for the blocker alone, then one for all twelve operations.
    assert (committer.commits, committer.operations) == (2, 13)
    # What the rest of the batch wrote is durable; the failed operation left nothing behind.
    reopened = Spool(tmp_path / "spool")
    try:
        assert sorted(m.queue_id for m in reopened.messages()) == sorted(
            ["TAKEN", *(f"OK{i}" for i in range(10))]
        )
    finally:
        reopened.close()


async def test_stop_commits_what_is_queued(tmp_path: Path, spool: Spool) -> None:
    committer = GroupCommitter(spool)
    committer.start()
    started, release = threading.Event(), threading.Event()
    blocked = asyncio.ensure_future(committer.run(_blocker(started, release)))
    await _wait_until(started)
    queued = [
        asyncio.ensure_future(committer.run(partial(Spool.insert, message=new_message(f"Q{i}"), now=T0)))
        for i in range(5)
    ]
    await asyncio.sleep(0.05)
    stopper = asyncio.ensure_future(asyncio.to_thread(committer.stop))
    await asyncio.sleep(0.05)
    release.set()
    await stopper
    await asyncio.gather(blocked, *queued)
    assert len(spool.messages()) == 5


async def test_run_after_stop_fails_instead_of_hanging(spool: Spool) -> None:
    committer = GroupCommitter(spool)
    committer.start()
    committer.stop()
    async with asyncio.timeout(5):
        with pytest.raises(SpoolError, match="stopped"):
            await committer.run(lambda db: Spool.insert(db, new_message("Q1"), T0))
    assert spool.messages() == []



# -- SpoolIntake ------------------------------------------------------------------------------


class Delivery:
    """A Handoff (the scheduler's side of intake) that takes messages while it has room."""

    owner = "this-process"

    def __init__(self, *, room: int, on_full: Callable[[], None] = lambda: None) -> None:
        self.room = room
        self.taken: list[tuple[SpooledMessage, bytes]] = []
        self._on_full = on_full

    @property
    def lease_until(self) -> float:
        return T0 + 3600

    def offer(self, message: SpooledMessage, data: bytes) -> bool:
        if len(self.taken) >= self.room:
            self._on_full()
            return False
        self.taken.append((message, data))
        return True


async def accept(intake: SpoolIntake, queue_id: str) -> NewMessage:
    message = new_message(queue_id)
    await intake.accept([message])
    return message


async def test_intake_hands_over_leased_or_leaves_to_the_spool(
    spool: Spool, committer: GroupCommitter
) -> None:
    delivery = Delivery(room=1)
    intake = SpoolIntake(committer, delivery, FakeClock(T0))
    taken = await accept(intake, "TAKEN")
    await accept(intake, "SPOOLED")
    assert [(m.queue_id, data) for m, data in delivery.taken] == [("TAKEN", taken.data)]
    assert delivery.taken[0][0] == spool.get("TAKEN")
    # The one handed over is leased to this process; the other is free for any process.
    assert claim(spool, "another-process") == ["SPOOLED"]


async def test_intake_stores_all_copies_in_one_transaction_and_hands_over_only_active_ones(
    spool: Spool, committer: GroupCommitter
) -> None:
    delivery = Delivery(room=5)
    intake = SpoolIntake(committer, delivery, FakeClock(T0))
    commits = committer.commits
    held = dataclasses.replace(new_message("HELD"), state=QueueState.QUARANTINED)
    await intake.accept([new_message("A"), held, new_message("B")])
    assert committer.commits == commits + 1
    assert sorted(m.queue_id for m in spool.messages()) == ["A", "B", "HELD"]
    assert [m.queue_id for m, _ in delivery.taken] == ["A", "B"]
    assert spool.get("HELD").state is QueueState.QUARANTINED


async def test_intake_answers_ok_once_durable_even_if_the_lease_cannot_be_released(
    spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    committer = GroupCommitter(spool)
    committer.start()
    # Delivery refuses, and the writer stops before the lease release can be written.
    intake = SpoolIntake(committer, Delivery(room=0, on_full=committer.stop), FakeClock(T0))
    await accept(intake, "Q1")
    assert [m.queue_id for m in spool.messages()] == ["Q1"]
    assert "event=lease_release_failed qid=Q1" in caplog.text
