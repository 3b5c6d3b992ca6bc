// A service page: GET /api/services/<name>/ — totals, then one sortable table per
// breakdown tag (endpoint, host …: CRISP_LATENCY_BREAKDOWN_TAGS). Every row opens
// Explore drilled down to it, with breadcrumbs back to the service and to all.
"use strict";

const form = document.getElementById("service");
const statusLine = document.getElementById("status");
const latency = JSON.parse(document.getElementById("latency-settings").textContent);
const service = JSON.parse(document.getElementById("service-data").textContent);
const setStatus = (text, isError = false) => Crisp.setStatus(statusLine, text, isError);
const sourceNote = document.getElementById("requests-source");

// Explore at p95, drilled into the service (and into `tag=value` when given).
function exploreState(tag, value) {
  const order = [latency.service_tag, ...latency.breakdown_tags];
  const base = {
    database: form.db.value, measurement: latency.measurement, field: latency.field,
    aggregate: "p95", start: form.range.value, end: "now", interval: "auto", filters: [],
  };
  const drill = [{ tags: { [latency.service_tag]: service }, group_by: [latency.service_tag] }];
  if (tag === undefined) return { ...base, drill, group_by: order.slice(1, 2) };
  drill.push({ tags: { [tag]: value }, group_by: [tag] });
  const next = order[order.indexOf(tag) + 1];
  return { ...base, drill, group_by: next ? [next] : [] };
}

function renderSummary(summary) {
  const box = document.getElementById("summary");
  const items = summary ? [
    ["Requests", Crisp.fmt(summary.requests, 0)], ["Rate /s", Crisp.fmt(summary.rate_per_s, 3)],
    ["Error rate", Crisp.percent(summary.error_rate)], ["p95 ms", Crisp.fmt(summary.p95_ms, 1)],
    ["p99 ms", Crisp.fmt(summary.p99_ms, 1)],
  ] : [];
  box.replaceChildren(...items.flatMap(([term, value]) => [
    Object.assign(document.createElement("dt"), { textContent: term }),
    Object.assign(document.createElement("dd"), { textContent: value }),
  ]));
}

function renderBreakdowns(breakdowns) {
  const box = document.getElementById("breakdowns");
  box.replaceChildren();
  for (const tag of latency.breakdown_tags) {
    const heading = Object.assign(document.createElement("h2"), { textContent: `By ${tag}` });
    const element = document.createElement("table");
    element.className = "results";
    element.id = `by-${tag}`;
    element.createTHead().append(statsHeader(tag, "name"));
    element.createTBody();
    box.append(heading, element);
    statsTable(element, "name", (value) => Crisp.exploreURL(exploreState(tag, value)))
      .show(breakdowns[tag] || []);
  }
}

async function load() {
  if (!form.db.value) return;
  const params = new URLSearchParams({ db: form.db.value, range: form.range.value });
  history.replaceState(null, "", "?" + params);
  document.getElementById("explore-link").href = Crisp.exploreURL(exploreState());
  setStatus("Loading…");
  try {
    const detail = await Crisp.api(`/api/services/${encodeURIComponent(service)}/?${params}`);
    setStatus("");
    renderSummary(detail.summary);
    renderBreakdowns(detail.breakdowns);
    const rows = [detail.summary, ...Object.values(detail.breakdowns).flat()];
    showRequestsSource(sourceNote, rows.filter(Boolean));
  } catch (error) {
    renderSummary(null);
    renderBreakdowns({});
    showRequestsSource(sourceNote, []);
    setStatus(error.message, true);
  }
}

latencyForm(form, latency.default_db, setStatus, load);
