// Dashboards list, for editors: create an empty dashboard or import an exported one
// (POST /api/dashboards/ and /api/dashboards/import/), then open it.
"use strict";

const statusLine = document.getElementById("status");
const setStatus = (text, isError = false) => Crisp.setStatus(statusLine, text, isError);
const open = (dashboard) => { location.href = `/dashboards/${dashboard.id}/`; };

document.getElementById("new-dashboard").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    open(await Crisp.api("/api/dashboards/", {
      method: "POST",
      body: JSON.stringify({ team: Number(form.team.value), title: form.title.value, panels: [] }),
    }));
  } catch (error) {
    setStatus(error.message, true);
  }
});

document.getElementById("import-dashboard").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const file = form.file.files[0];
    const text = file ? await file.text() : form.document.value;
    let dashboard;
    try {
      dashboard = JSON.parse(text);
    } catch {
      throw new Error("that is not JSON: export a dashboard from its page to get a file to import");
    }
    open(await Crisp.api("/api/dashboards/import/", {
      method: "POST",
      body: JSON.stringify({ team: Number(form.team.value), dashboard }),
    }));
  } catch (error) {
    setStatus(error.message, true);
  }
});
