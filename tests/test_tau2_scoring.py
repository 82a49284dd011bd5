"""The shipped τ²-bench retail tasks and the offline scorer (client_demo/tau2).

The gold actions of every task, replayed through MCP as if an agent had made them, must score as passed; one changed
argument in a gold write must fail the DB check and say what differs; a missing communicate_info string must fail
the communicate check, matched as τ² matches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from shopdesk_demo.tau2 import (
    Action,
    Replayer,
    Task,
    TaskSelectionError,
    expected_state,
    export_state,
    load_splits,
    load_tasks,
    pass_hat_k,
    score,
    select,
)
from shopdesk_demo.tau2.tasks import SPLIT_FILE, TASKS_FILE

# The async tests share one event loop, so the replayers (one server each, built once) serve the whole module.
module_loop = pytest.mark.asyncio(loop_scope="module")

TASKS = load_tasks()
BY_ID = {t.id: t for t in TASKS}
WRITES = {
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_user_address",
}
# Gold writes that shopdesk refuses, with why; τ²'s own tools refuse them too, so they change nothing there either.
# Task 64 tries an exchange on a pending order before modifying it instead; task 105's exchange costs $21.10 more and
# the only payment method, a gift card, holds $17.00 (τ² raises "Insufficient gift card balance").
REFUSED_GOLD_WRITES = {
    ("64", "exchange_delivered_order_items"): "only 'delivered' orders can be exchanged",
    ("105", "exchange_delivered_order_items"): "less than the $21.10 needed",
}


def gold_replays() -> list[Any]:
    """Every task, the fast tier (`-m "not slow"`) keeping the first task of each set of tools its gold actions
    call and those with a refused write: the rest call the same tools on other records."""
    seen: set[frozenset[str]] = set()
    params = []
    for task in TASKS:
        tools = frozenset(a.name for a in task.evaluation_criteria.actions)
        refused = any(task.id == task_id for task_id, _ in REFUSED_GOLD_WRITES)
        params.append(pytest.param(task.id, marks=() if tools not in seen or refused else pytest.mark.slow))
        seen.add(tools)
    return params


@pytest.fixture(scope="module")
def gold_replayer(tau2_template: Path) -> Iterator[Replayer]:
    with Replayer(tau2_template) as replayer:
        yield replayer


@pytest.fixture(scope="module")
def agent_replayer(tau2_template: Path) -> Iterator[Replayer]:
    with Replayer(tau2_template) as replayer:
        yield replayer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def untouched(tau2_template: Path) -> dict[str, Any]:
    return await export_state(tau2_template)


def messages_with(info: list[str]) -> list[str]:
    """What an agent that told the customer everything might have said."""
    return ["Hello! I have looked into your request."] + [f"Here is what I found: {s}." for s in info]


def with_actions(task: Task, actions: list[Action]) -> Task:
    criteria = task.evaluation_criteria.model_copy(update={"actions": actions})
    return task.model_copy(update={"evaluation_criteria": criteria})


def changed(task: Task, index: int, **arguments: Any) -> list[Action]:
    """The task's gold actions with some arguments of action `index` replaced."""
    actions = list(task.evaluation_criteria.actions)
    actions[index] = actions[index].model_copy(update={"arguments": {**actions[index].arguments, **arguments}})
    return actions


def names(task: Task) -> list[str]:
    return [a.name for a in task.evaluation_criteria.actions]


def first_write(name: str, where: Any = lambda task, action: True) -> tuple[Task, int]:
    for task in TASKS:
        for index, action in enumerate(task.evaluation_criteria.actions):
            if action.name == name and (task.id, name) not in REFUSED_GOLD_WRITES and where(task, action):
                return task, index
    raise LookupError(f"no task with a {name} that fits")


# --- the shipped data ---------------------------------------------------------------------------------------------


