// The ticket view: subject, status, priority, escalation and the whole thread.
import { badge, h, section, startView, when } from "./common.js";

function facts(ticket) {
  const row = (term, value) => (value ? [h("dt", {}, term), h("dd", {}, value)] : null);
  return h(
    "dl",
    { class: "profile" },
    row("Priority", ticket.priority),
    row("Customer", ticket.user_id),
    row("Order", ticket.order_id),
    row("Opened", when(ticket.created_at)),
    row("Last update", when(ticket.updated_at)),
  );
}

function escalation(ticket) {
  const e = ticket.escalation;
  if (!e) return null;
  return section(
    "Escalation",
    h(
      "div",
      { class: "escalation" },
      h("p", {}, h("strong", {}, "Escalated "), when(e.escalated_at), ": ", e.reason),
      h("p", {}, e.summary),
    ),
  );
}

function thread(ticket) {
  if (!ticket.messages.length) return h("p", { class: "muted" }, "No messages yet.");
  return h(
    "ol",
    { class: "thread", "aria-label": "Messages, oldest first" },
    ticket.messages.map((message) =>
      h(
        "li",
        { class: `message from-${message.author}` },
        h("p", { class: "meta" }, h("strong", {}, message.author), " · ", h("time", { datetime: message.created_at }, when(message.created_at))),
        h("p", { class: "body" }, message.body),
      ),
    ),
  );
}

startView("ticket", "Waiting for the ticket…", (ticket) =>
  h(
    "article",
    { "aria-labelledby": "ticket-title" },
    h(
      "header",
      {},
      h("h1", { id: "ticket-title" }, ticket.subject),
      badge(ticket.status),
      h("p", { class: "muted" }, ticket.ticket_id),
    ),
    facts(ticket),
    escalation(ticket),
    section("Thread", thread(ticket)),
  ),
);
