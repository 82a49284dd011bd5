// The order view: status timeline, items, payments, address; for a delivered order, the return/exchange picker.
import { badge, callTool, h, money, options, section, when } from "./common.js";

const AFTER_DELIVERY = ["delivered", "return requested", "exchange requested"];

function steps(order) {
  const status = order.status;
  const tracking = order.fulfillments.flatMap((f) => f.tracking_id);
  const placed = { label: "Placed", detail: when(order.placed_at), done: true };
  if (status === "cancelled") {
    return [placed, { label: "Cancelled", detail: order.cancel_reason || "", done: true, end: true }];
  }
  const list = [
    placed,
    { label: "Processed", done: !status.startsWith("pending") },
    {
      label: "Shipped",
      detail: tracking.length ? `Tracking ${tracking.join(", ")}` : "",
      done: tracking.length > 0,
    },
    { label: "Delivered", done: AFTER_DELIVERY.includes(status) },
  ];
  if (status === "return requested") {
    const count = (order.return_items || []).length;
    list.push({
      label: "Return requested",
      detail: `${count} item${count === 1 ? "" : "s"}, refund to ${order.return_payment_method_id}`,
      done: true,
      end: true,
    });
  } else if (status === "exchange requested") {
    const count = (order.exchange_items || []).length;
    list.push({
      label: "Exchange requested",
      detail: `${count} item${count === 1 ? "" : "s"}, price difference ${money(order.exchange_price_difference)}`,
      done: true,
      end: true,
    });
  }
  return list;
}

function timeline(order) {
  const list = steps(order);
  const current = list.map((step) => step.done).lastIndexOf(true);
  return h(
    "ol",
    { class: "timeline", "aria-label": "Order progress" },
    list.map((step, index) =>
      h(
        "li",
        {
          class: `step ${step.done ? "done" : "todo"}${step.end ? " end" : ""}`,
          "aria-current": index === current ? "step" : null,
        },
        h("span", { class: "dot", "aria-hidden": "true" }),
        h("span", { class: "step-label" }, step.label),
        h("span", { class: "visually-hidden" }, step.done ? " (done)" : " (not yet)"),
        step.detail ? h("span", { class: "step-detail" }, step.detail) : null,
      ),
    ),
  );
}

function itemsTable(order) {
  const total = order.items.reduce((sum, item) => sum + item.price, 0);
  return h(
    "table",
    { class: "items" },
    h("caption", { class: "visually-hidden" }, `Items of order ${order.order_id}`),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col" }, "Options"), h("th", { scope: "col", class: "num" }, "Price")),
    ),
    h(
      "tbody",
      {},
      order.items.map((item) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, item.name, h("div", { class: "muted small" }, item.item_id)),
          h("td", {}, options(item.options)),
          h("td", { class: "num" }, money(item.price)),
        ),
      ),
    ),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "2" }, "Total"), h("td", { class: "num" }, money(total)))),
  );
}

function paymentsTable(order) {
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, `Payments and refunds of order ${order.order_id}`),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Method"), h("th", { scope: "col", class: "num" }, "Amount")),
    ),
    h(
      "tbody",
      {},
      order.payment_history.map((entry) =>
        h(
          "tr",
          {},
          h("td", {}, entry.transaction_type === "refund" ? "Refund" : "Payment"),
          h("td", {}, entry.payment_method_id),
          h("td", { class: "num" }, (entry.transaction_type === "refund" ? "−" : "") + money(entry.amount)),
        ),
      ),
    ),
  );
}

function address(a) {
  return h(
    "address",
    {},
    a.address1,
    a.address2 ? h("br") : null,
    a.address2 || null,
    h("br"),
    `${a.city}, ${a.state} ${a.zip}`,
    h("br"),
    a.country,
  );
}

export function methodLabel(method) {
  if (method.source === "credit_card") return `${method.brand} card ending ${method.last_four}`;
  if (method.source === "paypal") return "PayPal";
  if (method.source === "gift_card") return `Gift card (balance ${money(method.balance)})`;
  return method.id;
}

let pickerCount = 0;

