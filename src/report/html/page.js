// skewer report: filter and sort the features. Written for this page; no
// library. The page reads the same without it (every section is shown).
"use strict";
(function () {
  const table = document.getElementById("features");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const sectionOf = new Map();
  for (const s of document.querySelectorAll("section.feature")) sectionOf.set(s.id, s);
  const filter = document.getElementById("filter");
  const kind = document.getElementById("kind");
  const driftedOnly = document.getElementById("drifted-only");
  const anomaliesOnly = document.getElementById("anomalies-only");
  const logScale = document.getElementById("log-scale");
  const shown = document.getElementById("shown");

  function apply() {
    const q = filter.value.trim().toLowerCase();
    let n = 0;
    for (const row of rows) {
      const s = sectionOf.get(row.dataset.for);
      const d = s.dataset;
      const show =
        (q === "" || d.feature.toLowerCase().includes(q)) &&
        (kind.value === "" || d.kind === kind.value) &&
        (!driftedOnly.checked || d.drifted === "true") &&
        (!anomaliesOnly.checked || Number(d.anomalies) > 0);
      row.hidden = !show;
      s.hidden = !show;
      if (show) n++;
    }
    shown.textContent = n + " of " + rows.length + " features";
  }

  // A cell's sort key: its number (data-v) where it has one, else its text.
  function key(row, col) {
    const cell = row.cells[col];
    const v = cell.dataset.v;
    return v === undefined ? cell.textContent.trim().toLowerCase() : Number(v);
  }

  function sortBy(col, th) {
    const asc = th.getAttribute("aria-sort") !== "ascending";
    for (const h of table.tHead.rows[0].cells) h.setAttribute("aria-sort", "none");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const keyed = rows.map((r, i) => [key(r, col), i, r]);
    keyed.sort((a, b) => {
      const [x, y] = [a[0], b[0]];
      // Numbers before text ("-"), then the original order: a stable sort.
      const tx = typeof x, ty = typeof y;
      let c = tx === ty ? (x < y ? -1 : x > y ? 1 : 0) : tx === "number" ? -1 : 1;
      if (!asc && tx === ty) c = -c;
      return c || a[1] - b[1];
    });
    for (const [, , r] of keyed) body.appendChild(r);
  }

  // Buttons: the table sorts from the keyboard (Tab, Enter or Space).
  for (const button of table.tHead.querySelectorAll("button[data-col]")) {
    button.addEventListener("click", () =>
      sortBy(Number(button.dataset.col), button.parentElement));
  }
  for (const el of [filter, kind, driftedOnly, anomaliesOnly]) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  }
  logScale.addEventListener("change", () =>
    document.body.classList.toggle("log-scale", logScale.checked));
  document.getElementById("controls").addEventListener("submit", (e) => e.preventDefault());
  apply();
})();
