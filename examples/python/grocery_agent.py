"""
A grocery agent: compile a shopping list from the week's meals, check stock at the store (an item out of stock is
swapped for a substitute, or dropped), place the order, then pay for it.

The store and the bank are simulated. The store's stock service times out on the first call (a flaky step, retried
by its `config`), and the order has a rollback: when the bank declines the payment (the total is over the budget),
run() fails and the engine cancels the order it placed. Cloudflare's Python SDK has no rollbacks; the TypeScript form
does, with the same rules.
"""

from __future__ import annotations

import logging
from typing import Any

from durable_machines import NonRetryableError, WorkflowEntrypoint

RECIPES: dict[str, dict[str, int]] = {
    "pasta": {"spaghetti": 1, "tomatoes": 4, "basil": 1, "parmesan": 1},
    "tacos": {"tortillas": 1, "beans": 2, "tomatoes": 2, "cheddar": 1},
    "salad": {"lettuce": 1, "tomatoes": 2, "cucumber": 1},
}
# What the store has: price in cents, or None when out of stock.
STORE: dict[str, int | None] = {
    "spaghetti": 189, "tomatoes": 65, "basil": None, "parsley": 99, "parmesan": 549, "tortillas": 299,
    "beans": 129, "cheddar": None, "lettuce": 149, "cucumber": None,
}
SUBSTITUTES = {"basil": "parsley", "cheddar": "parmesan"}


class GroceryAgent(WorkflowEntrypoint):
    async def run(self, event, step):
        meals: list[str] = event["payload"]["meals"]
        budget_cents = round(event["payload"]["budget"] * 100)

        @step.do()
        def compile_list() -> dict[str, int]:
            wanted: dict[str, int] = {}
            for meal in meals:
                if meal not in RECIPES:
                    raise NonRetryableError(f"no recipe for {meal!r}; known: {', '.join(sorted(RECIPES))}")
                for item, qty in RECIPES[meal].items():
                    wanted[item] = wanted.get(item, 0) + qty
            return wanted

        @step.do(config={"retries": {"limit": 3, "delay": "1 second", "backoff": "exponential"}})
        def check_stock(compile_list: dict[str, int], ctx: Any) -> dict[str, Any]:
            if ctx["attempt"] == 1:
                raise TimeoutError("the store's stock service timed out (simulated)")
            lines: dict[str, dict[str, Any]] = {}
            unavailable: list[str] = []
            for item, qty in sorted(compile_list.items()):
                got = item if STORE.get(item) is not None else SUBSTITUTES.get(item)
                if got is None or STORE.get(got) is None:
                    unavailable.append(item)
                    continue
                line = lines.setdefault(got, {"item": got, "qty": 0, "cents": STORE[got], "standsInFor": []})
                line["qty"] += qty
                if got != item:
                    line["standsInFor"].append(item)
            return {"lines": list(lines.values()), "unavailable": unavailable}

        def cancel_order(undo: dict[str, Any]) -> None:
            # The store would be asked to cancel the order by its id (so asking twice is harmless); simulated, it only logs.
            logging.getLogger("grocery-agent").info("cancelled %s: %s", undo["output"]["orderId"], undo["error"])

        @step.do(rollback=cancel_order)
        def place_order(check_stock: dict[str, Any]) -> dict[str, Any]:
            total = sum(line["qty"] * line["cents"] for line in check_stock["lines"])
            # An order id from the instance id: placing it again after a crash is the same order, not a second one.
            return {"orderId": f"order-{event['instanceId']}", "lines": check_stock["lines"], "unavailable": check_stock["unavailable"], "totalCents": total}

        @step.do()
        def pay(place_order: dict[str, Any]) -> str:
            if place_order["totalCents"] > budget_cents:
                raise NonRetryableError(f"card declined: {place_order['totalCents']} cents is over the budget of {budget_cents}")
            return f"paid {place_order['totalCents']} cents for {place_order['orderId']}"

        return {"order": await place_order(), "receipt": await pay()}
