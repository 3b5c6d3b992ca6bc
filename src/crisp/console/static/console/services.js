// Services overview: GET /api/services/ as a sortable table with SVG p95 sparklines;
// each service links to its page (/services/<name>/: the same by endpoint and host).
"use strict";

const form = document.getElementById("services");
const statusLine = document.getElementById("status");
const latency = JSON.parse(document.getElementById("latency-settings").textContent);
const setStatus = (text, isError = false) => Crisp.setStatus(statusLine, text, isError);

function servicePage(service) {
  const params = new URLSearchParams({ db: form.db.value, range: form.range.value });
  return `/services/${encodeURIComponent(service)}/?${params}`;
}

const table = statsTable(document.getElementById("services-table"), "service", servicePage);

async function load() {
  if (!form.db.value) return;
  setStatus("Loading…");
  history.replaceState(null, "", "?" + new URLSearchParams({ db: form.db.value, range: form.range.value }));
  try {
    const rows = await Crisp.api("/api/services/?" + new URLSearchParams({ db: form.db.value, range: form.range.value }));
    setStatus(rows.length ? "" : "No latency data in this range.");
    table.show(rows);
  } catch (error) {
    table.show([]);
    setStatus(error.message, true);
  }
}

form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
form.db.addEventListener("change", load);
form.range.addEventListener("change", load);

(async () => {
  const wanted = new URLSearchParams(location.search);
  if (wanted.get("range")) form.range.value = wanted.get("range");
  try {
    const names = await Crisp.api("/api/meta/databases/");
    form.db.replaceChildren(...names.map((n) => new Option(n, n)));
    const db = wanted.get("db") || latency.default_db;
    if (names.includes(db)) form.db.value = db;
    await load();
  } catch (error) {
    setStatus(error.message, true);
  }
})();
