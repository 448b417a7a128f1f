// dondoc's dashboard: reads Telegram's launch data from the URL fragment (nothing is loaded
// from the internet), sends it with every request, and shows the pages the server renders.
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("words").textContent);
  var main = document.getElementById("main");
  var fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  var initData = fragment.get("tgWebAppData") || "";
  try {
    if (initData) { sessionStorage.setItem("dondoc.initData", initData); }
    else { initData = sessionStorage.getItem("dondoc.initData") || ""; }
  } catch (e) { /* storage may be off: the fragment is enough */ }

  // Telegram's web events (core.telegram.org/api/web-events), without telegram-web-app.js.
  function postEvent(type, data) {
    var body = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy) { window.TelegramWebviewProxy.postEvent(type, body); }
      else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({eventType: type, eventData: data || {}}));
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({eventType: type, eventData: data || {}}), "*");
      }
    } catch (e) { /* outside Telegram */ }
  }

  var THEME = {bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
               button_color: "--accent", button_text_color: "--accent-text",
               secondary_bg_color: "--bg2", destructive_text_color: "--late"};

  function luminance(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) { return null; }
    return (0.2126 * parseInt(m[1], 16) + 0.7152 * parseInt(m[2], 16) + 0.0722 * parseInt(m[3], 16)) / 255;
  }

  function applyTheme(params) {
    if (!params) { return; }
    var root = document.documentElement;
    Object.keys(THEME).forEach(function (key) {
      if (typeof params[key] === "string" && /^#[0-9a-f]{6}$/i.test(params[key])) {
        root.style.setProperty(THEME[key], params[key]);
      }
    });
    var light = luminance(params.bg_color);
    if (light !== null) { root.setAttribute("data-scheme", light < 0.5 ? "dark" : "light"); }
  }

  try { applyTheme(JSON.parse(fragment.get("tgWebAppThemeParams") || "null")); } catch (e) { /* no theme */ }
  window.addEventListener("message", function (event) {
    try {
      var message = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
      if (message && message.eventType === "theme_changed") { applyTheme(message.eventData.theme_params); }
    } catch (e) { /* not ours */ }
  });

  function note(text, state) {
    main.textContent = "";
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    main.appendChild(p);
    main.setAttribute("data-state", state);
  }

  var trail = [];  // the pages opened, for the "back to where I was" buttons
  var plan = new URLSearchParams(location.search).get("plan");  // the plan chosen, if several

  function withPlan(path) {
    var chosen = /[?&]plan=(\d+)/.exec(path);
    if (chosen) { plan = chosen[1]; return path; }
    if (!plan || !/^\d+$/.test(plan)) { return path; }
    return path + (path.indexOf("?") < 0 ? "?" : "&") + "plan=" + plan;
  }

  function load(path) {
    if (path === "back") {
      trail.pop();
      path = trail.pop() || "summary";
    }
    path = withPlan(path);
    trail.push(path);
    main.setAttribute("aria-busy", "true");
    fetch("api/" + path, {headers: {"Authorization": "tma " + initData}, credentials: "omit",
                          cache: "no-store"})
      .then(function (response) {
        if (response.status === 401) { throw new Error("unauthorized"); }
        return response.json();
      })
      .then(function (body) {
        if (typeof body.html !== "string") { throw new Error("failed"); }
        main.innerHTML = body.html;  // rendered and escaped by the server
        main.setAttribute("data-state", body.error ? "refused" : "ready");
        main.setAttribute("data-page", path);
        window.scrollTo(0, 0);
      })
      .catch(function (error) {
        var unauthorized = error && error.message === "unauthorized";
        note(unauthorized ? words.unauthorized : words.failed, unauthorized ? "unauthorized" : "failed");
      })
      .then(function () { main.removeAttribute("aria-busy"); });
  }

  main.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-nav]") : null;
    if (target) { load(target.getAttribute("data-nav")); }
  });

  postEvent("web_app_ready");
  postEvent("web_app_expand");
  var period = new URLSearchParams(location.search).get("period");
  if (!initData) { note(words.unauthorized, "unauthorized"); return; }
  load("summary" + (period ? "?period=" + encodeURIComponent(period) : ""));
})();
