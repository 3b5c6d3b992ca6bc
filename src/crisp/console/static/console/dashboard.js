// One dashboard: a 24-column grid of panels, each a saved explore query run through
// POST /api/dashboards/<id>/query/ with the variables picked here (the server puts
// them into the query model) and drawn with uPlot. Variables, range and auto-refresh
// live in the URL (?var-service=checkout&range=-1h&refresh=30s).
"use strict";

const page = JSON.parse(document.getElementById("dashboard-page").textContent);
const controls = document.getElementById("controls");
const variablesBox = document.getElementById("variables");
const panelsBox = document.getElementById("panels");
const statusLine = document.getElementById("status");
const setStatus = (text, isError = false) => Crisp.setStatus(statusLine, text, isError);
const ROW_PX = 40, GAP_PX = 10;
const REFRESH_MS = { "10s": 10e3, "30s": 30e3, "1m": 60e3, "5m": 300e3 };
let dashboard = null;
let charts = [];
let timer = null;
let loading = false;
window.crispPanels = [];

function picked() {
  const values = {};
  for (const select of variablesBox.querySelectorAll("select")) values[select.name] = select.value;
  return values;
}

function saveURL() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(picked())) params.set(`var-${name}`, value);
  if (controls.range.value) params.set("range", controls.range.value);
  if (controls.refresh.value) params.set("refresh", controls.refresh.value);
  history.replaceState(null, "", "?" + params);
}

async function loadVariables(wanted) {
  const choices = await Crisp.api(`/api/dashboards/${page.id}/variable-values/`);
  variablesBox.replaceChildren(...dashboard.variables.map((variable) => {
    const label = document.createElement("label");
    label.append(variable.title || variable.name);
    const select = document.createElement("select");
    select.name = variable.name;
    const values = (choices.find((c) => c.name === variable.name) || { values: [] }).values;
    select.append(new Option("all", ""), ...values.map((v) => new Option(v, v)));
    const want = wanted.get(`var-${variable.name}`) ?? variable.default_value ?? "";
    if (want === "" || values.includes(want)) select.value = want;
    select.addEventListener("change", refresh);
    label.append(select);
    return label;
  }));
}

function panelBox(panel, index) {
  const box = document.createElement("section");
  box.className = "panel";
  box.dataset.panel = String(index);
  const grid = panel.grid || { w: 12, h: 8 };
  box.style.gridColumn = grid.x === undefined ? `span ${grid.w}` : `${grid.x + 1} / span ${grid.w}`;
  box.style.gridRow = grid.y === undefined ? `span ${grid.h}` : `${grid.y + 1} / span ${grid.h}`;
  // The title opens the panel's query in Explore (its link is set once it has run).
  const title = document.createElement("h3");
  title.append(Object.assign(document.createElement("a"), { textContent: panel.title, title: "open in Explore" }));
  const plot = document.createElement("div");
  plot.className = "plot";
  box.append(title, plot);
  return box;
}

function lastValuesTable(series) {
  const table = document.createElement("table");
  table.className = "results";
  const head = table.createTHead().insertRow();
  for (const text of ["series", "last"]) head.append(Object.assign(document.createElement("th"), { textContent: text }));
  const body = table.createTBody();
  for (const s of series) {
    const last = [...s.values].reverse().find((row) => row[1] !== null);
    const tr = body.insertRow();
    tr.insertCell().textContent = Crisp.seriesLabel(s);
    tr.insertCell().textContent = last ? String(last[1]) : "–";
  }
  return table;
}

function drawPanel(index, panel, answer) {
  const box = panelsBox.children[index];
  const plot = box.querySelector(".plot");
  if (charts[index]) charts[index].destroy();
  charts[index] = null;
  plot.replaceChildren();
  box.dataset.series = String(answer.series.length);
  const data = answer.series.length ? Crisp.chartData(answer.series) : [[]];
  box.dataset.points = String(data.slice(1).flat().filter((v) => v !== null).length);
  window.crispPanels[index] = { labels: answer.series.map(Crisp.seriesLabel), data, query: answer.query };
  box.querySelector("h3 a").href = Crisp.exploreURL(answer.explore);
  if (!answer.series.length) {
    plot.append(Object.assign(document.createElement("p"), { textContent: "No data in this range." }));
    return;
  }
  if (panel.type === "table") {
    plot.append(lastValuesTable(answer.series));
    return;
  }
  // The panel's size is fixed by the grid; the chart gets what the title leaves.
  const total = box.clientHeight - box.querySelector("h3").offsetHeight - 12;
  const options = {
    width: Math.max(plot.clientWidth, 200),
    height: Math.max(total - 40, 60),
    series: [{}, ...answer.series.map((s, i) => ({
      label: Crisp.seriesLabel(s), stroke: Crisp.PALETTE[i % Crisp.PALETTE.length], width: 1.5,
    }))],
    axes: [{}, { label: panel.query.aggregate || "mean" }],
  };
  const chart = new uPlot(options, data, plot);
  // The legend wraps with many series: once laid out, give the plot what it leaves.
  requestAnimationFrame(() => {
    const legend = chart.root.querySelector(".u-legend");
    const room = total - (legend ? legend.offsetHeight : 0) - 4;
    if (room >= 60 && room !== options.height) chart.setSize({ width: options.width, height: room });
  });
  charts[index] = chart;
}