/** The return/exchange picker of a delivered order; `done(order)` gets the order as the server changed it. */
function picker(order, app, done) {
  const n = ++pickerCount;
  const id = (name) => `picker-${n}-${name}`;
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const alert = h("div", { class: "error", role: "alert" });
  const panel = h("div", { class: "picker", id: id("panel"), role: "region", "aria-label": "Return or exchange items" });
  const products = new Map();
  let methods = null;

  const boxes = order.items.map((item, index) =>
    h("input", { type: "checkbox", id: id(`item-${index}`), value: String(index), name: "item" }),
  );
  const itemsField = h(
    "fieldset",
    {},
    h("legend", {}, "Items to send back"),
    order.items.map((item, index) =>
      h(
        "div",
        { class: "choice" },
        boxes[index],
        h("label", { for: id(`item-${index}`) }, `${item.name} — ${options(item.options)} — ${money(item.price)}`),
      ),
    ),
  );
  const kindReturn = h("input", { type: "radio", name: id("kind"), id: id("return"), value: "return", checked: true });
  const kindExchange = h("input", { type: "radio", name: id("kind"), id: id("exchange"), value: "exchange" });
  const kindField = h(
    "fieldset",
    {},
    h("legend", {}, "The customer wants"),
    h("div", { class: "choice" }, kindReturn, h("label", { for: id("return") }, "a refund (return)")),
    h("div", { class: "choice" }, kindExchange, h("label", { for: id("exchange") }, "other variants (exchange)")),
  );
  const methodSelect = h("select", { id: id("method") });
  const methodLabelNode = h("label", { for: id("method") }, "Refund to");
  const replacements = h("div", { class: "replacements" });
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const review = h("button", { type: "submit" }, "Review");
  const cancel = h("button", { type: "button", class: "secondary", onclick: () => done(null) }, "Close");
  const form = h(
    "form",
    { novalidate: true },
    itemsField,
    kindField,
    replacements,
    h("div", { class: "field" }, methodLabelNode, methodSelect),
    summary,
    h("div", { class: "actions" }, review, cancel),
  );

  const ticked = () => boxes.filter((box) => box.checked).map((box) => order.items[Number(box.value)]);
  const exchanging = () => kindExchange.checked;

  function fillMethods() {
    const all = Object.values(methods || {});
    const paidWith = new Set(order.payment_history.filter((p) => p.transaction_type === "payment").map((p) => p.payment_method_id));
    // A return is refunded to the original payment method or a gift card; an exchange's difference may use any method.
    const offered = exchanging() ? all : all.filter((m) => paidWith.has(m.id) || m.source === "gift_card");
    for (const idPaid of paidWith) if (!all.some((m) => m.id === idPaid)) offered.unshift({ id: idPaid, source: "" });
    const previous = methodSelect.value;
    methodSelect.replaceChildren(
      ...offered.map((m) =>
        h("option", { value: m.id }, `${methodLabel(m)}${paidWith.has(m.id) ? " — paid with" : ""} (${m.id})`),
      ),
    );
    if (offered.some((m) => m.id === previous)) methodSelect.value = previous;
    methodLabelNode.textContent = exchanging() ? "Charge or refund the difference with" : "Refund to";
  }

  async function fillReplacements() {
    replacements.replaceChildren();
    if (!exchanging()) return;
    const items = ticked();
    for (const productId of new Set(items.map((item) => item.product_id))) {
      if (!products.has(productId)) products.set(productId, await callTool(app, "get_product_details", { product_id: productId }));
    }
    replacements.replaceChildren(
      ...boxes
        .filter((box) => box.checked)
        .map((box) => {
          const item = order.items[Number(box.value)];
          const variants = Object.values(products.get(item.product_id).variants).filter(
            (v) => v.available && v.item_id !== item.item_id,
          );
          const select = h(
            "select",
            { id: id(`new-${box.value}`), "data-index": box.value },
            variants.length ? null : h("option", { value: "" }, "No other variant is available"),
            variants.map((v) => h("option", { value: v.item_id }, `${options(v.options)} — ${money(v.price)}`)),
          );
          select.addEventListener("change", update);
          return h(
            "div",
            { class: "field" },
            h("label", { for: select.id }, `Replacement for ${item.name} (${options(item.options)})`),
            select,
          );
        }),
    );
  }

  function choice() {
    const items = ticked();
    const paid = items.reduce((sum, item) => sum + item.price, 0);
    if (!exchanging()) return { items, amount: paid };
    const newIds = items.map((item, i) => {
      const select = replacements.querySelectorAll("select")[i];
      return select ? select.value : "";
    });
    const newPrice = items.reduce((sum, item, i) => {
      const variant = products.get(item.product_id)?.variants[newIds[i]];
      return sum + (variant ? variant.price : item.price);
    }, 0);
    return { items, newIds, amount: newPrice - paid };
  }

  function update() {
    const { items, amount } = choice();
    if (!items.length) summary.textContent = "Tick the items the customer sends back.";
    else if (!exchanging()) summary.textContent = `Refund: ${money(amount)} for ${items.length} item${items.length === 1 ? "" : "s"}.`;
    else if (amount > 0) summary.textContent = `Price difference: the customer pays ${money(amount)}.`;
    else summary.textContent = `Price difference: the customer gets ${money(-amount)} back.`;
  }

  async function changed() {
    alert.replaceChildren();
    fillMethods();
    try {
      await fillReplacements();
    } catch (error) {
      alert.replaceChildren(h("p", {}, error.message));
    }
    update();
  }
  for (const input of [...boxes, kindReturn, kindExchange]) input.addEventListener("change", changed);

  function confirmStep(call, words) {
    const heading = h("h3", { tabindex: "-1" }, "Please confirm");
    const yes = h("button", { type: "button" }, exchanging() ? "Confirm exchange" : "Confirm return");
    const back = h("button", { type: "button", class: "secondary" }, "Go back");
    const box = h("div", { class: "confirm" }, heading, h("p", {}, words), alert, status, h("div", { class: "actions" }, yes, back));
    back.addEventListener("click", () => {
      alert.replaceChildren();
      status.textContent = "";
      panel.replaceChildren(form);
      review.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      back.disabled = true;
      alert.replaceChildren();
      status.textContent = "Sending the request to the shop…";
      try {
        const changedOrder = await callTool(app, call.name, call.arguments);
        done(changedOrder, `${exchanging() ? "Exchange" : "Return"} requested for order ${order.order_id}.`);
      } catch (error) {
        status.textContent = "";
        alert.replaceChildren(h("p", {}, error.message));
        back.disabled = false;
        back.focus();
      }
    });
    panel.replaceChildren(box);
    heading.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { items, newIds, amount } = choice();
    alert.replaceChildren();
    if (!items.length) {
      alert.replaceChildren(h("p", {}, "Tick at least one item."));
      return;
    }
    if (!methodSelect.value) {
      alert.replaceChildren(h("p", {}, "Choose a payment method."));
      return;
    }
    const names = items.map((item) => `${item.name} (${options(item.options)})`).join("; ");
    const method = methodSelect.selectedOptions[0]?.textContent || methodSelect.value;
    const base = { order_id: order.order_id, item_ids: items.map((item) => item.item_id), payment_method_id: methodSelect.value };
    if (!exchanging()) {
      confirmStep(
        { name: "return_delivered_order_items", arguments: base },
        `Return ${names} from order ${order.order_id}, refunding ${money(amount)} to ${method}.`,
      );
    } else {
      if (newIds.some((value) => !value)) {
        alert.replaceChildren(h("p", {}, "Choose a replacement for every ticked item."));
        return;
      }
      const difference = amount > 0 ? `the customer pays ${money(amount)}` : `the customer gets ${money(-amount)} back`;
      confirmStep(
        { name: "exchange_delivered_order_items", arguments: { ...base, new_item_ids: newIds } },
        `Exchange ${names} from order ${order.order_id} for ${newIds.join(", ")}; ${difference}, with ${method}.`,
      );
    }
  });

  panel.replaceChildren(h("p", { class: "muted" }, "Loading the customer's payment methods…"));
  callTool(app, "get_user_details", { user_id: order.user_id })
    .then((user) => {
      methods = user.payment_methods;
    })
    .catch((error) => {
      alert.replaceChildren(h("p", {}, error.message));
    })
    .finally(() => {
      fillMethods();
      update();
      panel.replaceChildren(alert, form);
      boxes[0]?.focus();
    });
  return panel;
}

