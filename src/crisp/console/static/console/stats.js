// What the latency pages (services overview, a service's page) share: their
// database/range form, and a sortable table of latency stats (GET /api/services/ and
// /api/services/<name>/ rows): name (a link), requests, rate, error rate, p95, p99, p95
// sparkline. Click a header to sort; numbers sort largest first, names A→Z, a second
// click reverses.
"use strict";

function statsTable(table, keyName, linkFor) {
  let rows = [];
  let sort = { key: keyName, desc: false };

  function render() {
    const { key, desc } = sort;
    const sorted = [...rows].sort((a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return desc ? -order : order;
    });
    table.tBodies[0].replaceChildren(...sorted.map((r) => {
      const tr = document.createElement("tr");
      const name = document.createElement("td");
      const link = document.createElement("a");
      link.href = linkFor(r[keyName]);
      link.textContent = r[keyName] === "" ? "(none)" : r[keyName];
      name.append(link);
      const cells = [
        Crisp.fmt(r.requests, 0), Crisp.fmt(r.rate_per_s, 3), Crisp.percent(r.error_rate),
        Crisp.fmt(r.p95_ms, 1), Crisp.fmt(r.p99_ms, 1),
      ].map((text) => Object.assign(document.createElement("td"), { textContent: text }));
      const source = requestsSource(r.requests_source);
      for (const cell of cells.slice(0, 3)) cell.title = source;
      const spark = document.createElement("td");
      spark.append(Crisp.sparkline(r.sparkline));
      tr.append(name, ...cells, spark);
      return tr;
    }));
    for (const th of table.tHead.rows[0].cells) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (desc ? "descending" : "ascending") : "none");
    }
  }

  for (const th of table.tHead.rows[0].cells) {
    if (!th.dataset.key) continue;
    th.style.cursor = "pointer";
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      sort = { key, desc: sort.key === key ? !sort.desc : th.dataset.type !== "text" };
      render();
    });
  }

  return { show(newRows) { rows = newRows; render(); } };
}

// Where a row's requests, rate and error rate come from (the API's requests_source):
// the request counter's sum (one point may stand for many requests) or a count of
// latency points (one per request).
function latencyNames() {
  return JSON.parse(document.getElementById("latency-settings").textContent);
}

function requestsSource(kind) {
  const names = latencyNames();
  return kind === "counter"
    ? `sum of ${names.request_counter}`
    : `count of ${names.measurement} points`;
}

// The note under the numbers saying where the requests columns come from.
function showRequestsSource(element, rows) {
  const kinds = new Set(rows.map((r) => r.requests_source));
  const names = latencyNames();
  let text = "";
  if (kinds.size === 1) {
    text = `Requests, rate and error rate: ${requestsSource([...kinds][0])}.`;
    if (kinds.has("latency") && names.request_counter) {
      text += ` (No ${names.request_counter} counter for these in this database.)`;
    }
  } else if (kinds.size > 1) {
    text = `Requests, rate and error rate: ${requestsSource("counter")} where the counter ` +
      `has data, else ${requestsSource("latency")} (hover a number to see which).`;
  }
  element.textContent = text;
  element.dataset.source = [...kinds].sort().join(",");
}

// The header row every stats table has; `first` names its first column.
function statsHeader(first, keyName) {
  const row = document.createElement("tr");
  const columns = [
    [first, keyName, "text"], ["Requests", "requests"], ["Rate /s", "rate_per_s"],
    ["Error rate", "error_rate"], ["p95 ms", "p95_ms"], ["p99 ms", "p99_ms"], ["p95 trend", null],
  ];
  for (const [text, key, type] of columns) {
    const th = Object.assign(document.createElement("th"), { textContent: text });
    if (key) th.dataset.key = key;
    if (type) th.dataset.type = type;
    row.append(th);
  }
  return row;
}

// The database/range form (_latency_form.html): `load` runs on submit and on every
// change. Range and database start from the URL, the database else from `defaultDb`.
function latencyForm(form, defaultDb, setStatus, load) {
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  form.db.addEventListener("change", load);
  form.range.addEventListener("change", load);

  (async () => {
    const wanted = new URLSearchParams(location.search);
    if (wanted.get("range")) form.range.value = wanted.get("range");
    try {
      const names = await Crisp.api("/api/meta/databases/");
      form.db.replaceChildren(...names.map((n) => new Option(n, n)));
      const db = wanted.get("db") || defaultDb;
      if (names.includes(db)) form.db.value = db;
      await load();
    } catch (error) {
      setStatus(error.message, true);
    }
  })();
}
