import { assign, setup } from "xstate";
import { defineWorkflow, NonRetryableError, step, type StepArgs, type StepConfig } from "../index";
import { required } from "./params";

/**
 * A grocery-shopping agent: compile a shopping list from the week's meals,
 * check stock at the store (out-of-stock items are swapped for a substitute,
 * or dropped when there is none), place the order, then wait up to two days
 * for the delivery to be confirmed.
 *
 * Nothing outside is called: the recipe book and the store are simulated
 * inside the step bodies. The store's checkout times out twice before it
 * takes an order (attempts 1 and 2 fail, 3 succeeds), so the order step shows
 * its retries; an order over budget is refused with a NonRetryableError and
 * the agent stops at "overBudget" without retrying.
 */

export interface GroceryParams {
  meals: string[];
  /** In dollars, delivery fee included. */
  budget: number;
}

export interface ListItem {
  name: string;
  qty: number;
}

export interface OrderLine {
  name: string;
  qty: number;
  unitPriceCents: number;
  /** The item on the list this line stands in for, when the store had to substitute. */
  substitutedFor: string | null;
}

export interface PlacedOrder {
  orderId: string;
  totalCents: number;
}

export type GroceryOutcome = "delivered" | "undelivered" | "overBudget" | "nothingToOrder" | "failed";

export type GroceryEvent = { type: "delivered"; payload?: { receivedBy?: string } };

export interface GroceryContext {
  meals: string[];
  budgetCents: number;
  list: ListItem[];
  unknownMeals: string[];
  lines: OrderLine[];
  unavailable: string[];
  order: PlacedOrder | null;
  receivedBy: string | null;
  error: string | null;
  outcome: GroceryOutcome | null;
}

export interface GroceryOutput {
  outcome: GroceryOutcome | null;
  list: ListItem[];
  unknownMeals: string[];
  substitutions: { wanted: string; got: string }[];
  unavailable: string[];
  order: PlacedOrder | null;
  budgetCents: number;
  receivedBy: string | null;
  error: string | null;
}

/** The simulated recipe book. */
export const RECIPES: Record<string, ListItem[]> = {
  pasta: [
    { name: "spaghetti", qty: 1 },
    { name: "tomatoes", qty: 4 },
    { name: "basil", qty: 1 },
    { name: "parmesan", qty: 1 },
  ],
  tacos: [
    { name: "tortillas", qty: 1 },
    { name: "ground beef", qty: 1 },
    { name: "tomatoes", qty: 2 },
    { name: "cheddar", qty: 1 },
    { name: "lettuce", qty: 1 },
  ],
  salad: [
    { name: "lettuce", qty: 1 },
    { name: "tomatoes", qty: 2 },
    { name: "cucumber", qty: 1 },
    { name: "feta", qty: 1 },
  ],
  omelette: [
    { name: "eggs", qty: 1 },
    { name: "cheddar", qty: 1 },
  ],
};

/** The simulated store's shelves: a price in cents, or out of stock with perhaps a substitute. */
export const STORE: Record<string, { priceCents: number } | { outOfStock: true; substitute: string | null }> = {
  spaghetti: { priceCents: 199 },
  tomatoes: { priceCents: 79 },
  basil: { outOfStock: true, substitute: "dried basil" },
  "dried basil": { priceCents: 249 },
  parmesan: { priceCents: 599 },
  tortillas: { priceCents: 349 },
  "ground beef": { priceCents: 699 },
  cheddar: { priceCents: 449 },
  lettuce: { priceCents: 229 },
  cucumber: { priceCents: 99 },
  feta: { outOfStock: true, substitute: null },
  eggs: { priceCents: 399 },
};

export const DELIVERY_FEE_CENTS = 499;

const DELIVERY_WINDOW_MS = 2 * 24 * 60 * 60 * 1000;

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