// "$name" in a title shows the picked value (display only: queries get values from
// the server, through the query model).
function panelTitle(title) {
  const values = picked();
  return title.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name) =>
    name in values ? (values[name] || "all") : whole);
}

async function runPanel(index, panel) {
  const body = { panel: index, variables: picked() };
  panelsBox.children[index].querySelector("h3 a").textContent = panelTitle(panel.title);
  if (controls.range.value) Object.assign(body, { start: controls.range.value, end: "now" });
  const box = panelsBox.children[index];
  try {
    drawPanel(index, panel, await Crisp.api(`/api/dashboards/${page.id}/query/`, {
      method: "POST", body: JSON.stringify(body),
    }));
    box.classList.remove("failed");
  } catch (error) {
    box.classList.add("failed");
    box.dataset.series = "0";
    box.querySelector(".plot").replaceChildren(
      Object.assign(document.createElement("p"), { className: "error", textContent: error.message }));
  }
}

async function refresh() {
  if (loading || !dashboard) return;
  loading = true;
  saveURL();
  setStatus("Loading…");
  try {
    await Promise.all(dashboard.panels.map((panel, i) => runPanel(i, panel)));
    const failed = panelsBox.querySelectorAll(".panel.failed").length;
    setStatus(failed ? `${failed} panel(s) failed` : `Updated ${new Date().toLocaleTimeString()}`, failed > 0);
  } finally {
    loading = false;
  }
}

function schedule() {
  if (timer) clearInterval(timer);
  timer = null;
  const ms = REFRESH_MS[controls.refresh.value];
  if (ms) timer = setInterval(refresh, ms);
  saveURL();
}

function editable(d) {
  return { title: d.title, description: d.description, variables: d.variables, panels: d.panels };
}

function setUpEditing() {
  const editor = document.getElementById("editor");
  document.getElementById("edit").addEventListener("click", () => {
    editor.document.value = JSON.stringify(editable(dashboard), null, 2);
    editor.hidden = false;
  });
  document.getElementById("cancel").addEventListener("click", () => { editor.hidden = true; });
  editor.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      let changes;
      try {
        changes = JSON.parse(editor.document.value);
      } catch {
        throw new Error("the dashboard is not valid JSON");
      }
      await Crisp.api(`/api/dashboards/${page.id}/`, { method: "PATCH", body: JSON.stringify(changes) });
      location.reload();
    } catch (error) {
      setStatus(error.message, true);
    }
  });
  document.getElementById("delete").addEventListener("click", async () => {
    if (!confirm(`Delete dashboard "${dashboard.title}"?`)) return;
    try {
      await Crisp.api(`/api/dashboards/${page.id}/`, { method: "DELETE" });
      location.href = "/dashboards/";
    } catch (error) {
      setStatus(error.message, true);
    }
  });
}

controls.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
controls.range.addEventListener("change", refresh);
controls.refresh.addEventListener("change", schedule);

(async () => {
  const wanted = new URLSearchParams(location.search);
  controls.range.value = wanted.get("range") || "";
  controls.refresh.value = REFRESH_MS[wanted.get("refresh")] ? wanted.get("refresh") : "";
  try {
    dashboard = await Crisp.api(`/api/dashboards/${page.id}/`);
    if (page.can_edit) setUpEditing();
    await loadVariables(wanted);
    panelsBox.replaceChildren(...dashboard.panels.map(panelBox));
    if (!dashboard.panels.length) setStatus("No panels yet: save a query from Explore to this dashboard.");
    else await refresh();
    schedule();
  } catch (error) {
    setStatus(error.message, true);
  }
})();
