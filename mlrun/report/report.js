// The report's table: sort by a header click, filter by typed text. Everything else is plotly's.
(function () {
  "use strict";
  var table = document.getElementById("compare-table");
  document.querySelectorAll(".controls").forEach(function (el) { el.hidden = false; });
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var count = document.getElementById("table-count");

  function key(cell) {
    var text = cell.getAttribute("data-v");
    if (text === "") { return null; }
    var number = Number(text);
    return isNaN(number) ? text.toLowerCase() : number;
  }

  function compare(a, b, descending) {
    if (a === null || b === null) { return a === b ? 0 : (a === null ? 1 : -1); }  // empty cells last
    if (typeof a !== typeof b) { return typeof a === "number" ? -1 : 1; }  // numbers before text
    var order = a < b ? -1 : (a > b ? 1 : 0);
    return descending ? -order : order;
  }

  function sortBy(index) {
    var th = heads[index];
    var descending = th.getAttribute("aria-sort") === "ascending";
    heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: key(row.cells[index]), i: i };
    });
    rows.sort(function (a, b) { return compare(a.key, b.key, descending) || a.i - b.i; });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }

  heads.forEach(function (th, index) {
    th.querySelector("button").addEventListener("click", function () { sortBy(index); });
  });

  function showCount() {
    var shown = body.querySelectorAll("tr:not(.hidden)").length;
    count.textContent = shown + " of " + body.rows.length + " rows";
  }

  document.getElementById("table-filter").addEventListener("input", function (event) {
    var terms = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(body.rows, function (row) {
      var cells = Array.prototype.map.call(row.cells, function (c) { return c.textContent.toLowerCase(); });
      var keep = terms.every(function (t) {  // each term in some cell (not across two)
        return cells.some(function (c) { return c.indexOf(t) >= 0; });
      });
      row.classList.toggle("hidden", !keep);
    });
    showCount();
  });
  showCount();

  function setAll(open) {
    document.querySelectorAll("details.run").forEach(function (d) { d.open = open; });
  }
  document.getElementById("open-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("close-all").addEventListener("click", function () { setAll(false); });
}());
