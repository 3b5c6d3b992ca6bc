// Helpers every console page shares: the JSON API with session auth and CSRF, the
// status line, explore links, sparklines and number formatting. Plain script: it
// defines one global, `Crisp`.
"use strict";

const Crisp = (() => {
  function cookie(name) {
    const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return found ? decodeURIComponent(found.split("=")[1]) : "";
  }

  // Answers the JSON body; throws an Error carrying the API's message on a 4xx/5xx.
  async function api(path, options = {}) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") },
      ...options,
    });
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) {
      const fields = body.fields ? " " + JSON.stringify(body.fields) : "";
      throw new Error((body.error || "request failed") + fields);
    }
    return body;
  }

  function setStatus(element, text, isError = false) {
    element.textContent = text;
    element.className = isError ? "error" : "";
  }

  // The explore page showing `state` (the explore model plus the drill-down trail).
  function exploreURL(state) {
    return "/explore/?" + new URLSearchParams({ q: JSON.stringify(state) });
  }

  // Filters a query runs with: the user's, then one `=` per tag of each drill step.
  function effectiveFilters(state) {
    const drilled = (state.drill || []).flatMap((step) =>
      Object.entries(step.tags).map(([tag, value]) => ({ tag, op: "=", value })));
    return [...(state.filters || []), ...drilled];
  }

  // The explore model the API takes (the trail folded into filters).
  function apiQuery(state) {
    const { drill, ...query } = state;
    return { ...query, filters: effectiveFilters(state) };
  }

  function seriesLabel(series) {
    const tags = Object.entries(series.tags || {}).map(([k, v]) => `${k}=${v}`).join(", ");
    return tags || series.name;
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

  function percent(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(2) + " %";
  }

  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  // uPlot data for an answer: the series share the GROUP BY time buckets, so the first
  // series' times are the x axis (seconds, as uPlot wants).
  function chartData(series) {
    const times = series[0].values.map((row) => Date.parse(row[0]) / 1000);
    return [times, ...series.map((s) => s.values.map((row) => row[1]))];
  }

  return {
    api, setStatus, exploreURL, effectiveFilters, apiQuery, seriesLabel, sparkline, fmt,
    percent, PALETTE, chartData,
  };
})();