def test_the_tasks_and_split_ship_in_the_data_folder_beside_the_shop() -> None:
    assert TASKS_FILE.name == "tasks.json.gz" and TASKS_FILE.parent.name == "tau2-retail"
    assert (TASKS_FILE.parent / "db.json.gz").is_file() and (TASKS_FILE.parent / "LICENSE").is_file()
    assert len(TASKS) == 114
    assert len({t.id for t in TASKS}) == 114
    splits = load_splits()
    assert SPLIT_FILE.is_file()
    assert set(splits["train"]).isdisjoint(splits["test"])
    assert set(splits["train"]) | set(splits["test"]) == set(splits["base"]) == set(BY_ID)
    # Typed as τ² defines them: every task has instructions for the customer and a reward basis we know.
    assert all(t.user_scenario.instructions.reason_for_call for t in TASKS)
    assert {b for t in TASKS for b in t.evaluation_criteria.reward_basis} <= {"DB", "NL_ASSERTION"}


# --- every task's gold actions, replayed as a run, pass ----------------------------------------------------------


@module_loop
@pytest.mark.parametrize("task_id", gold_replays())
async def test_gold_actions_replayed_as_a_run_pass(
    task_id: str, gold_replayer: Replayer, agent_replayer: Replayer, untouched: dict[str, Any]
) -> None:
    task = BY_ID[task_id]
    actions = task.evaluation_criteria.actions
    expected = await expected_state(task, gold_replayer.template, replayer=gold_replayer)
    final, outcomes = await agent_replayer.replay(actions)

    result = score(task, final, messages_with(task.evaluation_criteria.communicate_info), expected=expected)

    assert result.passed, result
    assert result.db_match and result.differences == ()
    assert all(result.communicated.values())
    assert result.nl_assertions_evaluated is False
    # The replay really went through: every gold write is carried out, bar the ones τ² refuses as well, and a task
    # with a write leaves a changed shop behind while a task of reads alone changes nothing.
    for outcome in outcomes:
        if outcome.name in WRITES:
            refusal = REFUSED_GOLD_WRITES.get((task_id, outcome.name))
            if refusal is None:
                assert outcome.ok, (outcome.name, outcome.arguments, outcome.error)
            else:
                assert not outcome.ok and outcome.error is not None and refusal in outcome.error
    writes_done = [o for o in outcomes if o.name in WRITES and o.ok]
    assert (final != untouched) == bool(writes_done)


# --- one changed argument fails the DB check and the differences say where ---------------------------------------


async def run_changed(
    task: Task, actions: list[Action], gold_replayer: Replayer, agent_replayer: Replayer
) -> tuple[Any, list[Any]]:
    expected = await expected_state(task, gold_replayer.template, replayer=gold_replayer)
    final, outcomes = await agent_replayer.replay(actions)
    return score(task, final, messages_with(task.evaluation_criteria.communicate_info), expected=expected), outcomes


@module_loop
async def test_cancelling_for_another_reason_fails_the_db_check(
    gold_replayer: Replayer, agent_replayer: Replayer
) -> None:
    task, index = first_write("cancel_pending_order")
    gold = task.evaluation_criteria.actions[index].arguments
    other = "ordered by mistake" if gold["reason"] == "no longer needed" else "no longer needed"

    result, outcomes = await run_changed(task, changed(task, index, reason=other), gold_replayer, agent_replayer)

    assert outcomes[index].ok
    assert not result.db_match and not result.passed
    assert result.differences == (
        f"orders[{gold['order_id']!r}].cancel_reason: expected {gold['reason']!r}, got {other!r}",
    )


@module_loop
async def test_leaving_out_the_cancellation_names_the_status_and_the_missing_refund(
    gold_replayer: Replayer, agent_replayer: Replayer
) -> None:
    task, index = first_write("cancel_pending_order", lambda task, action: names(task).count(action.name) == 1)
    order = task.evaluation_criteria.actions[index].arguments["order_id"]
    reads_only = [a for a in task.evaluation_criteria.actions if a.name not in WRITES]

    result, _ = await run_changed(task, reads_only, gold_replayer, agent_replayer)

    assert not result.passed
    assert f"orders[{order!r}].status: expected 'cancelled', got 'pending'" in result.differences
    refund = [line for line in result.differences if line.startswith(f"orders[{order!r}].payment_history[")]
    assert refund and all(line.endswith(", missing") and "'refund'" in line for line in refund)


