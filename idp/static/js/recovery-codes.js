// Recovery codes page: "Copy" and "Print" buttons. Progressive enhancement: without this
// script the buttons stay hidden and the page still prints cleanly (print stylesheet).
(function () {
  "use strict";
  var list = document.getElementById("recovery-codes");
  var tools = document.getElementById("recovery-tools");
  if (!list || !tools) { return; }
  var status = document.getElementById("recovery-copy-status");
  var copy = tools.querySelector("[data-copy]");
  var print = tools.querySelector("[data-print]");
  var codes = Array.prototype.map.call(list.querySelectorAll("strong"), function (el) {
    return el.textContent.trim();
  }).join("\n");

  if (print && typeof window.print === "function") {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(codes + "\n").then(function () {
        if (status) { status.textContent = copy.getAttribute("data-done"); }
      }, function () {
        if (status) { status.textContent = copy.getAttribute("data-failed"); }
      });
    });
  }
  if (!copy.hidden || !print.hidden) { tools.hidden = false; }
}());
