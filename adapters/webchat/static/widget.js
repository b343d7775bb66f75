/* kefu's chat widget: paste <script src="https://kefu.example/widget.js" async></script> into a store's page.
   Vanilla JS, no build step. It draws a chat button and panel in a shadow root (the store's CSS does not leak in),
   keeps an anonymous visitor token in localStorage, POSTs messages with a client id (a retry is stored once) and
   receives replies over server-sent events, resuming after a drop (Last-Event-ID; lines are dropped by key). */
(function () {
  "use strict";
  if (window.__kefuWidget) return;
  window.__kefuWidget = true;

  var script = document.currentScript ||
    Array.prototype.slice.call(document.getElementsByTagName("script")).filter(function (s) {
      return /\/widget\.js(\?|$)/.test(s.src);
    })[0];
  var BASE = new URL(script ? script.src : "/widget.js", location.href).origin;
  var STORE = "kefu.widget.";

  var LABELS = {
    en: {open: "Chat with us", close: "Close chat", title: "Customer service", message: "Your message",
         send: "Send", placeholder: "Type your question…", greeting: "Hi! How can we help you?",
         you: "You", bot: "Automatic reply", agent: "Our team", offline: "Connection lost, reconnecting…",
         slow: "You are sending messages quickly. Please wait {s} s — your message will be sent then.",
         failed: "This message could not be sent: {e}", sending: "Sending…"},
    zh: {open: "在线客服", close: "关闭聊天", title: "客户服务", message: "您的消息", send: "发送",
         placeholder: "请输入您的问题…", greeting: "您好！有什么可以帮您？", you: "您", bot: "自动回复",
         agent: "客服团队", offline: "连接已断开，正在重新连接…", slow: "您发送得太快了，请等待 {s} 秒，消息将自动发送。",
         failed: "消息发送失败：{e}", sending: "发送中…"},
    es: {open: "Chatea con nosotros", close: "Cerrar chat", title: "Atención al cliente", message: "Tu mensaje",
         send: "Enviar", placeholder: "Escribe tu pregunta…", greeting: "¡Hola! ¿En qué podemos ayudarte?",
         you: "Tú", bot: "Respuesta automática", agent: "Nuestro equipo", offline: "Conexión perdida, reconectando…",
         slow: "Estás enviando mensajes muy rápido. Espera {s} s: tu mensaje se enviará entonces.",
         failed: "No se pudo enviar este mensaje: {e}", sending: "Enviando…"},
    de: {open: "Chatten Sie mit uns", close: "Chat schließen", title: "Kundenservice", message: "Ihre Nachricht",
         send: "Senden", placeholder: "Ihre Frage…", greeting: "Hallo! Wie können wir helfen?", you: "Sie",
         bot: "Automatische Antwort", agent: "Unser Team", offline: "Verbindung unterbrochen, verbinde neu…",
         slow: "Sie senden sehr schnell. Bitte warten Sie {s} s – dann wird Ihre Nachricht gesendet.",
         failed: "Diese Nachricht konnte nicht gesendet werden: {e}", sending: "Wird gesendet…"},
    fr: {open: "Discuter avec nous", close: "Fermer le chat", title: "Service client", message: "Votre message",
         send: "Envoyer", placeholder: "Posez votre question…", greeting: "Bonjour ! Comment pouvons-nous vous aider ?",
         you: "Vous", bot: "Réponse automatique", agent: "Notre équipe", offline: "Connexion perdue, reconnexion…",
         slow: "Vous envoyez des messages très vite. Patientez {s} s : votre message partira alors.",
         failed: "Ce message n’a pas pu être envoyé : {e}", sending: "Envoi…"},
    ar: {open: "تحدث معنا", close: "إغلاق المحادثة", title: "خدمة العملاء", message: "رسالتك", send: "إرسال",
         placeholder: "اكتب سؤالك…", greeting: "مرحبًا! كيف يمكننا مساعدتك؟", you: "أنت", bot: "رد تلقائي",
         agent: "فريقنا", offline: "انقطع الاتصال، جارٍ إعادة الاتصال…",
         slow: "أنت ترسل الرسائل بسرعة. يرجى الانتظار {s} ثانية وسيتم إرسال رسالتك.",
         failed: "تعذّر إرسال هذه الرسالة: {e}", sending: "جارٍ الإرسال…"},
    ja: {open: "チャットで問い合わせ", close: "チャットを閉じる", title: "カスタマーサービス", message: "メッセージ",
         send: "送信", placeholder: "ご質問を入力してください…", greeting: "こんにちは！ご用件をお聞かせください。",
         you: "あなた", bot: "自動返信", agent: "担当者", offline: "接続が切れました。再接続しています…",
         slow: "送信が速すぎます。{s} 秒お待ちください。その後メッセージが送信されます。",
         failed: "このメッセージを送信できませんでした：{e}", sending: "送信中…"}
  };
  var RTL = ["ar", "he", "fa", "ur"];
  var language = (navigator.language || "en").toLowerCase();
  var primary = language.split("-")[0];
  var T = LABELS[primary] || LABELS.en;
  var rtl = RTL.indexOf(primary) >= 0;

  function store(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(STORE + key);
      if (value === null) window.localStorage.removeItem(STORE + key);
      else window.localStorage.setItem(STORE + key, value);
    } catch (e) { /* storage blocked: the widget still works for this page view */ }
    return null;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- the page -----------------------------------------------------------------------------------------------

  var host = document.createElement("div");
  host.className = "kefu-widget";
  var root = host.attachShadow({mode: "open"});
  root.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    ".w{position:fixed;bottom:16px;inset-inline-end:16px;z-index:2147483000;font:15px/1.4 system-ui,sans-serif;color:#1f2328}" +
    ".launcher{width:56px;height:56px;border-radius:50%;border:0;background:#0b5cad;color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 10px rgba(0,0,0,.25);font-size:26px;display:flex;align-items:center;justify-content:center}" +
    "button:focus-visible,textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}" +
    ".panel{position:absolute;bottom:68px;inset-inline-end:0;width:min(360px,calc(100vw - 32px));height:min(520px,calc(100vh - 100px));" +
    "background:#fff;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}" +
    ".panel[hidden]{display:none}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#0b5cad;color:#fff}" +
    "header h2{font-size:16px;margin:0}" +
    ".close{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:44px;min-height:44px}" +
    "ol{list-style:none;margin:0;padding:12px;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px}" +
    "li{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;background:#eef1f4;align-self:flex-start}" +
    "li.visitor{background:#0b5cad;color:#fff;align-self:flex-end}" +
    "li .who{display:block;font-size:12px;opacity:.75}" +
    "li.pending{opacity:.7}li.failed{background:#fde2e1;color:#8a1c1c}" +
    ".status{margin:0;padding:0 12px;font-size:13px;color:#8a5300;min-height:0}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #d0d7de}" +
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #8c959f;border-radius:8px;min-height:44px}" +
    ".rating{display:flex;gap:6px;margin-top:6px}.rating button{min-width:36px;min-height:36px;border:1px solid #0b5cad;" +
    "border-radius:8px;background:#fff;color:#0b5cad;font:inherit;cursor:pointer}.rating button:disabled{opacity:.5}" +
    ".send{background:#0b5cad;color:#fff;border:0;border-radius:8px;padding:0 14px;font:inherit;cursor:pointer;min-height:44px}" +
    "@media (max-width:480px){.panel{position:fixed;inset:0;width:100vw;height:100%;border-radius:0}}" +
    "</style>" +
    '<div class="w">' +
    '<section class="panel" id="kefu-panel" role="dialog" hidden>' +
    '<header><h2 class="title"></h2><button type="button" class="close">×</button></header>' +
    '<ol class="log" role="log" aria-live="polite"></ol>' +
    '<p class="status" role="status"></p>' +
    '<form><textarea rows="1" maxlength="2000"></textarea><button type="submit" class="send"></button></form>' +
    "</section>" +
    '<button type="button" class="launcher" aria-expanded="false" aria-controls="kefu-panel">' +
    '<svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" ' +
    'd="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg></button>' +
    "</div>";
  var frame = root.querySelector(".w");
  var panel = root.querySelector(".panel");
  var launcher = root.querySelector(".launcher");
  var closer = root.querySelector(".close");
  var log = root.querySelector(".log");
  var statusLine = root.querySelector(".status");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");
  frame.setAttribute("dir", rtl ? "rtl" : "ltr");
  frame.setAttribute("lang", primary);
  panel.setAttribute("aria-label", T.title);
  root.querySelector(".title").textContent = T.title;
  launcher.setAttribute("aria-label", T.open);
  closer.setAttribute("aria-label", T.close);
  input.setAttribute("aria-label", T.message);
  input.setAttribute("placeholder", T.placeholder);
  root.querySelector(".send").textContent = T.send;

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    store("open", open ? "1" : null);
    if (open) { input.focus(); log.scrollTop = log.scrollHeight; connect(); } else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closer.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  var lines = {};  // key → <li>
  function show(key, author, text, state) {
    var li = lines[key];
    if (!li) {
      li = document.createElement("li");
      var who = document.createElement("span");
      who.className = "who";
      li.appendChild(who);
      li.appendChild(document.createElement("span")).className = "text";
      lines[key] = li;
      log.appendChild(li);
    }
    li.className = author + (state ? " " + state : "");
    li.dataset.key = key;
    li.querySelector(".who").textContent = author === "visitor" ? T.you : author === "agent" ? T.agent : T.bot;
    li.querySelector(".text").textContent = text;
    log.scrollTop = log.scrollHeight;
    return li;
  }
  // A satisfaction survey (reply kind "csat_survey"): 1-5 buttons under the question; a press is sent like a
  // typed "5", so kefu reads it as the answer on this conversation.
  function rating(li) {
    if (li.querySelector(".rating")) return;
    var row = document.createElement("div");
    row.className = "rating";
    row.setAttribute("role", "group");
    for (var score = 1; score <= 5; score++) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = String(score);
      button.setAttribute("aria-label", score + " / 5");
      button.addEventListener("click", function (e) {
        row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        sendText(e.currentTarget.textContent);
      });
      row.appendChild(button);
    }
    li.appendChild(row);
  }
  function showReply(m) {
    var li = show(m.key, m.author, m.text, "");
    if (m.kind === "csat_survey") rating(li);
  }
  function status(text) { statusLine.textContent = text || ""; }

  // ---- visitor and sending -----------------------------------------------------------------------------------

  var visitorPromise = null;
  function visitor() {
    var token = store("visitor");
    if (token) return Promise.resolve(token);
    if (!visitorPromise) {
      visitorPromise = fetch(BASE + "/widget/api/visitors", {method: "POST", credentials: "omit"})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (body) { store("visitor", body.visitor); visitorPromise = null; return body.visitor; },
              function (e) { visitorPromise = null; throw e; });
    }
    return visitorPromise;
  }
  function forgetVisitor() { store("visitor", null); store("pending", null); }

  function pending() {
    try { return JSON.parse(store("pending") || "[]"); } catch (e) { return []; }
  }
  function savePending(list) { store("pending", list.length ? JSON.stringify(list) : null); }

  var sending = false;
  function flush(delay) {
    if (sending) return;
    var queue = pending();
    if (!queue.length) return;
    sending = true;
    setTimeout(function () {
      var item = queue[0];
      visitor().then(function (token) {
        return fetch(BASE + "/widget/api/messages", {
          method: "POST", credentials: "omit",
          headers: {"Content-Type": "application/json", "X-Kefu-Visitor": token},
          body: JSON.stringify({id: item.id, text: item.text, language: navigator.language || undefined})
        });
      }).then(function (r) {
        if (r.status === 202) {
          savePending(pending().filter(function (p) { return p.id !== item.id; }));
          show("in:" + item.id, "visitor", item.text, "");
          status("");
          sending = false;
          flush(0);
          return;
        }
        var wait = parseInt(r.headers.get("Retry-After") || "", 10);
        if (r.status === 429) {
          status(T.slow.replace("{s}", String(wait || 5)));
          return retry((wait || 5) * 1000);
        }
        if (r.status === 401) { forgetVisitor(); savePending([item]); if (source) source.close(); source = null;
          connect(); return retry(500); }
        if (r.status >= 500 || r.status === 408) return retry((wait || 2) * 1000);
        return r.json().catch(function () { return {}; }).then(function (body) {
          savePending(pending().filter(function (p) { return p.id !== item.id; }));
          show("in:" + item.id, "visitor", item.text, "failed");
          status(T.failed.replace("{e}", body.error || "HTTP " + r.status));
          sending = false;
          flush(0);
        });
      }).catch(function () { status(T.offline); return retry(2000); });
    }, delay || 0);
  }
  function retry(ms) { sending = false; setTimeout(function () { flush(0); }, ms); }

  function sendText(text) {
    var item = {id: newId(), text: text};
    savePending(pending().concat([item]));  // kept until kefu has it: a reload or a drop resends the same id
    show("in:" + item.id, "visitor", text, "pending");
    connect();
    flush(0);
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendText(text);
  });

  // ---- receiving ---------------------------------------------------------------------------------------------

  var source = null;
  function connect() {
    if (source) return;
    visitor().then(function (token) {
      if (source) return;
      source = new EventSource(BASE + "/widget/api/events?visitor=" + encodeURIComponent(token));
      source.addEventListener("open", function () { if (statusLine.textContent === T.offline) status(""); });
      source.addEventListener("history", function (e) {
        JSON.parse(e.data).messages.forEach(showReply);
        pending().forEach(function (p) { if (!lines["in:" + p.id]) show("in:" + p.id, "visitor", p.text, "pending"); });
      });
      source.addEventListener("reply", function (e) {
        showReply(JSON.parse(e.data));
      });
      source.addEventListener("error", function () {
        status(T.offline);
        if (source && source.readyState === EventSource.CLOSED) {  // refused (not a drop): start over
          source = null;
          setTimeout(connect, 3000);
        }
      });
    }, function () { status(T.offline); setTimeout(connect, 3000); });
  }

  function start() {
    document.body.appendChild(host);
    show("greeting", "kefu", T.greeting, "");
    if (store("visitor") || store("open")) connect();
    if (store("open")) setOpen(true);
    flush(0);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
