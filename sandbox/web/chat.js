// make demo: a chat with the bot through the local Bot API stand-in, as the person chosen.
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("words").textContent);
  var log = document.getElementById("log");
  var user = null, shown = "";

  function api(path, options) {
    return fetch("api/" + path + (path.indexOf("?") < 0 ? "?" : "&") + "user=" + user, options);
  }

  function button(b, messageId) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = "kb";
    el.textContent = b.text;
    if (b.callback_data) { el.setAttribute("data-press", b.callback_data); el.setAttribute("data-message", messageId); }
    if (b.url) { el.setAttribute("data-url", b.url); }
    return el;
  }

  function render(entries) {
    var key = JSON.stringify(entries);
    if (key === shown) { return; }
    shown = key;
    log.textContent = "";
    entries.forEach(function (e) {
      var box = document.createElement("div");
      box.className = "msg " + e.from;
      box.setAttribute("data-id", e.id);
      if (e.from === "me") {
        box.textContent = e.text || (e.file ? "📎 " + e.file : "");
      } else {
        var body = document.createElement("div");
        body.className = "body";
        body.innerHTML = (e.html || "").replace(/\n/g, "<br>");  // the bot's own HTML, escaped by it
        box.appendChild(body);
        [e.document, e.photo].forEach(function (f) {
          if (!f) { return; }
          var link = document.createElement("a");
          link.href = "api/file/" + f.id + "?name=" + encodeURIComponent(f.name) + "&user=" + user;
          link.target = "_blank";
          link.className = "file";
          link.textContent = "📄 " + f.name;
          box.insertBefore(link, body);
        });
        (e.buttons || []).forEach(function (row) {
          var line = document.createElement("div");
          line.className = "row";
          row.forEach(function (b) { line.appendChild(button(b, e.id)); });
          box.appendChild(line);
        });
      }
      log.appendChild(box);
    });
    window.scrollTo(0, document.body.scrollHeight);
  }

  function poll() {
    if (user === null) { return; }
    api("messages").then(function (r) { return r.json(); }).then(render).catch(function () {});
  }

  function post(body) {
    return api("send", {method: "POST", headers: {"Content-Type": "application/json"},
                        body: JSON.stringify(body)}).then(poll);
  }

  document.getElementById("people").addEventListener("click", function (event) {
    var who = event.target.closest(".who");
    if (!who) { return; }
    user = who.getAttribute("data-user");
    Array.prototype.forEach.call(document.querySelectorAll(".who"), function (b) {
      b.classList.toggle("chosen", b === who);
    });
    document.getElementById("chat").hidden = false;
    shown = "";
    poll();
  });

  log.addEventListener("click", function (event) {
    var b = event.target.closest(".kb");
    if (!b) { return; }
    if (b.hasAttribute("data-press")) {
      post({press: b.getAttribute("data-press"), message_id: Number(b.getAttribute("data-message"))});
    } else if (b.hasAttribute("data-url")) {
      window.open("api/open?url=" + encodeURIComponent(b.getAttribute("data-url")) + "&user=" + user, "_blank");
    }
  });

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("text");
    if (!input.value.trim()) { return; }
    post({text: input.value});
    input.value = "";
  });

  document.getElementById("upload").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append("file", file, file.name);
    api("upload", {method: "POST", body: form}).then(poll);
    event.target.value = "";
  });

  setInterval(poll, 700);
})();
