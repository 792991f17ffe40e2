import { DELIVERY_FEE_CENTS, type GroceryOutput, type GroceryParams } from "./grocery-agent";

/**
 * The grocery agent's scenario, shared by its tests on every host:
 * machines/grocery-agent.test.ts (memory host, Node), test/examples.test.ts
 * and test/examples-http.test.ts (inside workerd).
 */

export const WEEK: GroceryParams = { meals: ["pasta", "tacos", "Salad", "haggis"], budget: 50 };

export const LIST = [
  { name: "basil", qty: 1 },
  { name: "cheddar", qty: 1 },
  { name: "cucumber", qty: 1 },
  { name: "feta", qty: 1 },
  { name: "ground beef", qty: 1 },
  { name: "lettuce", qty: 2 },
  { name: "parmesan", qty: 1 },
  { name: "spaghetti", qty: 1 },
  { name: "tomatoes", qty: 8 },
  { name: "tortillas", qty: 1 },
];

// dried basil 249 + cheddar 449 + cucumber 99 + ground beef 699 + lettuce 2 x 229 + parmesan 599 + spaghetti 199
// + tomatoes 8 x 79 + tortillas 349, plus the delivery fee (499); feta is out of stock with no substitute.
export const TOTAL_CENTS = 249 + 449 + 99 + 699 + 2 * 229 + 599 + 199 + 8 * 79 + 349 + DELIVERY_FEE_CENTS;

/** The output of WEEK, delivered to the front desk: what machines/grocery-agent.test.ts expects of the memory host. */
export const DELIVERED: GroceryOutput = {
  outcome: "delivered",
  list: LIST,
  unknownMeals: ["haggis"],
  substitutions: [{ wanted: "basil", got: "dried basil" }],
  unavailable: ["feta"],
  order: { orderId: "ord-order#1", totalCents: TOTAL_CENTS },
  budgetCents: 5000,
  receivedBy: "front desk",
  error: null,
};

/** The output of WEEK with a $40 budget: the order is refused as over budget. */
export const OVER_BUDGET: GroceryOutput = {
  outcome: "overBudget",
  list: LIST,
  unknownMeals: ["haggis"],
  substitutions: [{ wanted: "basil", got: "dried basil" }],
  unavailable: ["feta"],
  order: null,
  budgetCents: 4000,
  receivedBy: null,
  error: "the order comes to $42.32, over the budget of $40.00",
};
