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

const tableElement = document.getElementById("services-table");
tableElement.tHead.append(statsHeader("Service", "service"));
const table = statsTable(tableElement, "service", servicePage);
const sourceNote = document.getElementById("requests-source");

async function load() {
  if (!form.db.value) return;
  setStatus("Loading…");
  const params = new URLSearchParams({ db: form.db.value, range: form.range.value });
  history.replaceState(null, "", "?" + params);
  try {
    const rows = await Crisp.api("/api/services/?" + params);
    setStatus(rows.length ? "" : "No latency data in this range.");
    table.show(rows);
    showRequestsSource(sourceNote, rows);
  } catch (error) {
    table.show([]);
    showRequestsSource(sourceNote, []);
    setStatus(error.message, true);
  }
}

latencyForm(form, latency.default_db, setStatus, load);
