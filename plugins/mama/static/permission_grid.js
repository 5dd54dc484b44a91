// メニュー権限の表: 削除 ⇒ 編集 ⇒ 閲覧. Ticking a level ticks the ones below it; clearing one clears those above.
// The server applies the same rule on save, so the grid works without this script too.
(function () {
  "use strict";
  var grid = document.querySelector("[data-testid=permission-grid]");
  if (!grid) { return; }
  grid.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches("input[type=checkbox]")) { return; }
    var row = Array.prototype.slice.call(box.closest("tr").querySelectorAll("input[type=checkbox]"));
    var index = row.indexOf(box);
    row.forEach(function (other, position) {
      if (box.checked && position < index) { other.checked = true; }
      if (!box.checked && position > index) { other.checked = false; }
    });
  });
}());
