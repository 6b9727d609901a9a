// Filters the rows of every people table as the reader types; plain DOM, no framework.
(function () {
  var box = document.getElementById("search");
  if (!box) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.people tbody tr"));
  var status = document.getElementById("search-status");
  box.hidden = false;
  box.previousElementSibling.hidden = false;
  box.addEventListener("input", function () {
    var query = box.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var hit = query === "" || row.textContent.toLowerCase().indexOf(query) !== -1;
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    status.textContent = query === "" ? "" : shown + " of " + rows.length + " rows match";
  });
})();
