// On a phone every .table is shown as cards (static/css/portal.css); each cell shows its
// column's name from data-label. Cells the template did not label get their column's header here.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      // the actions' column is named for screen readers only; its buttons need no label above them
      return th.classList.contains("actions") ? "" : th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && heads[column]) {
          cell.setAttribute("data-label", heads[column]);
        }
        column += cell.colSpan;
      });
    });
  });
});
