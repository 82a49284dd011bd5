"""What the SDK's Python client (`mcp.Client`, over stdio) pays to validate each result against the tool's
output schema: the same calls with its validation on and off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench_cases import FLOOR, STATUSES, Call, Options, figures, interleaved
from bench_clients import CallFailed
from bench_servers import PYTHON, ROOT, floor_command, server_env, shop_command
from bench_shops import Samples, Shop


async def sdk_client_run(shop: Shop, options: Options) -> dict[str, Any]:
    """`mcp.Client` over stdio, validation on and off, against the floor through the same client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = server_env()
    floor_params = StdioServerParameters(command=PYTHON, args=floor_command(None)[1:], env=env, cwd=ROOT)
    shop_args = shop_command(shop.db, "off", None)[1:]
    shop_params = StdioServerParameters(command=PYTHON, args=shop_args, env=env, cwd=ROOT)
    with open(options.logs / f"{shop.name}-sdk.log", "a") as log:
        return await _sdk_client_calls(
            Client(stdio_client(floor_params, errlog=log)),
            Client(stdio_client(shop_params, errlog=log)),
            shop.found,
            options,
        )


async def _sdk_client_calls(floor_client: Any, shop_client: Any, found: Samples, options: Options) -> dict[str, Any]:
    from mcp import Client

    async with floor_client as floor, shop_client as shop:
        await floor.list_tools()
        await shop.list_tools()

        async def skip(name: str, result: Any) -> None:
            return None

        def setter(client: Client, on: bool) -> None:
            # The SDK has no switch for it: off, this session's own validation step is shadowed by a no-op.
            if on:
                vars(client.session).pop("validate_tool_result", None)
            else:
                client.session.validate_tool_result = skip  # type: ignore[method-assign]

        calls: dict[str, tuple[Client, str, Callable[[int], dict[str, Any]]]] = {
            FLOOR: (floor, "noop", lambda n: {"order_id": found.orders[n % len(found.orders)]}),
            "get_order_details": (
                shop,
                "get_order_details",
                lambda n: {"order_id": found.orders[n % len(found.orders)]},
            ),
            "get_user_details": (shop, "get_user_details", lambda n: {"user_id": found.users[n % len(found.users)]}),
            "search_orders": (shop, "search_orders", lambda n: {"status": STATUSES[n % len(STATUSES)]}),
        }
        cases: dict[str, Call] = {}
        for name, (client, tool, arguments) in calls.items():
            for on in (True, False):

                async def call(
                    n: int, client: Client = client, tool: str = tool, on: bool = on, arguments: Any = arguments
                ) -> None:
                    setter(client, on)
                    result = await client.call_tool(tool, arguments(n))
                    if result.is_error:
                        raise CallFailed(str(result.content)[:200])

                cases[f"{name}|{'validated' if on else 'unvalidated'}"] = call
        times = await interleaved(cases, options.sdk_calls, options.rounds, options.warmup)
        for client in (floor, shop):
            setter(client, True)
    floor_p50 = figures(times[f"{FLOOR}|validated"])["p50_ms"]
    out: dict[str, Any] = {}
    for name in calls:
        validated = figures(times[f"{name}|validated"])["p50_ms"]
        unvalidated = figures(times[f"{name}|unvalidated"])["p50_ms"]
        out[name] = {
            "validated_p50_ms": validated,
            "unvalidated_p50_ms": unvalidated,
            "validation_us": (validated - unvalidated) * 1000,  # the difference of the medians
            "validation_ratio": validated / unvalidated,
            "ratio_to_floor": validated / floor_p50,
        }
    return out
