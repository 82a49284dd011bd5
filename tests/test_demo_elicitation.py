"""When the server asks the person something (MCP elicitation), the demo client puts the question to them."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from pydantic import BaseModel
from shop_support import connected

from shopdesk_demo.__main__ import elicitation_handler


class Approval(BaseModel):
    approve: bool
    note: str


def ask_approval(order_id: str) -> Elicit[Approval]:
    return Elicit(f"Refund order {order_id}?", Approval)


def approval_server() -> MCPServer:
    mcp = MCPServer("asks")

    @mcp.tool()
    def refund(order_id: str, answer: Annotated[ElicitationResult[Approval], Resolve(ask_approval)]) -> str:
        """Refund, if the person approves."""
        if isinstance(answer, AcceptedElicitation) and answer.data.approve:
            return f"refunded {order_id} ({answer.data.note})"
        return f"not refunded ({answer.action})"

    return mcp


class ScriptedPerson:
    def __init__(self, answers: list[str], interactive: bool = True) -> None:
        self.answers = answers
        self.interactive = interactive
        self.asked: list[str] = []
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        self.notices.append(message)

    async def ask(self, question: str) -> str | None:
        self.asked.append(question)
        return self.answers.pop(0) if self.answers else None


async def call_refund(person: ScriptedPerson) -> Any:
    async with connected(approval_server(), elicitation_callback=elicitation_handler(person)) as client:
        return await client.call_tool("refund", {"order_id": "#W1"})


async def test_the_person_answers_the_servers_question() -> None:
    person = ScriptedPerson(["yes", "damaged in transit"])
    result = await call_refund(person)
    assert result.content[0].text == "refunded #W1 (damaged in transit)"
    assert person.notices == ["the server asks: Refund order #W1?"]
    assert len(person.asked) == 2


async def test_with_no_one_at_the_terminal_the_question_is_declined() -> None:
    person = ScriptedPerson([], interactive=False)
    result = await call_refund(person)
    assert result.content[0].text == "not refunded (decline)"
    assert person.asked == []


class Consent(BaseModel):
    confirm: bool


def ask_consent(order_id: str) -> Elicit[Consent]:
    return Elicit(f"Cancel order {order_id}?", Consent)


def consent_server() -> MCPServer:
    mcp = MCPServer("confirms")

    @mcp.tool()
    def cancel(order_id: str, answer: Annotated[ElicitationResult[Consent], Resolve(ask_consent)]) -> str:
        """Cancel, if the person confirms."""
        if isinstance(answer, AcceptedElicitation) and answer.data.confirm:
            return f"cancelled {order_id}"
        return f"not cancelled ({answer.action})"

    return mcp


async def test_yes_answers_a_yes_or_no_confirmation_without_asking() -> None:
    person = ScriptedPerson([], interactive=False)
    async with connected(consent_server(), elicitation_callback=elicitation_handler(person, True)) as client:
        result = await client.call_tool("cancel", {"order_id": "#W1"})
    assert result.content[0].text == "cancelled #W1"
    assert person.asked == [] and person.notices == ["--yes: accepted: Cancel order #W1?"]


async def test_yes_still_puts_a_question_with_free_text_to_the_person() -> None:
    person = ScriptedPerson([], interactive=False)
    async with connected(approval_server(), elicitation_callback=elicitation_handler(person, True)) as client:
        result = await client.call_tool("refund", {"order_id": "#W1"})
    assert result.content[0].text == "not refunded (decline)"
