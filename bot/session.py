"""One thread's conversation: a team's run, kept in storage, posted through the outbox.

After every step the session stores the step's new messages together with the run's state
(one transaction), then posts what is stored but not posted yet, then marks it posted. What a
step did comes from its typed outcome (the messages it added, why the run stopped, what it
waits for); the session renders from that alone. A wait for people (a question, an approval,
a choice of speaker) is a row in ``waits``, opened and closed in the same transaction as the
state that refers to it, and a message with buttons; nothing blocks. A restarted bot loads the
state and goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from typing import TYPE_CHECKING, Any

from adapters import AdapterError, Author, ChatPlatform, OutboundMessage, Persona, ThreadEvent, ThreadRef
from agents import AgentError, Approval, GroupChatRun, HumanInputWait, HumanReply, StepOutcome, StopKind
from agents.chat_run import restore_team
from storage import (
    ConflictError,
    ConversationRecord,
    HandledElsewhereError,
    ListChanges,
    MessageRecord,
    NewMessage,
    NewUsage,
    NewWait,
    WaitAnswer,
)

from .attachments import left_out, people_said
from .logs import bind_thread
from .rendering import NOTE, audience, note, people_message, to_new_message, to_outbound, wait_prompt
from .saved_lists import SavedLists
from .state import ThreadState
from .streaming import StepStream
from .teams import Team

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["TIMEOUT_AUTHOR", "ThreadSession", "thread_of"]

_log = logging.getLogger(__name__)

NOTE_PERSONA = Persona(NOTE, "threadcrew")
CONFLICT_TRIES = 3  # an event is handled on the conversation as stored at most this many times
LISTS_BY_CHANGES = "by_changes"  # the state's message lists are stored apart, by what each save changed
# Who presses a wait's button when its timeout acts (see bot/scheduling); no platform user id has a colon.
TIMEOUT_AUTHOR = Author("threadcrew:timeout", "the timeout")


async def tell_privately(platform: ChatPlatform, event: ThreadEvent, text: str) -> None:
    """Tell the person who did ``event`` alone; where the platform cannot, in the thread, by name."""
    if not platform.capabilities.ephemeral:
        text = f"{event.author.display_name}: {text}"
    await platform.post(event.thread, OutboundMessage(NOTE_PERSONA, text, ephemeral_for=event.author.id))


def thread_of(record: ConversationRecord) -> ThreadRef:
    """The thread a stored conversation belongs to."""
    return ThreadRef(record.platform, record.workspace_id, record.channel_id, record.thread_id)


class ThreadSession:
    """Drives one thread's conversation; the thread's worker calls it one event or step at a time."""

    def __init__(self, runtime: Runtime, thread: ThreadRef, record: ConversationRecord) -> None:
        self.rt = runtime
        self.thread = thread
        self.platform = runtime.platform_for(thread)
        self.record = record
        self.team: Team | None = None
        self.run: GroupChatRun | None = None
        self.state = ThreadState()
        self.lists = SavedLists()  # what the last save stored of the run's message lists
        self._handling: list[int] = []  # the inbox entry of the event being handled
        self._answer: WaitAnswer | None = None  # how the open wait was answered, stored with the next save
        self._decided: tuple[int, str] | None = None  # the question's seq and what was decided, shown once stored
        self.streams = StepStream(self.platform, thread, self._persona, lambda: self.state.reader)

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    async def open(cls, runtime: Runtime, thread: ThreadRef, *, create: bool) -> ThreadSession | None:
        """The thread's session, from storage; a new conversation only when ``create``."""
        stores = runtime.db.stores
        key = (thread.platform, thread.workspace_id, thread.channel_id, thread.thread_id)
        if create:
            record = await stores.conversations.get_or_create(*key, team=runtime.catalog.team_for(thread))
        elif (found := await stores.conversations.find(*key)) is not None:
            record = found
        else:
            return None
        bind_thread(thread.key, record.id)  # the agents built now are this conversation's (runtime log)
        session = cls(runtime, thread, record)
        session._load(record.state or {})
        return session

    def _load(self, state: dict[str, Any]) -> None:
        if not state.get("run"):
            return
        self.state = ThreadState.from_json(state)
        self.team = self._build(state["team"])
        self.run = GroupChatRun.from_json(state["run"], self.team.agents(), termination_condition=self._budget())
        # A state saved with its lists inline is stored anew, lists whole, at its next save.
        self.lists = SavedLists.loaded(self.run) if state.get("lists") == LISTS_BY_CHANGES else SavedLists()

    def _state(self) -> tuple[dict[str, Any], ListChanges | None]:
        """The state to store (its message lists by reference), and what changed in the lists."""
        if self.team is None or self.run is None:
            return {}, None
        run, changes = self.lists.state(self.run)
        return {"team": self.team.name, "run": run, "lists": LISTS_BY_CHANGES, **self.state.to_json()}, changes

    def _build(self, name: str) -> Team:
        team = self.rt.catalog.build(name, self.rt.work_root / f"conversation-{self.record.id}")
        for agent in team.manager.groupchat.agents:
            if agent in (team.human, team.runner):
                continue
            if (agent.llm_config or {}).get("stream"):  # the team file's model says stream: true
                agent.stream_handler = functools.partial(self.streams.delta, agent.name)
        return team

    def _budget(self) -> Any:
        assert self.team is not None
        spent = self.state.spent
        return dataclasses.replace(self.team.budget, spent_tokens=int(spent[0]), spent_cost=float(spent[1]))

    @property
    def status(self) -> str:
        if self.run is None:
            return "new"
        if self.state.failed:
            return "failed"
        if self.run.finished:
            return "finished"
        if self.state.paused:
            return "paused"
        return "waiting" if self.run.waiting is not None else "running"

    @property
    def ended(self) -> bool:
        """No run, or its run is over: a mention starts the next one."""
        return self.status in ("new", "finished", "failed")

    def can_advance(self) -> bool:
        return self.run is not None and self.status == "running"

    # -- events ----------------------------------------------------------------------------------

    async def handle(self, event: ThreadEvent, inbox_id: int | None = None) -> bool:
        """One event from the thread (the dispatcher decided it belongs here). When another process
        saved the conversation meanwhile, the event is handled again on what that one stored.

        Returns whether the inbox entry ``inbox_id`` is out of the inbox: taken out with a save of
        the state, or found gone (handled elsewhere: the event is dropped).

        Raises:
            ConflictError: the conversation changed under it each of ``CONFLICT_TRIES`` times (the
                event stays in the inbox: the thread is tried again later).
        """
        for tries_left in reversed(range(CONFLICT_TRIES)):
            self._handling = [inbox_id] if inbox_id is not None else []
            try:
                await self._handle(event)
                break
            except HandledElsewhereError:  # a worker given it twice (a sweep's requeue, say): it is done
                _log.info("conversation %s: an event it was given was handled elsewhere; dropped", self.record.id)
                await self._reload()
                return True
            except ConflictError:
                _log.warning("conversation %s changed under us; handling the event again on it", self.record.id)
                if not tries_left:
                    raise
                await self._reload()
        saved = inbox_id is not None and not self._handling
        self._handling = []
        return saved

    async def _handle(self, event: ThreadEvent) -> None:
        if event.kind == "command":
            await self._command(event)
        elif event.kind == "button":
            await self._button(event)
        elif event.kind in ("mention", "start") and self.ended:
            await self._start(event)
        else:
            await self._people_said(event)

    async def _reload(self) -> None:
        """The conversation as stored: what this session held and did not store is dropped."""
        fresh = await self.rt.db.stores.conversations.get(self.record.id)
        await self._close_team()
        self.record, self.team, self.run = fresh, None, None
        self.state, self.lists, self._handling = ThreadState(), SavedLists(), []
        self._answer = self._decided = None
        self._load(fresh.state or {})

    async def _start(self, event: ThreadEvent) -> None:
        text = event.text.strip()
        try:
            team = self._build(self.record.team)
        except OSError as exc:  # its work dir cannot be made: say so rather than drop the mention
            _log.error("thread %s: cannot start a run: %s", self.thread.key, exc)
            reason = exc.strerror or type(exc).__name__
            await self._save(
                extra=[note(f"I could not start a run: the bot cannot prepare its work space ({reason}).")]
            )
            return
        if event.kind != "start" and not team.may_start(
            event.author.id, event.author.roles
        ):  # a schedule or an operator may
            await team.close()
            await self._ephemeral(event, "You are not allowed to start a run in this workspace.")
            return
        if not text:
            await team.close()
            await self._ephemeral(event, "Mention me with a task, for example: @threadcrew chart the first ten squares")
            return
        if self.run is not None:
            restore_team(self.run.to_json()["agents"], team.agents())  # the team remembers earlier runs
        await self._close_team()
        self.team = team
        self.lists = SavedLists()  # a new team's lists: the next save stores them whole
        # A new run: the thread's earlier runs count against its budget.
        self.state = ThreadState(
            spent=[self.record.prompt_tokens + self.record.completion_tokens, self.record.cost],
        )
        self.state.people = [self._person(event)]
        said = people_said(event)
        first = said if isinstance(said, str) else {"content": said, "role": "user"}
        self.run = GroupChatRun(
            team.manager, first, team.human, silent=True, from_human=True, termination_condition=self._budget()
        )
        # The people's message goes in (no model call); stored with the start.
        outcome = await self.run.a_advance()
        notes = [*left_out(event, team), *(note(text) for text in team.notes)]
        if team.refusal is not None:
            self.state.failed = "no sandbox for the team's code"
            notes.append(note(team.refusal))
        await self._save(outcome, notes)

    async def _people_said(self, event: ThreadEvent) -> None:
        text = event.text.strip()
        if self.ended or not (text or event.attachments or event.skipped):
            return  # people talking among themselves
        assert self.run is not None
        assert self.team is not None
        waiting = self.run.waiting
        self.state.people.append(self._person(event))
        said = people_said(event)
        if waiting is not None and waiting.kind == "question":
            self._deliver(said, text or "(files)", event.author.id)
            self._settle_prompt(f"answered by {event.author.display_name}")
        else:
            self.run.inject(said)
        await self._save(extra=left_out(event, self.team))

    async def _button(self, event: ThreadEvent) -> None:
        # Only Dispatcher.expire_wait makes such an event (its key is the wait's; no adapter's is).
        timeout = event.author.id == TIMEOUT_AUTHOR.id and event.event_key in (
            f"timeout:{event.value}",
            f"remind:{event.value}",
        )
        if timeout and (self.state.wait_id is None or event.value != str(self.state.wait_id)):
            return  # the wait it was for was answered meanwhile
        # The timeout's note is stored with what it does (through the outbox, like every message).
        said = [note(event.text)] if timeout and event.text else []
        if timeout and event.action_id == "remind":
            await self._save(extra=said)
            return
        if event.action_id == "stop":
            await self._command(dataclasses.replace(event, kind="command", command="stop"), said)
            return
        waiting = self.run.waiting if self.run is not None else None
        if waiting is None or self.team is None or self.run is None:
            await self._ephemeral(event, "That question was answered already.")
            return
        who, action = event.author, event.action_id
        if action == "continue" and waiting.kind == "question":
            self._deliver("", "(continue)", who.id)
            decision = f"{who.display_name} let the team go on"
        elif action in ("approve", "reject") and waiting.kind == "approval":
            if not timeout and not self.team.may_approve(who.id, who.roles):
                await self._ephemeral(event, "You are not allowed to approve or reject this.")
                return
            self._deliver(Approval(action == "approve", who.display_name), action, who.id)
            decision = f"{'Approved' if action == 'approve' else 'Rejected'} by {who.display_name}"
        elif action == "choose" and waiting.kind == "speaker" and event.value in waiting.choices:
            self._deliver(event.value or "", event.value or "", who.id)
            decision = f"{who.display_name} chose {event.value}"
        else:
            await self._ephemeral(event, "That button does not answer the question the team is waiting on.")
            return
        self.state.reader = who.id
        self._settle_prompt(decision)
        await self._save(extra=said)

    def _deliver(self, answer: HumanReply | Approval, recorded: str, by: str) -> None:
        """Answer the run's wait; its row is closed with the state this leads to."""
        assert self.run is not None
        self.run.deliver(answer)
        if self.state.wait_id is not None:
            self._answer = WaitAnswer(self.state.wait_id, recorded, by)

    async def _command(self, event: ThreadEvent, said: list[NewMessage] | None = None) -> None:
        """``stop``, ``pause``, ``resume`` or ``status``; ``said``: notes stored before the stop's own."""
        who = event.author.display_name
        if self.ended:
            await self._save(extra=[note(f"Nothing is running in this thread ({self.status}).")])
            return
        assert self.run is not None
        if event.command == "stop":
            self.run.request_stop()
            self.state.paused = False
            outcome = None
            if self.run.waiting is not None:  # nothing would step it again: end it now
                if self.state.wait_id is not None:
                    self._answer = WaitAnswer(self.state.wait_id, "(stopped)", event.author.id)
                outcome = await self.run.a_advance()
                self._settle_prompt(f"stopped by {who}")
            await self._save(outcome, [*(said or []), note(f"Stopped by {who}.")])
        elif event.command == "pause":
            self.state.paused = True
            await self._save(extra=[note(f"Paused by {who}. Use resume to go on.")])
        elif event.command == "resume":
            self.state.paused = False
            await self._save(extra=[note(f"Resumed by {who}.")])
        elif event.command == "status":
            await self._save(extra=[note(self._status_text())])

    def _status_text(self) -> str:
        assert self.run is not None
        assert self.team is not None
        usage = self.run.usage
        waiting = f", waiting for {self.run.waiting.agent}" if self.run.waiting else ""
        count = self.run.message_count
        return (
            f"Status: {self.status}{waiting}; {count} message{'' if count == 1 else 's'}; "
            f"{usage.total_tokens:,} tokens, ${usage.total_cost:.4f} in this run."
        )

    def _person(self, event: ThreadEvent) -> dict[str, Any]:
        self.state.reader = event.author.id
        self.state.met(event.author.id)
        return {"author": event.author.id, "message_id": event.message_id}

    async def give_up(self, failures: int) -> None:
        """Its work failed ``failures`` times in a row (outside a step: a post, a save): the run stops,
        saying so in the thread (stored, then posted when the platform takes it)."""
        self.state.failed = "its work kept failing"
        text = f"The team stopped: its work failed {failures} times in a row. Mention me to try again."
        await self._save(extra=[note(text)])

    # -- stepping --------------------------------------------------------------------------------

    async def advance(self) -> None:
        """One step of the run, then store and post what it produced."""
        assert self.run is not None
        try:
            with self.rt.metrics.step():
                async with asyncio.timeout(self.rt.step_timeout):
                    outcome = await self.run.a_advance()
        except AgentError as exc:
            _log.warning("thread %s: the run failed: %s", self.thread.key, exc)
            await self.streams.drop()
            self.state.failed = "the model or the code sandbox failed"
            await self._save(extra=[note(f"The team stopped: {self._safe(exc)}. Mention me to try again.")])
            return
        except TimeoutError:
            await self.streams.drop()
            self.state.failed = "a step took too long"
            await self._save(extra=[note(f"The team stopped: a step took longer than {self.rt.step_timeout:g} s.")])
            return
        except Exception:  # a fault of ours: stop the run, say so, keep the bot serving
            _log.exception("thread %s: a step failed", self.thread.key)
            await self.streams.drop()
            self.state.failed = "an internal error"
            await self._save(
                extra=[note("The team stopped: something went wrong on our side. Mention me to try again.")]
            )
            return
        _log.info("a step added %d message(s); the run is %s", len(outcome.messages), self.status)
        await self._save(outcome)

    async def _save(self, outcome: StepOutcome | None = None, extra: list[NewMessage] | None = None) -> None:
        """Store a step's messages, usage and waits with the state (one transaction), then post the messages."""
        produced = self._new_messages(outcome)
        produced += extra or []
        wait = self._wait_to_open()
        if wait is not None:
            produced += self._prompt(wait, len(produced))
        produced += self._closing_note(outcome)
        produced = [self.rt.redactor.message(m, f"a message of {self.thread.key}") for m in produced]
        answered = [self._answer] if self._answer is not None else []
        if self.state.wait_id is not None and (self.run is None or self.run.waiting is None) and not answered:
            answered = [WaitAnswer(self.state.wait_id, "(ended)", NOTE)]  # the run ended while it waited
        if answered:
            self.state.wait_id = None
        usage = self._take_usage()
        self.rt.metrics.saved(outcome, usage)
        state, changes = self._state()
        # The run's state is stored too: no secret in it either (its lists: only what they gained).
        state = self.rt.redactor.json(state)
        if changes is not None:
            changes = dataclasses.replace(changes, items=self.rt.redactor.json(changes.items))
        self.record, stored = await self.rt.db.stores.conversations.save_step(
            self.record.id,
            (lambda wait_id: {**state, "wait_id": wait_id}) if wait is not None else state,
            expected_version=self.record.version,
            status=self.status,
            messages=produced,
            usage=usage,
            handled=self._handling,
            open_wait=wait[1] if wait is not None else None,
            answered=answered,
            changes=changes,
        )
        self.lists.stored()
        if wait is not None:
            self.state.wait_id = (self.record.state or {}).get("wait_id")
        self._handling, self._answer = [], None
        await self._post([m for m in stored if m.posted_at is None])
        await self._show_decision()

    def _new_messages(self, outcome: StepOutcome | None) -> list[NewMessage]:
        if outcome is None:
            return []
        now = self.rt.db.clock()
        produced: list[NewMessage] = []
        for added in outcome.messages:
            if added.by_human and self.state.people:
                person = self.state.people.pop(0)
                produced.append(people_message(added, person["author"], person["message_id"], now))
            elif added.kind != "text" or added.message.text.strip():
                produced.append(to_new_message(added))
        return produced

    def _wait_to_open(self) -> tuple[HumanInputWait, NewWait] | None:
        """The run's wait, when it has just begun (its row and its prompt are stored with this save)."""
        waiting = self.run.waiting if self.run is not None else None
        if waiting is None or self.team is None or self.status != "waiting":
            return None
        if self.state.prompted == waiting.to_json():
            return None
        allowed = sorted(self.team.approvers) if waiting.kind == "approval" and self.team.approvers else None
        timeout = self.rt.catalog.timeouts(self.record.team).for_kind(waiting.kind)
        deadline = self.rt.db.clock() + timeout.deadline_after if timeout is not None else None  # see bot/scheduling
        return waiting, NewWait(waiting.kind, waiting.agent, waiting.prompt, list(waiting.choices), allowed, deadline)

    def _prompt(self, wait: tuple[HumanInputWait, NewWait], at: int) -> list[NewMessage]:
        """A wait's message with buttons; ``at`` is its place among this save's messages."""
        waiting = wait[0]
        assert self.team is not None
        self.state.prompted = waiting.to_json()
        self.state.prompt_seq = self.record.last_seq + at + 1  # the number the store gives it
        return [wait_prompt(waiting, bool(self.team.approvers))]

    def _closing_note(self, outcome: StepOutcome | None) -> list[NewMessage]:
        stop = outcome.stop if outcome is not None else None
        if stop is None or self.state.failed or self.state.closing_noted:
            return []
        self.state.closing_noted = True
        if stop.kind is StopKind.CONDITION:  # the thread's budget
            return [note(f"The team stopped: {stop.detail}.")]
        if stop.kind is StopKind.MAX_ROUND:
            return [note("The team stopped: it reached the most messages a run may have.")]
        if stop.kind in (StopKind.NO_SPEAKER, StopKind.NO_REPLY):
            return [note("The team stopped: nobody had anything more to say. Mention me to go on.")]
        return []

    def _take_usage(self) -> list[NewUsage]:
        """Each model's tokens and cost since the last save; counted as seen from now on (the
        save stores the two together)."""
        if self.run is None:
            return []
        added = []
        for model, usage in self.run.usage.models():
            seen = self.state.usage_seen.get(model, [0, 0, 0.0])
            delta = (usage.prompt_tokens - seen[0], usage.completion_tokens - seen[1], usage.cost - seen[2])
            if any(delta):
                added.append(NewUsage(model, int(delta[0]), int(delta[1]), delta[2]))
                self.state.usage_seen[model] = [usage.prompt_tokens, usage.completion_tokens, usage.cost]
        return added

    # -- posting ---------------------------------------------------------------------------------

    async def flush(self, *, check_posted: bool = False) -> None:
        """Post what is stored but not posted, oldest first (left by a failure or a crash).

        ``check_posted`` asks the platform first whether a message went out before a crash.
        """
        while batch := await self.rt.db.stores.messages.outbox(limit=50, conversation_id=self.record.id):
            await self._post(batch, check_posted=check_posted)

    async def _post(self, records: list[MessageRecord], *, check_posted: bool = False) -> None:
        """Post stored messages in order, then mark them posted (the database groups the marks
        of every thread that posted meanwhile into one transaction)."""
        posted: list[tuple[int, str]] = []
        for message in records:
            persona = NOTE_PERSONA if message.author_kind == "system" else self._persona(message.name)
            outbound = to_outbound(message, persona, *audience(self.team, self.state))
            found = await self.platform.find_posted(self.thread, outbound.key) if check_posted else None
            streamed = await self.streams.take(message.name) if message.author_kind == "agent" else None
            if found is None and streamed is not None:
                found = await streamed.finish(outbound)  # the preview becomes the stored reply
            posted.append((message.id, found or await self.platform.post(self.thread, outbound)))
            self.rt.metrics.posted(self.thread.platform)
        await self.streams.drop()
        await self.rt.db.stores.messages.mark_posted_many(posted)

    def _persona(self, name: str | None) -> Persona:
        return self.team.persona(name) if self.team is not None else Persona(name or "agent")

    def _settle_prompt(self, decision: str) -> None:
        """The question's message will show what was decided (its buttons go) once the answer is stored:
        shown before, a crash would leave a question with no buttons and no stored answer."""
        prompt, self.state.prompt_seq = self.state.prompt_seq, None
        if prompt is not None:
            self._decided = (prompt, decision)

    async def _show_decision(self) -> None:
        if self._decided is None:
            return
        (prompt, decision), self._decided = self._decided, None
        found = await self.rt.db.stores.messages.list_since(self.record.id, after_seq=prompt - 1, limit=1)
        if found and (posted_as := found[0].platform_message_id):
            stored = found[0]
            updated = OutboundMessage(NOTE_PERSONA, f"{stored.content}\n\n{decision}.", key=f"tc-{stored.id}")
            try:
                await self.platform.update(self.thread, posted_as, updated)
            except AdapterError as exc:  # someone deleted it, say: a press on it is told it was answered
                _log.info("thread %s: could not show the decision on its question: %s", self.thread.key, exc)

    async def _ephemeral(self, event: ThreadEvent, text: str) -> None:
        await tell_privately(self.platform, event, text)

    @staticmethod
    def _safe(exc: Exception) -> str:
        """What the thread may be told: no tokens, no stack traces."""
        status = getattr(exc, "status", None)
        if status is not None:
            return f"the model endpoint answered with HTTP {status}"
        return type(exc).__name__.replace("Error", " error").strip().lower()

    async def _close_team(self) -> None:
        if self.team is not None:
            await self.team.close()

    async def close(self) -> None:
        await self._close_team()
