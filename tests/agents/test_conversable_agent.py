"""ConversableAgent: triggers, reply order, auto-reply caps, human-input modes, hooks, history."""

from __future__ import annotations

from typing import Any

import pytest

from agents import (
    AssistantAgent,
    CodeBlock,
    CodeResult,
    ConfigurationError,
    ConversableAgent,
    Message,
    ScriptedInput,
    SenderRequiredError,
    UserProxyAgent,
)
from tests.fakes.agents import agent, reply_with
from tests.fakes.openai_server import ScriptedOpenAI, tool_calls


class Special(ConversableAgent):
    pass


def test_defaults_match_autogen() -> None:
    a = ConversableAgent("a")
    assert (a.human_input_mode, a.max_consecutive_auto_reply(), a.llm_config, a.system_message) == (
        "TERMINATE",
        100,
        False,
        "You are a helpful AI Assistant.",
    )
    assert a.description == a.system_message
    assistant = AssistantAgent("assistant")
    assert assistant.human_input_mode == "NEVER"
    assert assistant.description.startswith("A helpful and general-purpose AI assistant")
    assert "TERMINATE" in assistant.system_message
    user = UserProxyAgent("user", code_execution_config=False)
    assert (user.human_input_mode, user.llm_config, user.system_message) == ("ALWAYS", False, "")
    assert user.description.startswith("An attentive HUMAN user")
    assert UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False).description.startswith(
        "A computer terminal"
    )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("Story writer", "whitespace"), ("a/b", "< | \\ / >"), ("x" * 65, "64 characters"), ("", "non-empty")],
)
def test_agent_names_the_model_api_rejects_fail_naming_the_agent_and_rule(name: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ConversableAgent(name)
    assert fragment in str(caught.value)
    if name:
        assert repr(name[:20]) in str(caught.value) or name[:20] in str(caught.value)


def test_story_writer_gets_a_usable_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="try 'Story_writer'"):
        ConversableAgent("Story writer")


def test_invalid_human_input_mode_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="'ALWAYS', 'TERMINATE' or 'NEVER'"):
        ConversableAgent("a", human_input_mode="SOMETIMES")  # type: ignore[arg-type]


def test_every_trigger_kind_matches_the_right_senders() -> None:
    me, alice, bob, special = agent("me"), agent("alice"), agent("bob"), Special("special", llm_config=False)
    me.register_reply(ConversableAgent, reply_with("class"))
    me.register_reply("alice", reply_with("name"))
    me.register_reply(bob, reply_with("agent"))
    me.register_reply(lambda sender: sender is not None and sender.name == "special", reply_with("callable"))
    me.register_reply(None, reply_with("no sender"))
    msgs = [Message(role="user", content="hi")]
    assert me.generate_reply(msgs, alice) == "name"
    assert me.generate_reply(msgs, bob) == "agent"
    assert me.generate_reply(msgs, special) == "callable"
    assert me.generate_reply(msgs, agent("carol")) == "class"
    assert me.generate_reply(msgs, None) == "no sender"


def test_list_trigger_matches_any_of_its_items() -> None:
    me, alice, bob = agent("me"), agent("alice"), agent("bob")
    me.register_reply([Special, "alice"], reply_with("listed"))
    msgs = [Message(role="user", content="hi")]
    assert me.generate_reply(msgs, alice) == "listed"
    assert me.generate_reply(msgs, Special("s", llm_config=False)) == "listed"
    assert me.generate_reply(msgs, bob) == ""  # default_auto_reply


def test_name_trigger_without_sender_raises() -> None:
    me = agent("me")
    me.register_reply("alice", reply_with("x"))
    with pytest.raises(SenderRequiredError):
        me.generate_reply([Message(role="user", content="hi")], None)


def test_trigger_callable_must_return_a_bool() -> None:
    me = agent("me")
    me.register_reply(lambda sender: "yes", reply_with("x"))  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError, match="must return a bool"):
        me.generate_reply([Message(role="user", content="hi")], agent("a"))


def test_builtin_reply_order_is_termination_tools_code_llm() -> None:
    me = agent("me")
    names = [f.__name__ for f in me.reply_functions]
    assert names == [
        "a_check_termination_and_human_reply",
        "a_generate_tool_calls_reply",
        "a_generate_code_execution_reply",
        "a_generate_oai_reply",
    ]


def test_register_reply_position_and_remove_other_reply_funcs() -> None:
    me, other = agent("me"), agent("other")
    me.register_reply([ConversableAgent, None], reply_with("last"), position=len(me.reply_functions))
    assert me.generate_reply([Message(role="user", content="hi")], other) == "last"
    me.register_reply([ConversableAgent, None], reply_with("first"))
    assert me.generate_reply([Message(role="user", content="hi")], other) == "first"
    me.register_reply([ConversableAgent, None], reply_with("only"), remove_other_reply_funcs=True)
    assert me.reply_functions[0].__name__ == "reply"
    assert len(me.reply_functions) == 1


