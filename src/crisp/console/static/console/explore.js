// Explore page: pickers fed by /api/meta/*, the query state kept in the URL so a link
// reproduces the view, results from POST /api/query/ as a uPlot chart and tables.
// Drill-down: a legend entry or a click on a line filters to that series and groups by
// the next dimension the API names (service → endpoint → host); the trail is kept in
// the URL (`drill`) and shown as breadcrumbs to go back up.
"use strict";

const form = document.getElementById("explore");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const influxql = document.getElementById("influxql");
const filtersBox = document.getElementById("filters");
const filterTemplate = document.getElementById("filter-row");
const breadcrumbs = document.getElementById("breadcrumbs");
const csvLink = document.getElementById("csv");
let tagKeys = [];
let drill = [];

const setStatus = (text, isError = false) => Crisp.setStatus(statusLine, text, isError);

function fillSelect(select, values, keep) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  if (keep !== undefined && values.includes(keep)) select.value = keep;
}

function meta(path, params) {
  return Crisp.api(`/api/meta/${path}/?` + new URLSearchParams(params));
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
  const state = {
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
  if (drill.length) state.drill = drill;
  return state;
}

function stateFromURL() {
  const raw = new URLSearchParams(location.search).get("q");
  try {
    const state = raw ? JSON.parse(raw) : {};
    return state && typeof state === "object" ? state : {};
  } catch {
    return {};
  }
}

// The view after drilling into `series` of the answer to `state`.
function drilledState(state, series, nextGroupBy) {
  return {
    ...state,
    drill: [...(state.drill || []), { tags: series.tags || {}, group_by: state.group_by }],
    group_by: nextGroupBy,
  };
}

// Breadcrumbs: "All" then one crumb per drill step; each but the last links back up.
function renderBreadcrumbs(state) {
  const steps = state.drill || [];
  breadcrumbs.replaceChildren();
  if (!steps.length) return;
  const crumbs = [["All", null], ...steps.map((step, i) => [Crisp.seriesLabel({ tags: step.tags }), i])];
  crumbs.forEach(([text, i], position) => {
    if (position) breadcrumbs.append(" › ");
    const last = position === crumbs.length - 1;
    if (last) {
      breadcrumbs.append(Object.assign(document.createElement("span"), { textContent: text }));
      return;
    }
    // Going back to before step `position`: its trail, the grouping it replaced.
    const target = { ...state, drill: steps.slice(0, position), group_by: steps[position].group_by };
    if (!target.drill.length) delete target.drill;
    breadcrumbs.append(Object.assign(document.createElement("a"), {
      href: Crisp.exploreURL(target), textContent: text,
    }));
  });
}

function seriesCaption(series) {
  const tags = Object.entries(series.tags || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  return series.name + (tags ? ` {${tags}}` : "");
}

function renderTable(series) {
  const table = document.createElement("table");
  table.className = "results";
  table.createCaption().textContent = seriesCaption(series);
  const head = table.createTHead().insertRow();
  for (const column of series.columns) head.append(Object.assign(document.createElement("th"), { textContent: column }));
  const body = table.createTBody();
  for (const row of series.values) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell === null ? "" : String(cell);
  }
  return table;
}

// Past this many rows in all, each series' table is built when its summary is opened:
// 100 series × 1,000 points would be 100,000 rows of DOM, built before the chart
// shows and laid out again on every hover frame.
const TABLE_ROWS_SHOWN = 2000;

function renderTables(series) {
  const rows = series.reduce((n, s) => n + s.values.length, 0);
  if (rows <= TABLE_ROWS_SHOWN) return series.map(renderTable);
  return series.map((s) => {
    const box = Object.assign(document.createElement("details"), { className: "series-table" });
    box.append(Object.assign(document.createElement("summary"), {
      textContent: `${seriesCaption(s)} · ${s.values.length} rows`,
    }));
    box.addEventListener("toggle", () => {
      if (box.open && !box.querySelector("table")) box.append(renderTable(s));
    });
    return box;
  });
}

let chart = null;

// Dimming the other lines when one is hovered redraws every line on each hover frame:
// with a software canvas that is about half a second at 100 series × 1,000 points
// (python -m crisp.bench.console_chart), so only charts up to this many points do it.
// A click drills into the line under the cursor either way (nearestSeries).
const FOCUS_POINTS_MAX = 20000;
const NEAR_PX = 16;
// Past this many series the legend scrolls in a box of its own and the cursor shows no
// dot per series: a hover frame then repaints a few legend rows, not 100 rows and dots
// (37 and 50 → 59 frames/s at 100 series × 1,000 points in the same benchmark).
const MANY_SERIES = 20;

// The shown series whose value at the cursor is within NEAR_PX of it, nearest first.
function nearestSeries(u) {
  const { idx, top } = u.cursor;
  if (idx == null || top == null || top < 0) return null;
  let best = null;
  let gap = NEAR_PX;
  for (let i = 1; i < u.series.length; i++) {
    const value = u.data[i][idx];
    if (!u.series[i].show || value == null) continue;
    const distance = Math.abs(u.valToPos(value, "y") - top);
    if (distance < gap) [best, gap] = [i, distance];
  }
  return best;
}

// One uPlot chart for all series. Drag to zoom, double-click to reset, hover for
// values, click a legend swatch to hide a series; when the query is grouped, a legend
// name or a click on a line drills down into that series.
function renderChart(state, answer) {
  const box = document.getElementById("chart");
  if (chart) chart.destroy();
  chart = null;
  box.replaceChildren();
  if (!answer.series.length || typeof uPlot === "undefined") return;
  const data = Crisp.chartData(answer.series);
  const labels = answer.series.map(Crisp.seriesLabel);
  const drillable = (state.group_by || []).length > 0;
  const drillLinks = answer.series.map((s) =>
    drillable ? Crisp.exploreURL(drilledState(state, s, answer.next_group_by)) : null);
  const points = data.slice(1).reduce((n, column) => n + column.filter((v) => v !== null).length, 0);
  const options = {
    width: Math.max(box.clientWidth, 600),
    height: 320,
    focus: { alpha: 0.3 },
    cursor: {
      focus: { prox: points <= FOCUS_POINTS_MAX ? NEAR_PX : -1 },
      points: { show: answer.series.length <= MANY_SERIES },
    },
    series: [
      {},
      ...answer.series.map((s, i) => {
        let label = labels[i];
        if (drillable) {
          label = Object.assign(document.createElement("a"), {
            href: drillLinks[i], textContent: labels[i], className: "drill",
            title: answer.next_group_by.length ? `drill down: by ${answer.next_group_by.join(", ")}` : "drill down",
          });
        }
        return { label, stroke: Crisp.PALETTE[i % Crisp.PALETTE.length], width: 1.5, spanGaps: false };
      }),
    ],
    axes: [{}, { label: state.aggregate }],
  };
  chart = new uPlot(options, data, box);
  chart.root.classList.toggle("many-series", answer.series.length > MANY_SERIES);
  if (drillable) {
    let down = null;
    chart.over.addEventListener("mousedown", (e) => { down = [e.clientX, e.clientY]; });
    chart.over.addEventListener("click", (e) => {
      // A drag zooms; only a still click on (near) a line drills down.
      const still = down && Math.abs(e.clientX - down[0]) < 4 && Math.abs(e.clientY - down[1]) < 4;
      const near = still ? nearestSeries(chart) : null;
      if (near) location.href = drillLinks[near - 1];
    });
  }
  // For tests and for people poking in the console: what the chart was drawn from.
  box.dataset.series = String(answer.series.length);
  box.dataset.points = String(points);
  window.crispChart = { labels, data, drill: drillLinks, uplot: chart };
}

async function run() {
  const state = currentState();
  history.replaceState(null, "", "?" + new URLSearchParams({ q: JSON.stringify(state) }));
  renderBreadcrumbs(state);
  const query = Crisp.apiQuery(state);
  csvLink.href = "/api/query/?" + new URLSearchParams({ format: "csv", q: JSON.stringify(query) });
  csvLink.hidden = false;
  setStatus("Running…");
  try {
    const answer = await Crisp.api("/api/query/", { method: "POST", body: JSON.stringify(query) });
    influxql.textContent = answer.query;
    renderChart(state, answer);
    results.replaceChildren(...renderTables(answer.series));
    let summary = answer.series.length ? `${answer.series.length} series, interval ${answer.interval}` : "No data in this range.";
    if (answer.series.length && (state.group_by || []).length) {
      const next = answer.next_group_by.length ? ` by ${answer.next_group_by.join(", ")}` : "";
      summary += ` · click a line or legend name to drill down${next}`;
    }
    setStatus(summary);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function init() {
  const state = stateFromURL();
  drill = Array.isArray(state.drill) ? state.drill : [];
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

// A new database or measurement starts a new exploration: the trail no longer applies.
form.database.addEventListener("change", () => { drill = []; loadMeasurements({}).then(() => loadMeasurementMeta({})).catch((e) => setStatus(e.message, true)); });
form.measurement.addEventListener("change", () => { drill = []; loadMeasurementMeta({}).catch((e) => setStatus(e.message, true)); });
document.getElementById("add-filter").addEventListener("click", () => addFilter());
form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
init();

// "Add to dashboard": the query as run (the drill trail folded into filters) becomes a
// panel of a dashboard the user may edit.
const savePanel = document.getElementById("save-panel");

async function loadEditableDashboards() {
  const dashboards = (await Crisp.api("/api/dashboards/")).filter((d) => d.can_edit);
  savePanel.dashboard.replaceChildren(...dashboards.map((d) => new Option(d.title, d.id)));
  savePanel.hidden = dashboards.length === 0;
}

savePanel.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = savePanel.dashboard.value;
  try {
    const dashboard = await Crisp.api(`/api/dashboards/${id}/`);
    const panel = { title: savePanel.title.value, query: Crisp.apiQuery(currentState()) };
    await Crisp.api(`/api/dashboards/${id}/`, {
      method: "PATCH", body: JSON.stringify({ panels: [...dashboard.panels, panel] }),
    });
    setStatus(`Added to "${dashboard.title}".`);
  } catch (error) {
    setStatus(error.message, true);
  }
});
loadEditableDashboards().catch(() => {});
