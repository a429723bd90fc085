// A button with data-print prints the page (the appointment slip); an inline onclick would be
// refused by the Content-Security-Policy (script-src 'self').
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) { event.preventDefault(); window.print(); }
});