def test_reply_function_that_is_not_final_passes_to_the_next() -> None:
    me, other = agent("me"), agent("other")
    seen: list[str] = []

    async def observer(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        seen.append(messages[-1]["content"])
        return False, "ignored"

    me.register_reply([ConversableAgent, None], reply_with("fallback"))
    me.register_reply([ConversableAgent, None], observer)
    assert me.generate_reply([Message(role="user", content="question")], other) == "fallback"
    assert seen == ["question"]


def test_exclude_skips_a_builtin_by_its_sync_name(openai_server: ScriptedOpenAI) -> None:
    me = AssistantAgent("me", llm_config=openai_server.llm_config(), default_auto_reply="no model")
    reply = me.generate_reply([Message(role="user", content="hi")], agent("u"), exclude=[me.generate_oai_reply])
    assert reply == "no model"
    assert openai_server.requests == []


def test_config_is_passed_to_the_reply_function_and_restored_on_reset() -> None:
    me, other = agent("me"), agent("other")
    configs: list[Any] = []

    def counting(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        configs.append(dict(config))
        config["n"] += 1
        return True, str(config["n"])

    me.register_reply(ConversableAgent, counting, config={"n": 0})
    msgs = [Message(role="user", content="x")]
    assert [me.generate_reply(msgs, other) for _ in range(2)] == ["1", "2"]
    me.reset()
    assert me.generate_reply(msgs, other) == "1"


def test_max_consecutive_auto_reply_stops_a_never_agent_per_sender() -> None:
    echo = agent("echo", max_consecutive_auto_reply=2, default_auto_reply="again")
    talker = agent("talker", default_auto_reply="more")
    echo.update_max_consecutive_auto_reply(0, talker)
    assert echo.max_consecutive_auto_reply(talker) == 0
    other = agent("other", default_auto_reply="more")
    result = other.initiate_chat(echo, message="start", silent=True)
    # "start", then echo/other alternate; echo stops after 2 auto replies to other.
    assert [m["content"] for m in result.chat_history] == ["start", "again", "more", "again", "more"]
    result = talker.initiate_chat(echo, message="start", silent=True)
    assert [m["content"] for m in result.chat_history] == ["start"]


class TestHumanInputModes:
    def test_always_asks_every_turn_and_empty_input_means_auto_reply(self) -> None:
        human = ScriptedInput(["", "my own words", "exit"])
        proxy = agent("proxy", human_input_mode="ALWAYS", human_input_source=human, default_auto_reply="auto")
        bot = agent("bot", default_auto_reply="bot says")
        result = proxy.initiate_chat(bot, message="hello", silent=True)
        assert [m["content"] for m in result.chat_history] == [
            "hello",
            "bot says",
            "auto",
            "bot says",
            "my own words",
            "bot says",
        ]
        assert len(human.prompts) == 3
        assert human.prompts[0] == (
            "proxy",
            "Replying as proxy. Provide feedback to bot. Press enter to skip and use auto-reply, "
            "or type 'exit' to end the conversation: ",
        )
        assert result.human_input == ["", "my own words", "exit"]

    def test_always_with_empty_input_on_a_termination_message_stops(self) -> None:
        human = ScriptedInput([""])
        proxy = agent("proxy", human_input_mode="ALWAYS", human_input_source=human)
        bot = agent("bot", default_auto_reply="TERMINATE")
        result = proxy.initiate_chat(bot, message="hello", silent=True)
        assert [m["content"] for m in result.chat_history] == ["hello", "TERMINATE"]
        assert human.remaining == 0

    def test_terminate_mode_asks_only_at_a_termination_message(self) -> None:
        human = ScriptedInput(["keep going", ""])
        replies = iter(["one", "TERMINATE", "two", "TERMINATE"])
        proxy = agent("proxy", human_input_mode="TERMINATE", human_input_source=human, default_auto_reply="auto")
        bot = agent("bot")
        bot.register_reply(ConversableAgent, lambda *a, **k: (True, next(replies)))
        result = proxy.initiate_chat(bot, message="hi", silent=True)
        assert [m["content"] for m in result.chat_history] == [
            "hi",
            "one",
            "auto",
            "TERMINATE",
            "keep going",
            "two",
            "auto",
            "TERMINATE",
        ]
        assert [p for _, p in human.prompts] == [
            "Please give feedback to bot. Press enter or type 'exit' to stop the conversation: "
        ] * 2

    def test_terminate_mode_asks_when_the_auto_reply_cap_is_reached(self) -> None:
        human = ScriptedInput(["exit"])
        proxy = agent("proxy", human_input_mode="TERMINATE", human_input_source=human, max_consecutive_auto_reply=1)
        bot = agent("bot", default_auto_reply="more")
        result = proxy.initiate_chat(bot, message="hi", silent=True)
        assert len(result.chat_history) == 4  # hi, more, (auto) "", more -> cap reached, human says exit
        assert "Press enter to skip and use auto-reply" in human.prompts[0][1]

    def test_never_mode_stops_at_a_termination_message_without_asking(self) -> None:
        human = ScriptedInput([])
        proxy = agent("proxy", human_input_mode="NEVER", human_input_source=human, default_auto_reply="ok")
        bot = agent("bot", default_auto_reply="TERMINATE")
        result = proxy.initiate_chat(bot, message="hi", silent=True)
        assert [m["content"] for m in result.chat_history] == ["hi", "TERMINATE"]
        assert human.prompts == []

    def test_custom_is_termination_msg(self) -> None:
        proxy = agent("proxy", is_termination_msg=lambda m: "bye" in m["content"], default_auto_reply="ok")
        bot = agent("bot", default_auto_reply="bye now")
        result = proxy.initiate_chat(bot, message="hi", silent=True)
        assert [m["content"] for m in result.chat_history] == ["hi", "bye now"]

    def test_human_reply_instead_of_tool_results_closes_every_open_tool_call(
        self, openai_server: ScriptedOpenAI
    ) -> None:
        openai_server.script(tool_calls(("add", {"a": 1}), ("add", {"a": 2})), "fine")
        human = ScriptedInput(["no tools, please"])
        proxy = agent("proxy", human_input_mode="ALWAYS", human_input_source=human)
        bot = AssistantAgent("bot", llm_config=openai_server.llm_config())
        proxy.initiate_chat(bot, message="add", silent=True, max_turns=2)
        interrupted = bot.chat_messages[proxy][-2]
        assert interrupted["content"] == "no tools, please"
        assert [r["content"] for r in interrupted["tool_responses"]] == ["USER INTERRUPTED"] * 2
        # The model sees every tool call answered before the human's words.
        sent = openai_server.requests[1].body["messages"]
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool", "user"]
        call_ids = [c["id"] for c in sent[2]["tool_calls"]]
        assert [m["tool_call_id"] for m in sent[3:5]] == call_ids
        assert sent[5] == {"role": "user", "content": "no tools, please", "name": "proxy"}

    def test_a_subclass_overriding_get_human_input_is_honoured(self) -> None:
        class Kiosk(ConversableAgent):
            asked: list[str] = []  # noqa: RUF012

            def get_human_input(self, prompt: str) -> str:
                self.asked.append(prompt)
                return "exit"

        kiosk = Kiosk("kiosk", llm_config=False, human_input_mode="ALWAYS")
        bot = agent("bot", default_auto_reply="hi")
        result = kiosk.initiate_chat(bot, message="hello", silent=True)
        assert len(Kiosk.asked) == 1
        assert result.human_input == ["exit"]
        assert len(result.chat_history) == 2


class TestHooks:
    def test_process_last_received_message_changes_what_reply_functions_see(self) -> None:
        me, other = agent("me"), agent("other")
        seen: list[str] = []
        me.register_hook("process_last_received_message", lambda content: content.upper())
        me.register_reply(
            ConversableAgent, lambda r, messages=None, **k: (seen.append(messages[-1]["content"]), (True, "x"))[1]
        )
        me.receive("hello", other, request_reply=True, silent=True)
        assert seen == ["HELLO"]
        assert me.chat_messages[other][0]["content"] == "hello"  # the stored history is untouched

    def test_process_all_messages_before_reply(self) -> None:
        me, other = agent("me"), agent("other")
        seen: list[int] = []
        me.register_hook("process_all_messages_before_reply", lambda messages: messages[-1:])
        me.register_reply(ConversableAgent, lambda r, messages=None, **k: (seen.append(len(messages)), (True, "x"))[1])
        me.chat_messages[other].extend([Message(role="user", content="a"), Message(role="user", content="b")])
        me.generate_reply(sender=other)
        assert seen == [1]

    def test_process_message_before_send_changes_the_sent_message(self) -> None:
        me, other = agent("me"), agent("other")
        me.register_hook("process_message_before_send", lambda sender, message, recipient, silent: message + "!")
        me.send("hi", other, request_reply=False, silent=True)
        assert other.chat_messages[me][0]["content"] == "hi!"
        assert me.chat_messages[other][0]["content"] == "hi!"

    def test_unknown_or_duplicate_hook_is_rejected(self) -> None:
        me = agent("me")

        def hook(x: Any) -> Any:
            return x

        with pytest.raises(ConfigurationError, match="not a hookable method"):
            me.register_hook("before_everything", hook)
        me.register_hook("process_all_messages_before_reply", hook)
        with pytest.raises(ConfigurationError, match="already registered"):
            me.register_hook("process_all_messages_before_reply", hook)


class TestHistory:
    def test_send_and_receive_store_roles_and_names_from_each_side(self) -> None:
        alice, bob = agent("alice"), agent("bob")
        alice.send("hi bob", bob, request_reply=False, silent=True)
        assert alice.chat_messages[bob] == [Message(role="assistant", content="hi bob", name="alice")]
        assert bob.chat_messages[alice] == [Message(role="user", content="hi bob", name="alice")]

    def test_sending_a_message_without_content_raises_value_error(self) -> None:
        alice, bob = agent("alice"), agent("bob")
        with pytest.raises(ValueError, match="needs content or tool calls"):
            alice.send({"name": "x"}, bob, silent=True)

    def test_last_message_clear_history_and_preserve(self) -> None:
        alice, bob, carol = agent("alice"), agent("bob"), agent("carol")
        for text in ("1", "2", "3"):
            alice.send(text, bob, request_reply=False, silent=True)
        assert alice.last_message() == Message(role="assistant", content="3", name="alice")
        alice.send("x", carol, request_reply=False, silent=True)
        with pytest.raises(ValueError, match="more than one conversation"):
            alice.last_message()
        with pytest.raises(KeyError, match="no history"):
            bob.last_message(carol)
        alice.clear_history(bob, nr_messages_to_preserve=1)
        assert [m["content"] for m in alice.chat_messages[bob]] == ["3"]
        alice.clear_history()
        assert alice.chat_messages[carol] == []

    def test_update_system_message_reaches_the_model(self, openai_server: ScriptedOpenAI) -> None:
        openai_server.script("ok")
        bot = AssistantAgent("bot", llm_config=openai_server.llm_config())
        bot.update_system_message("You are terse.")
        assert bot.system_message == "You are terse."
        bot.generate_reply([Message(role="user", content="hi")], agent("u"))
        assert openai_server.requests[0].body["messages"][0] == {"role": "system", "content": "You are terse."}

    def test_chat_messages_can_be_given_at_construction(self) -> None:
        other = agent("other")
        me = agent("me", chat_messages={other: [{"role": "user", "content": "earlier", "name": "other"}]})
        assert me.chat_messages[other][0]["content"] == "earlier"


class Recorder:
    """A CodeExecutor that records what it was asked to run."""

    def __init__(self) -> None:
        self.runs: list[list[CodeBlock]] = []

    async def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        self.runs.append(code_blocks)
        return CodeResult(exit_code=0, output="ran")

    async def restart(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def test_code_execution_reply_runs_code_and_comes_after_tool_calls() -> None:
    recorder = Recorder()
    runner = agent("runner", code_execution_config={"executor": recorder})
    writer = agent("writer")
    reply = runner.generate_reply([Message(role="user", content="```python\nprint(1)\n```")], writer)
    assert reply == "exitcode: 0 (execution succeeded)\nCode output: ran"
    assert recorder.runs == [[CodeBlock("print(1)", "python")]]
    # A message with tool calls is answered by the tool-call reply, before code execution.
    with_calls = Message.from_dict(
        {
            "role": "user",
            "content": "```python\nprint(2)\n```",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "nope", "arguments": "{}"}}],
        }
    )
    reply = runner.generate_reply([with_calls], writer)
    assert isinstance(reply, dict)  # AutoGen's format
    assert "no tool named 'nope'" in reply["tool_responses"][0]["content"]
    assert len(recorder.runs) == 1


def test_code_approval_policy_can_deny_with_a_reason() -> None:
    recorder = Recorder()

    async def deny(blocks: list[CodeBlock]) -> str | None:
        return "nobody approved it"

    runner = agent("runner", code_execution_config={"executor": recorder, "approval": deny})
    reply = runner.generate_reply([Message(role="user", content="```sh\nrm -rf /tmp/x\n```")], agent("w"))
    assert reply == "exitcode: 1 (execution denied)\nCode output: nobody approved it"
    assert recorder.runs == []


def test_last_n_messages_auto_scans_only_what_arrived_since_the_agent_spoke() -> None:
    recorder = Recorder()
    runner = agent("runner", code_execution_config={"executor": recorder})
    history = [
        Message(role="user", content="```python\nprint('old')\n```"),
        Message(role="assistant", content="I spoke"),
        Message(role="user", content="no code here"),
    ]
    assert runner.generate_reply(history, agent("w")) == ""
    assert recorder.runs == []


def test_bad_last_n_messages_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="last_n_messages"):
        agent("runner", code_execution_config={"executor": Recorder(), "last_n_messages": -1})