@module_loop
async def test_exchanging_for_another_variant_fails_the_db_check(
    gold_replayer: Replayer, agent_replayer: Replayer, untouched: dict[str, Any]
) -> None:
    task, index = first_write("exchange_delivered_order_items")
    gold = task.evaluation_criteria.actions[index].arguments
    order = untouched["orders"][gold["order_id"]]
    old = gold["item_ids"][0]
    product = next(i["product_id"] for i in order["items"] if i["item_id"] == old)
    variants = untouched["products"][product]["variants"].values()
    other = next(
        v["item_id"] for v in variants if v["available"] and v["item_id"] not in (old, gold["new_item_ids"][0])
    )
    new_items = [other, *gold["new_item_ids"][1:]]

    result, outcomes = await run_changed(
        task, changed(task, index, new_item_ids=new_items), gold_replayer, agent_replayer
    )

    assert outcomes[index].ok
    assert not result.db_match and not result.passed
    where = f"orders[{gold['order_id']!r}]"
    assert any(line.startswith(f"{where}.exchange_new_items") for line in result.differences), result.differences
    # The price difference follows the new item, and the paying method's balance with it where it is a gift card.
    assert all(line.startswith(where) or line.startswith("users[") for line in result.differences)


@module_loop
async def test_returning_another_item_fails_the_db_check(
    gold_replayer: Replayer, agent_replayer: Replayer, untouched: dict[str, Any]
) -> None:
    def has_another_item(task: Task, action: Action) -> bool:
        items = {i["item_id"] for i in untouched["orders"][action.arguments["order_id"]]["items"]}
        return bool(items - set(action.arguments["item_ids"]))

    task, index = first_write("return_delivered_order_items", has_another_item)
    gold = task.evaluation_criteria.actions[index].arguments
    items = [i["item_id"] for i in untouched["orders"][gold["order_id"]]["items"]]
    other = next(i for i in items if i not in gold["item_ids"])

    result, outcomes = await run_changed(task, changed(task, index, item_ids=[other]), gold_replayer, agent_replayer)

    assert outcomes[index].ok
    assert not result.passed
    assert f"orders[{gold['order_id']!r}].return_items: expected {sorted(gold['item_ids'])!r}, got {[other]!r}" in (
        result.differences
    )


@module_loop
async def test_a_different_zip_on_a_changed_address_fails_the_db_check(
    gold_replayer: Replayer, agent_replayer: Replayer
) -> None:
    for name, record in (("modify_pending_order_address", "orders"), ("modify_user_address", "users")):
        # A task that changes this address once (task 22 changes the customer's and then puts it back).
        task, index = first_write(name, lambda task, action: names(task).count(action.name) == 1)
        gold = task.evaluation_criteria.actions[index].arguments
        zip_code = "10001" if gold["zip"] != "10001" else "10002"

        result, outcomes = await run_changed(task, changed(task, index, zip=zip_code), gold_replayer, agent_replayer)

        assert outcomes[index].ok
        assert not result.passed
        key = gold["order_id"] if record == "orders" else gold["user_id"]
        assert result.differences == (f"{record}[{key!r}].address.zip: expected {gold['zip']!r}, got {zip_code!r}",)


@module_loop
async def test_paying_an_exchange_another_way_fails_the_db_check(
    gold_replayer: Replayer, agent_replayer: Replayer, untouched: dict[str, Any]
) -> None:
    def user_has_another_card(task: Task, action: Action) -> bool:
        user = untouched["orders"][action.arguments["order_id"]]["user_id"]
        methods = untouched["users"][user]["payment_methods"]
        return any(m != action.arguments["payment_method_id"] and not m.startswith("gift") for m in methods)

    task, index = first_write("exchange_delivered_order_items", user_has_another_card)
    gold = task.evaluation_criteria.actions[index].arguments
    user = untouched["orders"][gold["order_id"]]["user_id"]
    other = next(
        m for m in untouched["users"][user]["payment_methods"] if m != gold["payment_method_id"] and "gift" not in m
    )

    result, outcomes = await run_changed(
        task, changed(task, index, payment_method_id=other), gold_replayer, agent_replayer
    )

    assert outcomes[index].ok
    assert not result.passed
    where = f"orders[{gold['order_id']!r}].exchange_payment_method_id"
    assert f"{where}: expected {gold['payment_method_id']!r}, got {other!r}" in result.differences