/** The whole order, drawn into a container of its own (so the customer view can open orders too). */
export function orderView(order, app, notice) {
  const container = h("article", { class: "order", "aria-labelledby": `order-${order.order_id}` });
  const title = h("h1", { id: `order-${order.order_id}` }, `Order ${order.order_id}`);
  const parts = [
    h("header", {}, title, badge(order.status)),
    notice ? h("p", { class: "success", role: "status" }, notice) : null,
    section("Status", timeline(order)),
    section("Items", itemsTable(order)),
    section("Payments and refunds", paymentsTable(order)),
    section("Shipping address", address(order.address)),
  ];
  if (order.status === "delivered") {
    const slot = h("div");
    const open = h("button", { type: "button", "aria-expanded": "false" }, "Return or exchange items");
    open.addEventListener("click", () => {
      if (open.getAttribute("aria-expanded") === "true") return;
      open.setAttribute("aria-expanded", "true");
      slot.replaceChildren(
        picker(order, app, (changed, words) => {
          if (changed) {
            container.replaceWith(orderView(changed, app, words));
            return;
          }
          slot.replaceChildren();
          open.setAttribute("aria-expanded", "false");
          open.focus();
        }),
      );
    });
    parts.push(section("Return or exchange", open, slot));
  }
  container.append(...parts.filter(Boolean));
  return container;
}
