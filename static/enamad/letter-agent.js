// The commitment letter page (issue 14): is the token agent (`python -m tokens.agent`) running on
// this computer? A request to its loopback port that gets any answer says yes (the agent answers
// GET with 405); a refused connection or a timeout says no. Nothing is sent but the request line;
// the PIN is typed into the agent on this computer, never into the page.
(function () {
  var box = document.querySelector("[data-agent-url]");
  if (!box || !window.fetch) {
    return;
  }
  var found = document.getElementById("agent-found");
  var missing = document.getElementById("agent-missing");
  var controller = window.AbortController ? new AbortController() : null;
  var timer = setTimeout(function () { if (controller) { controller.abort(); } }, 1500);
  fetch(box.getAttribute("data-agent-url"), {mode: "no-cors", cache: "no-store", signal: controller && controller.signal})
    .then(function () {
      found.hidden = false;
      missing.hidden = true;
      box.setAttribute("data-agent", "found");
    })
    .catch(function () {
      box.setAttribute("data-agent", "missing");
    })
    .finally(function () { clearTimeout(timer); });
})();
