// Refreshes the dashboard's figures from dashboard.json every few seconds.
// A lost session (the answer is the login page) reloads, which signs in again.
(function () {
  "use strict";
  var source = document.getElementById("updated");
  var every = Number(source.dataset.refresh || 3) * 1000;
  var brokerText = { ok: "", down: "· the broker does not answer", not_measured: "· not measured in this process" };

  function pick(figures, path) {
    return path.split(".").reduce(function (value, key) { return value == null ? value : value[key]; }, figures);
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function rows(body, items, build, empty, columns) {
    body.replaceChildren();
    if (!items.length) {
      var tr = document.createElement("tr");
      var td = cell(empty, "muted");
      td.colSpan = columns;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    items.forEach(function (item) { body.appendChild(build(item)); });
  }

  function show(figures) {
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var value = pick(figures, node.dataset.figure);
      node.textContent = value == null ? "?" : (typeof value === "number" && value % 1 ? value.toFixed(1) : value);
    });
    document.getElementById("taken-at").textContent = figures.taken_at.slice(11, 19);
    document.getElementById("broker-state").textContent = brokerText[figures.broker] || "";
    document.querySelector("[data-alert=outbox]").classList.toggle("alert", figures.outbox.oldest_age_seconds > 60);
    document.querySelector("[data-alert=dead_letters_last_hour]").classList.toggle("alert", figures.dead_letters_last_hour > 0);
    rows(document.getElementById("queues"), figures.queues, function (q) {
      var tr = document.createElement("tr");
      var name = document.createElement("code");
      name.textContent = q.name;
      var first = cell("");
      first.appendChild(name);
      tr.append(first, cell(q.depth, "num"), cell(q.consumers, "num"));
      if (q.consumers === 0) tr.className = "alert";
      return tr;
    }, "No queue figures.", 3);
    rows(document.getElementById("breakers"), figures.breakers, function (b) {
      var tr = document.createElement("tr");
      var state = document.createElement("span");
      state.className = "status breaker-" + b.state;
      state.textContent = b.state;
      var second = cell("");
      second.appendChild(state);
      tr.append(cell(b.service), second, cell(b.open_processes + " of " + b.processes + " processes"),
                cell(b.since.slice(0, 19).replace("T", " "), "when"));
      return tr;
    }, figures.breakers_readable ? "None reported: every breaker closed." : "The reports cannot be read (Redis does not answer).", 4);
  }

  function refresh() {
    fetch(source.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        var json = (answer.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (answer.redirected || !json) { window.location.reload(); return null; }
        return answer.ok ? answer.json() : null;
      })
      .then(function (figures) { if (figures) show(figures); })
      .catch(function () { /* the next tick tries again */ })
      .finally(function () { setTimeout(refresh, every); });
  }

  setTimeout(refresh, every);
})();