@module_loop
async def test_doing_nothing_fails_a_task_with_a_write_and_lists_its_changes(
    gold_replayer: Replayer, untouched: dict[str, Any]
) -> None:
    task = BY_ID["0"]
    expected = await expected_state(task, gold_replayer.template, replayer=gold_replayer)

    result = score(task, untouched, [], expected=expected)

    assert not result.passed and not result.db_match
    assert "orders['#W2378156'].status: expected 'exchange requested', got 'delivered'" in result.differences


@module_loop
async def test_expected_state_on_its_own_copy_leaves_the_template_alone(tau2_template: Path) -> None:
    before = tau2_template.read_bytes()
    task, index = first_write("cancel_pending_order")

    state = await expected_state(task, tau2_template)

    order = task.evaluation_criteria.actions[index].arguments["order_id"]
    assert state["orders"][order]["status"] == "cancelled"
    assert tau2_template.read_bytes() == before


def test_differences_are_capped_with_a_count_of_the_rest() -> None:
    expected = {"orders": {f"#W{n}": {"status": "pending"} for n in range(30)}}
    got = {"orders": {f"#W{n}": {"status": "cancelled"} for n in range(30)}}

    result = score(BY_ID["33"], got, [], expected=expected)

    assert len(result.differences) == 21
    assert result.differences[0] == "orders['#W0'].status: expected 'pending', got 'cancelled'"
    assert result.differences[-1] == "... and 10 more differences"


# --- communicate_info: matched as τ² matches it ------------------------------------------------------------------


def test_communicate_matching_ignores_case_and_commas_in_the_message() -> None:
    task = BY_ID["16"]  # must tell the refund total, 8276.23
    assert task.evaluation_criteria.communicate_info == ["8276.23"]

    said = score(task, {}, ["Your total refund is $8,276.23."], expected={})
    assert said.communicated == {"8276.23": True} and said.passed

    colours = BY_ID["24"]  # polyester and cotton
    shouted = score(colours, {}, ["One is POLYESTER,", "the other Cotton."], expected={})
    assert shouted.communicated == {"polyester": True, "cotton": True} and shouted.passed


def test_a_missing_communicate_info_string_fails() -> None:
    task = BY_ID["19"]  # 54.04 and 41.64
    result = score(task, {}, ["The water bottle refund is $54.04."], expected={})

    assert result.communicated == {"54.04": True, "41.64": False}
    assert not result.communicate_ok
    assert not result.passed
    assert result.checks == ("DB", "COMMUNICATE")
    # A near miss is still a miss: the string must appear as it is, digit for digit.
    assert not score(task, {}, ["$54.04 back, and you save $41.6"], expected={}).passed


def test_communicate_is_checked_when_the_basis_names_it() -> None:
    task = BY_ID["19"]
    criteria = task.evaluation_criteria.model_copy(update={"reward_basis": ["DB", "COMMUNICATE"]})
    as_first_released = task.model_copy(update={"evaluation_criteria": criteria})

    result = score(as_first_released, {}, ["$54.04"], expected={}, communicate_for_nl=False)

    assert not result.passed and result.checks == ("DB", "COMMUNICATE") and result.not_evaluated == ()


def test_nl_assertions_are_reported_as_not_evaluated() -> None:
    task = BY_ID["19"]
    # Without the stand-in, NL_ASSERTION is not judged, so the missing string does not count.
    result = score(task, {}, ["$54.04"], expected={}, communicate_for_nl=False)
    assert result.passed
    assert result.checks == ("DB",) and result.not_evaluated == ("NL_ASSERTION",)
    assert result.nl_assertions_evaluated is False
    assert result.nl_assertions == tuple(task.evaluation_criteria.nl_assertions or ())

    # A task whose basis is DB alone never checks what was said; one with assertions but no strings only the DB.
    assert score(BY_ID["33"], {}, [], expected={}).checks == ("DB",)
    assert score(BY_ID["113"], {}, [], expected={}).checks == ("DB",)


