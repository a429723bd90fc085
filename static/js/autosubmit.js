// Sends the form marked data-autosubmit as soon as the page is read (the bank gateway hand-off;
// the Content-Security-Policy allows no inline script).
(function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
})();
