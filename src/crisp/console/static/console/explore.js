// Explore page: pickers fed by /api/meta/*, the query state kept in the URL so a link
// reproduces the view, results from POST /api/query/ shown as tables.
"use strict";

const form = document.getElementById("explore");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const influxql = document.getElementById("influxql");
const filtersBox = document.getElementById("filters");
const filterTemplate = document.getElementById("filter-row");
let tagKeys = [];

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") },
    ...options,
  });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    throw new Error(body.error || JSON.stringify(body.fields || body));
  }
  return body;
}

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

function fillSelect(select, values, keep) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  if (keep !== undefined && values.includes(keep)) select.value = keep;
}

function meta(path, params) {
  return api(`/api/meta/${path}/?` + new URLSearchParams(params));
}

async function loadDatabases(state) {
  fillSelect(form.database, await meta("databases", {}), state.database);
}

async function loadMeasurements(state) {
  const names = await meta("measurements", { db: form.database.value });
  document.getElementById("measurements").replaceChildren(...names.map((n) => new Option(n)));
  if (state.measurement) form.measurement.value = state.measurement;
  else if (names.length) form.measurement.value = names[0];
}

async function loadMeasurementMeta(state) {
  const params = { db: form.database.value, measurement: form.measurement.value };
  if (!params.measurement) return;
  const fields = await meta("fields", params);
  fillSelect(form.field, Object.keys(fields), state.field);
  tagKeys = await meta("tags", params);
  fillSelect(form.group_by, tagKeys);
  for (const option of form.group_by.options) {
    option.selected = (state.group_by || []).includes(option.value);
  }
  for (const row of filtersBox.querySelectorAll(".filter")) fillTagSelect(row);
}

function fillTagSelect(row, keep) {
  const select = row.querySelector("[name=tag]");
  fillSelect(select, tagKeys, keep ?? select.value);
}

async function suggestValues(row) {
  const key = row.querySelector("[name=tag]").value;
  if (!key) return;
  const values = await meta("tag-values", {
    db: form.database.value, measurement: form.measurement.value, key,
  });
  const list = document.createElement("datalist");
  list.id = "values-" + Math.random().toString(36).slice(2);
  list.replaceChildren(...values.map((v) => new Option(v)));
  row.append(list);
  row.querySelector("[name=value]").setAttribute("list", list.id);
}

function addFilter(filter = {}) {
  const row = filterTemplate.content.firstElementChild.cloneNode(true);
  filtersBox.append(row);
  fillTagSelect(row, filter.tag);
  row.querySelector("[name=op]").value = filter.op || "=";
  row.querySelector("[name=value]").value = filter.value || "";
  row.querySelector(".remove").addEventListener("click", () => row.remove());
  row.querySelector("[name=tag]").addEventListener("change", () => suggestValues(row));
  suggestValues(row).catch(() => {});
}

function currentState() {
  return {
    database: form.database.value,
    measurement: form.measurement.value,
    field: form.field.value,
    aggregate: form.aggregate.value,
    start: form.start.value,
    end: form.end.value,
    interval: form.interval.value,
    group_by: [...form.group_by.selectedOptions].map((o) => o.value),
    filters: [...filtersBox.querySelectorAll(".filter")].map((row) => ({
      tag: row.querySelector("[name=tag]").value,
      op: row.querySelector("[name=op]").value,
      value: row.querySelector("[name=value]").value,
    })),
  };
}

function stateFromURL() {
  const raw = new URLSearchParams(location.search).get("q");
  try {
    return raw ? JSON.parse(raw) : {};
  } catch {
    return {};
  }
}

function renderTable(series) {
  const table = document.createElement("table");
  table.className = "results";
  const caption = table.createCaption();
  const tags = Object.entries(series.tags || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  caption.textContent = series.name + (tags ? ` {${tags}}` : "");
  const head = table.createTHead().insertRow();
  for (const column of series.columns) head.append(Object.assign(document.createElement("th"), { textContent: column }));
  const body = table.createTBody();
  for (const row of series.values) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell === null ? "" : String(cell);
  }
  return table;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
let chart = null;

function seriesLabel(series) {
  const tags = Object.entries(series.tags || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  return tags || series.name;
}

// One uPlot chart for all series: they share the GROUP BY time buckets, so the first
// series' times are the x axis (seconds, as uPlot wants). Drag to zoom, double-click to
// reset, hover for values, click a legend entry to hide a series.
function renderChart(answer) {
  const box = document.getElementById("chart");
  if (chart) chart.destroy();
  chart = null;
  box.replaceChildren();
  if (!answer.series.length || typeof uPlot === "undefined") return;
  const times = answer.series[0].values.map((row) => Date.parse(row[0]) / 1000);
  const data = [times, ...answer.series.map((s) => s.values.map((row) => row[1]))];
  const options = {
    width: Math.max(box.clientWidth, 600),
    height: 320,
    series: [
      {},
      ...answer.series.map((s, i) => ({
        label: seriesLabel(s), stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false,
      })),
    ],
    axes: [{}, { label: form.aggregate.value }],
  };
  chart = new uPlot(options, data, box);
  // For tests and for people poking in the console: what the chart was drawn from.
  box.dataset.series = String(answer.series.length);
  box.dataset.points = String(data.slice(1).flat().filter((v) => v !== null).length);
  window.crispChart = { labels: options.series.slice(1).map((s) => s.label), data };
}

async function run() {
  const state = currentState();
  history.replaceState(null, "", "?" + new URLSearchParams({ q: JSON.stringify(state) }));
  setStatus("Running…");
  try {
    const answer = await api("/api/query/", { method: "POST", body: JSON.stringify(state) });
    influxql.textContent = answer.query;
    renderChart(answer);
    results.replaceChildren(...answer.series.map(renderTable));
    setStatus(answer.series.length ? `${answer.series.length} series, interval ${answer.interval}` : "No data in this range.");
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function init() {
  const state = stateFromURL();
  for (const name of ["aggregate", "start", "end", "interval"]) {
    if (state[name]) form[name].value = state[name];
  }
  try {
    await loadDatabases(state);
    if (form.database.value) {
      await loadMeasurements(state);
      await loadMeasurementMeta(state);
    }
    for (const filter of state.filters || []) addFilter(filter);
    if (state.field) await run();
  } catch (error) {
    setStatus(error.message, true);
  }
}

form.database.addEventListener("change", () => loadMeasurements({}).then(() => loadMeasurementMeta({})).catch((e) => setStatus(e.message, true)));
form.measurement.addEventListener("change", () => loadMeasurementMeta({}).catch((e) => setStatus(e.message, true)));
document.getElementById("add-filter").addEventListener("click", () => addFilter());
form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
init();