def test_the_db_check_compares_the_whole_state() -> None:
    task = BY_ID["33"]
    state = {"products": {"1": {"variants": {"2": {"price": 10.0, "available": True}}}}}
    other = json.loads(json.dumps(state))
    other["products"]["1"]["variants"]["2"]["available"] = False

    assert score(task, state, [], expected=json.loads(json.dumps(state))).passed
    result = score(task, other, [], expected=state)
    assert not result.passed
    assert result.differences == ("products['1'].variants['2'].available: expected True, got False",)

    paid = {"orders": {"#W1": {"payment_history": [{"transaction_type": "payment", "amount": 5.0}]}}}
    refunded = json.loads(json.dumps(paid))
    refunded["orders"]["#W1"]["payment_history"].append({"transaction_type": "refund", "amount": 5.0})
    assert score(task, refunded, [], expected=paid).differences == (
        "orders['#W1'].payment_history[1]: not expected, got {'transaction_type': 'refund', 'amount': 5.0}",
    )


# --- pass^k ------------------------------------------------------------------------------------------------------


def test_pass_hat_k_by_hand() -> None:
    trials = {"a": [True, True, False, False], "b": [True, True, True, True], "c": [False, True, False, True]}
    # k=1: mean success rate: (2/4 + 4/4 + 2/4) / 3 = 2/3
    assert pass_hat_k(trials, 1) == pytest.approx(float(Fraction(2, 3)))
    # k=2: C(2,2)/C(4,2) = 1/6 for a and c, 1 for b: (1/6 + 1 + 1/6) / 3 = 4/9
    assert pass_hat_k(trials, 2) == pytest.approx(float(Fraction(4, 9)))
    # k=3: only b can draw three successes: (0 + 1 + 0) / 3
    assert pass_hat_k(trials, 3) == pytest.approx(1 / 3)
    assert pass_hat_k(trials, 4) == pytest.approx(1 / 3)
    # Tasks with different numbers of trials each use their own n.
    assert pass_hat_k({"x": [True, False], "y": [True, True, False]}, 2) == pytest.approx((0 + 1 / 3) / 2)


def test_pass_hat_k_needs_k_trials_for_every_task() -> None:
    with pytest.raises(ValueError, match="at least 3 trials per task; too few for task"):
        pass_hat_k({"a": [True, True, True], "b": [True, False]}, 3)
    with pytest.raises(ValueError, match="at least 1"):
        pass_hat_k({"a": [True]}, 0)
    with pytest.raises(ValueError, match="no tasks"):
        pass_hat_k({}, 1)


# --- choosing tasks ----------------------------------------------------------------------------------------------


def ids(spec: str) -> list[str]:
    return [t.id for t in select(spec)]


def test_select_by_ids_ranges_splits_and_all() -> None:
    assert ids("0,5,7") == ["0", "5", "7"]
    assert ids("0-9") == [str(n) for n in range(10)]
    # In the order of the task file, each once, parts mixed freely.
    assert ids("7, 0-2 ,1") == ["0", "1", "2", "7"]
    splits = load_splits()
    assert ids("train") == list(splits["train"]) and len(splits["train"]) == 74
    assert ids("test") == list(splits["test"]) and len(splits["test"]) == 40
    assert ids("all") == ids("train,test") == ids("base") == [t.id for t in TASKS]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("200", "no task or split '200'; task ids run 0-113; splits: base, test, train, or all"),
        ("5,valid", "no task or split 'valid'"),
        ("9-3", "range '9-3' runs backwards; write 3-9"),
        ("110-120", "range '110-120' includes ids with no task: 114, 115, 116, 117, 118 and 2 more"),
        ("a-b", "'a-b' is not a range of task ids like 0-9"),
        ("", "empty task selection"),
        ("1,,2", "empty task selection"),
    ],
)
def test_select_says_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(TaskSelectionError) as caught:
        select(spec)
    assert message in str(caught.value)


def test_a_split_naming_a_missing_task_is_an_error() -> None:
    with pytest.raises(TaskSelectionError, match="split 'small' names tasks that do not exist: 999"):
        select("small", splits={"small": ("0", "999")})
