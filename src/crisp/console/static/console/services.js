// Services overview: GET /api/services/ as a sortable table with SVG p95 sparklines;
// each service links to Explore filtered to it and grouped by endpoint.
"use strict";

const form = document.getElementById("services");
const statusLine = document.getElementById("status");
const table = document.getElementById("services-table");
const latency = JSON.parse(document.getElementById("latency-settings").textContent);
let rows = [];
let sort = { key: "service", desc: false };

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || JSON.stringify(body.fields || body));
  return body;
}

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

function exploreLink(service) {
  const state = {
    database: form.db.value,
    measurement: latency.measurement,
    field: latency.field,
    aggregate: "p95",
    start: form.range.value,
    end: "now",
    interval: "auto",
    group_by: ["endpoint"],
    filters: [{ tag: latency.service_tag, op: "=", value: service }],
  };
  return "/explore/?" + new URLSearchParams({ q: JSON.stringify(state) });
}

const SVG = "http://www.w3.org/2000/svg";

function sparkline(values) {
  const svg = document.createElementNS(SVG, "svg");
  const width = 120, height = 24;
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "sparkline");
  const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null);
  if (!points.length) return svg;
  const max = Math.max(...points.map(([, v]) => v)) || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("points", points
    .map(([i, v]) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`)
    .join(" "));
  svg.append(line);
  return svg;
}

function fmt(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

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
  const body = table.tBodies[0];
  body.replaceChildren(...sorted.map((r) => {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    const link = document.createElement("a");
    link.href = exploreLink(r.service);
    link.textContent = r.service;
    name.append(link);
    const cells = [
      fmt(r.requests, 0), fmt(r.rate_per_s, 3),
      r.error_rate === null ? "–" : (r.error_rate * 100).toFixed(2) + " %",
      fmt(r.p95_ms, 1), fmt(r.p99_ms, 1),
    ].map((text) => {
      const td = document.createElement("td");
      td.textContent = text;
      return td;
    });
    const spark = document.createElement("td");
    spark.append(sparkline(r.sparkline));
    tr.append(name, ...cells, spark);
    return tr;
  }));
  for (const th of table.tHead.rows[0].cells) {
    th.setAttribute("aria-sort", th.dataset.key === key ? (desc ? "descending" : "ascending") : "none");
  }
}

async function load() {
  if (!form.db.value) return;
  setStatus("Loading…");
  try {
    rows = await api("/api/services/?" + new URLSearchParams({ db: form.db.value, range: form.range.value }));
    setStatus(rows.length ? "" : "No latency data in this range.");
    render();
  } catch (error) {
    rows = [];
    render();
    setStatus(error.message, true);
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

form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
form.db.addEventListener("change", load);
form.range.addEventListener("change", load);

(async () => {
  try {
    const names = await api("/api/meta/databases/");
    form.db.replaceChildren(...names.map((n) => new Option(n, n)));
    if (names.includes(latency.default_db)) form.db.value = latency.default_db;
    await load();
  } catch (error) {
    setStatus(error.message, true);
  }
})();
