// The console's one script. Everything works without it; it only adds shift-click
// range selection to lists of checkboxes (bulk reassign).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-range-select]").forEach(function (group) {
      var boxes = Array.prototype.slice.call(group.querySelectorAll("input[type=checkbox][name]"));
      var last = null;
      boxes.forEach(function (box) {
        box.addEventListener("click", function (event) {
          if (event.shiftKey && last !== null && last !== box) {
            var from = boxes.indexOf(last), to = boxes.indexOf(box);
            var lo = Math.min(from, to), hi = Math.max(from, to);
            for (var i = lo; i <= hi; i++) { boxes[i].checked = box.checked; }
          }
          last = box;
        });
      });
    });
  });
})();
