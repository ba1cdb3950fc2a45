// The print button of the printable code pages. Phones show no Print command, so the page
// offers one; the button stays hidden where scripts do not run (the hint names the command).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
