"""In-process fan-out of plan events to open streams.

An event is a signal `(kind, id)` that carries ids, never plan text: each
listening page re-fetches what changed through the ordinary, authorized GET.
So the broker never holds words, and a fan-out bug cannot leak them.

This broker serves one process: its streams, their counts and who is here live
in memory. Several processes on one PostgreSQL database use its subclass in
backend.live.postgres, which passes signals on through LISTEN/NOTIFY and keeps
the streams in the database.
"""

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

QUEUE_SIZE = 100  # signals waiting for one stream at most


@dataclass(frozen=True)
class Event:
    kind: str  # entry, section, plan, presence, debrief, note
    id: str = ""  # the entry id, section key, plan id, account id...: never words


def _nobody() -> None:
    """Nobody to wake yet: the stream that reads the listener sets its own."""


@dataclass(eq=False, slots=True)
class Listener:
    """One open stream as the broker sees it: whose it is, and the signals that
    came for it and were not yet sent. Touched only on its own event loop (the
    broker hands everything over with `call_soon_threadsafe`)."""

    account_id: uuid.UUID
    loop: asyncio.AbstractEventLoop
    session_hash: str = ""
    address: str = ""
    events: list[Event] = field(default_factory=list)
    ended: bool = False
    wake: Callable[[], None] = _nobody

    def offer(self, event: Event) -> None:
        # a frozen client loses events; it catches up by re-fetching when it returns
        if len(self.events) < QUEUE_SIZE:
            self.events.append(event)
            self.wake()

    def end(self) -> None:
        """Close the stream: its right to listen is gone (or the server is
        stopping). What was still waiting is not sent."""
        self.ended = True
        self.wake()


@dataclass(frozen=True)
class StreamBudget:
    total: int
    per_account: int
    per_address: int


class StreamsFull(Exception):
    """No room for another stream; `reason` is account, address or total."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Broker:
    def __init__(self) -> None:
        self._listeners: dict[uuid.UUID, set[Listener]] = {}
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether signals from every process reach this one's streams now."""
        return True

    async def start(self) -> None:
        """Begin hearing other processes (nothing to do for one process)."""

    async def stop(self) -> None:
        """Stop hearing other processes."""

    async def open(
        self,
        plan_id: uuid.UUID,
        account_id: uuid.UUID,
        session_hash: str = "",
        *,
        address: str = "",
        budget: "StreamBudget | None" = None,
    ) -> Listener:
        """A stream opens: counted against `budget` (StreamsFull), then listening."""
        return self.subscribe(
            plan_id, account_id, session_hash, address=address, budget=budget
        )

    async def close(self, plan_id: uuid.UUID, listener: Listener) -> None:
        """A stream ends: no longer counted, no longer listening."""
        self.unsubscribe(plan_id, listener)

    def subscribe(
        self,
        plan_id: uuid.UUID,
        account_id: uuid.UUID,
        session_hash: str = "",
        *,
        address: str = "",
        budget: "StreamBudget | None" = None,
    ) -> Listener:
        """Called from the stream's own event loop. Over `budget`, StreamsFull."""
        listener = Listener(
            account_id, asyncio.get_running_loop(), session_hash, address
        )
        with self._lock:
            if budget is not None:
                self._check(budget, account_id, address)
            self._listeners.setdefault(plan_id, set()).add(listener)
        return listener

    def _check(
        self, budget: "StreamBudget", account_id: uuid.UUID, address: str
    ) -> None:
        every = [item for items in self._listeners.values() for item in items]
        if sum(1 for item in every if item.account_id == account_id) >= (
            budget.per_account
        ):
            raise StreamsFull("account")
        if address and sum(1 for item in every if item.address == address) >= (
            budget.per_address
        ):
            raise StreamsFull("address")
        if len(every) >= budget.total:
            raise StreamsFull("total")

    def count(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._listeners.values())

    def unsubscribe(self, plan_id: uuid.UUID, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(plan_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[plan_id]

    def present(self, plan_id: uuid.UUID) -> set[uuid.UUID]:
        """Who has the plan open right now."""
        with self._lock:
            return {item.account_id for item in self._listeners.get(plan_id, ())}

    def end_session(self, session_hash: str) -> None:
        """Close every stream opened with this sign-in (at sign-out)."""
        if session_hash:
            self._end(lambda _plan, item: item.session_hash == session_hash)

    def end_account(self, account_id: uuid.UUID) -> None:
        """Close every stream of this person (signed out everywhere)."""
        self._end(lambda _plan, item: item.account_id == account_id)

    def end_member(self, plan_id: uuid.UUID, account_id: uuid.UUID) -> None:
        """Close this person's streams of one plan (they left it)."""
        self._end(lambda plan, item: plan == plan_id and item.account_id == account_id)

    def _end(self, which: Callable[[uuid.UUID, Listener], bool]) -> None:
        with self._lock:
            chosen = [
                item
                for plan, listeners in self._listeners.items()
                for item in listeners
                if which(plan, item)
            ]
        for listener in chosen:
            if not listener.loop.is_closed():
                listener.loop.call_soon_threadsafe(listener.end)

    def publish(self, plan_id: uuid.UUID, kind: str, *, id: str = "") -> None:
        """Signal every open stream of the plan; safe to call from any thread."""
        self.deliver(plan_id, kind, id)

    def deliver(self, plan_id: uuid.UUID, kind: str, id: str = "") -> None:
        """Signal this process's open streams of the plan."""
        event = Event(kind, id)
        with self._lock:
            listeners = list(self._listeners.get(plan_id, ()))
        for listener in listeners:
            if not listener.loop.is_closed():
                listener.loop.call_soon_threadsafe(listener.offer, event)

    def publish_signal(self, plan_id: uuid.UUID, kind: str, ident: str) -> None:
        """The after-commit hook's way in (see backend.db.record_signal)."""
        self.publish(plan_id, kind, id=ident)
