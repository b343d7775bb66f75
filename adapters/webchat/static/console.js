// kefu console: the live feed of cards (server-sent events), their buttons, and the command box. No build step.
"use strict";

const state = { intents: [], cards: new Map() };  // card ref → {id, element}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 401) { window.location.assign("/console/login"); return { ok: false, message: "" }; }
  try { return await response.json(); } catch (error) { return { ok: false, message: `kefu answered HTTP ${response.status}` }; }
}

function say(card, message, ok) {
  const status = card.querySelector(".card-status");
  status.textContent = message;
  status.classList.toggle("failed", !ok);
}

async function act(card, data, body) {
  const buttons = card.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const result = await post("/console/actions", body);
    say(card, result.message || (result.ok ? "Done." : "That did not work."), result.ok);
    return result.ok;
  } catch (error) {
    say(card, "kefu could not be reached: try again.", false);
    return false;
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

function editForm(card, data) {
  const id = `reply-${data.item}`;
  const text = el("textarea", { id, name: "text", rows: "4", required: "" });
  text.value = data.card.suggested_reply || "";
  const form = el("form", { class: "inline-form" },
    el("label", { for: id, text: "Reply to the customer" }), text,
    el("button", { type: "submit", class: "primary", text: "Send reply" }),
    el("button", { type: "button", class: "cancel", text: "Cancel" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { action: "edit", ticket_id: data.card.ticket_id, text: text.value };
    if (data.card.suggestion_id != null) body.suggestion_id = data.card.suggestion_id;
    if (await act(card, data, body)) form.remove();
  });
  form.querySelector(".cancel").addEventListener("click", () => form.remove());
  return { form, focus: text };
}

function intentForm(card, data) {
  const id = `intent-${data.item}`;
  const select = el("select", { id, name: "intent", required: "" });
  select.append(el("option", { value: "", text: "Choose…" }));
  for (const intent of state.intents) {
    const option = el("option", { value: intent, text: intent });
    select.append(option);
  }
  const form = el("form", { class: "inline-form" },
    el("label", { for: id, text: "The right intent" }), select,
    el("button", { type: "submit", class: "primary", text: "Correct the intent" }),
    el("button", { type: "button", class: "cancel", text: "Cancel" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!select.value) { say(card, "Choose the right intent.", false); return; }
    if (await act(card, data, { action: "wrong_intent", ticket_id: data.card.ticket_id, intent: select.value })) form.remove();
  });
  form.querySelector(".cancel").addEventListener("click", () => form.remove());
  return { form, focus: select };
}

function onButton(card, data, button) {
  const action = button.action;
  if (action.startsWith("alert_")) return act(card, data, { action, alert_id: data.card.alert_id });
  if (action === "edit" || action === "wrong_intent") {
    card.querySelectorAll(".inline-form").forEach((form) => form.remove());
    const { form, focus } = action === "edit" ? editForm(card, data) : intentForm(card, data);
    card.querySelector(".card-buttons").after(form);
    focus.focus();
    return undefined;
  }
  const body = { action, ticket_id: data.card.ticket_id };
  if (action === "send" && data.card.suggestion_id != null) body.suggestion_id = data.card.suggestion_id;
  return act(card, data, body);
}

function render(data) {
  const c = data.card;
  const card = el("li", { class: `card kind-${c.kind} severity-${c.severity || "none"}`, "data-ref": data.ref,
                          "data-item": String(data.item), tabindex: "-1" });
  if (c.ticket_id != null) card.dataset.ticket = String(c.ticket_id);
  const title = el("h3", { text: c.title });
  card.append(title);
  if (c.body) card.append(el("p", { class: "card-body", text: c.body }));
  if (c.fields && c.fields.length) {
    const list = el("dl", { class: "card-fields" });
    for (const field of c.fields) list.append(el("dt", { text: field.label }), el("dd", { text: field.value }));
    card.append(list);
  }
  if (c.suggested_reply) {
    card.append(el("p", { class: "label", text: "Suggested reply" }),
                el("blockquote", { class: "suggested", text: c.suggested_reply }));
  }
  const buttons = el("div", { class: "card-buttons" });
  for (const button of c.buttons || []) {
    if (!button.action.startsWith("alert_") && c.ticket_id == null) continue;
    const node = el("button", { type: "button", class: button.style || "default", "data-action": button.action,
                                text: button.label });
    node.addEventListener("click", () => onButton(card, data, button));
    buttons.append(node);
  }
  card.append(buttons);
  if (c.ticket_id != null) {
    card.append(el("a", { class: "ticket-link", href: `/console/tickets/${c.ticket_id}`,
                          text: `Ticket #${c.ticket_id}: conversation and history` }));
  }
  if (c.footer) card.append(el("p", { class: "card-footer", text: c.footer }));
  card.append(el("p", { class: "card-status", role: "status", "aria-live": "polite" }));
  return card;
}

function show(event) {
  const data = JSON.parse(event.data);
  data.item = data.id;
  const known = state.cards.get(data.ref);
  if (known && known.id >= data.id) return;  // an older state of a card already shown
  const card = render(data);
  const list = document.getElementById("cards");
  if (known) {
    const status = known.element.querySelector(".card-status").textContent;
    card.querySelector(".card-status").textContent = status;
    const hadFocus = known.element.contains(document.activeElement);
    known.element.replaceWith(card);
    if (hadFocus) card.focus();
  } else {
    list.prepend(card);
  }
  state.cards.set(data.ref, { id: data.id, element: card });
  document.getElementById("empty").hidden = state.cards.size > 0;
}

function connect() {
  const status = document.getElementById("connection");
  const source = new EventSource("/console/events");
  source.addEventListener("card", show);
  source.addEventListener("ready", () => { status.textContent = "live"; status.className = "connection live"; });
  source.addEventListener("logout", () => { source.close(); window.location.assign("/console/login"); });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…"; status.className = "connection down";
  });
}

async function runCommand(event) {
  event.preventDefault();
  const input = document.getElementById("command");
  const answer = document.getElementById("answer");
  const text = input.value.trim();
  if (!text) return;
  answer.replaceChildren(el("p", { text: `Running ${text}…` }));
  let result;
  try {
    result = await post("/console/commands", { text });
  } catch (error) {
    result = { ok: false, text: "kefu could not be reached: try again." };
  }
  const parts = [el("pre", { class: result.ok ? "answer-text" : "answer-text failed", text: result.text || result.message || "" })];
  if (result.chart) parts.push(el("img", { class: "chart", src: result.chart, alt: `Chart for ${text}` }));
  answer.replaceChildren(...parts);
}

async function start() {
  document.getElementById("command-form").addEventListener("submit", runCommand);
  try {
    const response = await fetch("/console/state", { credentials: "same-origin" });
    if (response.status === 401) { window.location.assign("/console/login"); return; }
    const me = await response.json();
    state.intents = me.intents || [];
    document.getElementById("who").textContent = `${me.agent.name} (${me.agent.role})`;
  } catch (error) {
    document.getElementById("notice").textContent = "kefu could not be reached: reload the page.";
  }
  connect();
}

document.addEventListener("DOMContentLoaded", start);
