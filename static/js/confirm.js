// A form with data-confirm="question" asks the question before it is sent (the page's
// Content-Security-Policy allows no inline onsubmit handler).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
