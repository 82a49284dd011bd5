// The customer view: profile, payment methods, and the orders, each of which opens through get_order_details.
import { callTool, h, money, section, startView } from "./common.js";
import { methodLabel, orderView } from "./order-view.js";

function profile(user) {
  const a = user.address;
  const row = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  return h(
    "dl",
    { class: "profile" },
    row("Customer id", user.user_id),
    row("Email", user.email),
    user.phone ? row("Phone", user.phone) : null,
    row(
      "Address",
      h("address", {}, [a.address1, a.address2].filter(Boolean).join(", "), h("br"), `${a.city}, ${a.state} ${a.zip}, ${a.country}`),
    ),
  );
}

function paymentMethods(user) {
  return h(
    "ul",
    { class: "methods" },
    Object.values(user.payment_methods).map((method) =>
      h(
        "li",
        {},
        h("span", {}, methodLabel(method)),
        method.source === "gift_card" ? h("strong", { class: "balance" }, money(method.balance)) : null,
        h("span", { class: "muted small" }, method.id),
      ),
    ),
  );
}

function orders(user, app) {
  const opened = h("div", { class: "opened" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const list = h(
    "ul",
    { class: "order-list" },
    user.orders.map((orderId) => {
      const button = h("button", { type: "button", class: "link" }, `Open order ${orderId}`);
      button.addEventListener("click", async () => {
        status.textContent = `Loading order ${orderId}…`;
        try {
          const order = await callTool(app, "get_order_details", { order_id: orderId });
          status.textContent = "";
          opened.replaceChildren(orderView(order, app));
          opened.querySelector("h1")?.setAttribute("tabindex", "-1");
          opened.querySelector("h1")?.focus();
        } catch (error) {
          status.textContent = "";
          opened.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
        }
      });
      return h("li", {}, button);
    }),
  );
  return [user.orders.length ? list : h("p", { class: "muted" }, "No orders yet."), status, opened];
}

startView("customer", "Waiting for the customer…", (user, app) =>
  h(
    "article",
    { "aria-labelledby": "customer-name" },
    h("header", {}, h("h1", { id: "customer-name" }, `${user.name.first_name} ${user.name.last_name}`)),
    section("Profile", profile(user)),
    section("Payment methods", paymentMethods(user)),
    section("Orders", ...orders(user, app)),
  ),
);