const groceryMachine = setup({
  types: {
    context: {} as GroceryContext,
    input: {} as GroceryParams,
    events: {} as GroceryEvent,
    output: {} as GroceryOutput,
  },
  actors: {
    compileList: step(async ({ input }: StepArgs<{ meals: string[] }>) => {
      const totals = new Map<string, number>();
      const unknownMeals: string[] = [];
      for (const meal of input.meals) {
        const recipe = RECIPES[meal.trim().toLowerCase()];
        if (!recipe) {
          unknownMeals.push(meal);
          continue;
        }
        for (const item of recipe) totals.set(item.name, (totals.get(item.name) ?? 0) + item.qty);
      }
      const items = [...totals].map(([name, qty]) => ({ name, qty })).sort((a, b) => (a.name < b.name ? -1 : 1));
      return { items, unknownMeals };
    }),
    checkStock: step(async ({ input }: StepArgs<{ items: ListItem[] }>) => {
      const lines: OrderLine[] = [];
      const unavailable: string[] = [];
      for (const item of input.items) {
        const shelf = STORE[item.name];
        if (shelf && "priceCents" in shelf) {
          lines.push({ name: item.name, qty: item.qty, unitPriceCents: shelf.priceCents, substitutedFor: null });
          continue;
        }
        const substitute = shelf?.substitute ? STORE[shelf.substitute] : undefined;
        if (shelf?.substitute && substitute && "priceCents" in substitute) {
          lines.push({ name: shelf.substitute, qty: item.qty, unitPriceCents: substitute.priceCents, substitutedFor: item.name });
        } else {
          unavailable.push(item.name);
        }
      }
      return { lines, unavailable };
    }),
    placeOrder: step(async ({ input, attempt, stepId }: StepArgs<{ lines: OrderLine[]; budgetCents: number }>): Promise<PlacedOrder> => {
      const totalCents = input.lines.reduce((sum, line) => sum + line.qty * line.unitPriceCents, DELIVERY_FEE_CENTS);
      if (totalCents > input.budgetCents) {
        throw new NonRetryableError(`the order comes to ${dollars(totalCents)}, over the budget of ${dollars(input.budgetCents)}`);
      }
      // The store's checkout is flaky: it times out twice before it takes the order.
      if (attempt <= 2) throw new Error(`store checkout timed out on attempt ${attempt} (simulated transient error)`);
      // stepId is the store's idempotency key: a retried or re-run checkout can never order twice.
      return { orderId: `ord-${stepId}`, totalCents };
    }),
  },
  delays: { deliveryWindow: DELIVERY_WINDOW_MS },
  guards: {
    refusedForGood: ({ event }) => "error" in event && (event.error as { name?: unknown } | undefined)?.name === "NonRetryableError",
  },
  actions: {
    recordError: assign({ error: ({ event }) => ("error" in event ? String((event.error as { message?: unknown } | undefined)?.message ?? event.error) : null) }),
  },
}).createMachine({
  id: "grocery-agent",
  context: ({ input }) => ({
    meals: required(input?.meals, 'grocery-agent needs params like {"meals": ["pasta"], "budget": 80}'),
    budgetCents: Math.round(input.budget * 100),
    list: [],
    unknownMeals: [],
    lines: [],
    unavailable: [],
    order: null,
    receivedBy: null,
    error: null,
    outcome: null,
  }),
  initial: "compilingList",
  states: {
    compilingList: {
      invoke: {
        id: "compile",
        src: "compileList",
        input: ({ context }) => ({ meals: context.meals }),
        onDone: { target: "checkingStock", actions: assign({ list: ({ event }) => event.output.items, unknownMeals: ({ event }) => event.output.unknownMeals }) },
        onError: { target: "failed", actions: "recordError" },
      },
    },
    checkingStock: {
      invoke: {
        id: "stock",
        src: "checkStock",
        input: ({ context }) => ({ items: context.list }),
        onDone: { target: "reviewingCart", actions: assign({ lines: ({ event }) => event.output.lines, unavailable: ({ event }) => event.output.unavailable }) },
        onError: { target: "failed", actions: "recordError" },
      },
    },
    reviewingCart: {
      always: [{ guard: ({ context }) => context.lines.length === 0, target: "nothingToOrder" }, { target: "ordering" }],
    },
    ordering: {
      invoke: {
        id: "order",
        src: "placeOrder",
        input: ({ context }) => ({ lines: context.lines, budgetCents: context.budgetCents }),
        onDone: { target: "awaitingDelivery", actions: assign({ order: ({ event }) => event.output }) },
        onError: [
          { guard: "refusedForGood", target: "overBudget", actions: "recordError" },
          { target: "failed", actions: "recordError" },
        ],
      },
    },
    awaitingDelivery: {
      on: { delivered: { target: "delivered", actions: assign({ receivedBy: ({ event }) => event.payload?.receivedBy ?? null }) } },
      after: { deliveryWindow: "undelivered" },
    },
    delivered: { type: "final", entry: assign({ outcome: "delivered" }) },
    undelivered: { type: "final", entry: assign({ outcome: "undelivered" }) },
    overBudget: { type: "final", entry: assign({ outcome: "overBudget" }) },
    nothingToOrder: { type: "final", entry: assign({ outcome: "nothingToOrder" }) },
    failed: { type: "final", entry: assign({ outcome: "failed" }) },
  },
  output: ({ context }) => ({
    outcome: context.outcome,
    list: context.list,
    unknownMeals: context.unknownMeals,
    substitutions: context.lines.filter((line) => line.substitutedFor !== null).map((line) => ({ wanted: line.substitutedFor!, got: line.name })),
    unavailable: context.unavailable,
    order: context.order,
    budgetCents: context.budgetCents,
    receivedBy: context.receivedBy,
    error: context.error,
  }),
});

const quick: StepConfig = { retries: { limit: 2, delay: "5 seconds", backoff: "constant" }, timeout: "1 minute" };

export const groceryAgent = defineWorkflow({
  name: "grocery-agent",
  machine: groceryMachine,
  steps: {
    compileList: quick,
    checkStock: quick,
    placeOrder: { retries: { limit: 4, delay: "10 seconds", backoff: "exponential" }, timeout: "2 minutes" },
  },
});
