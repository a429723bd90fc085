// e-Namad: show the sign-up fields of the chosen persona; copy the seal snippet.
(function () {
  var select = document.querySelector('#signup-form select[name="persona"]');
  if (select) {
    var sync = function () {
      document.querySelectorAll('fieldset[data-persona]').forEach(function (group) {
        group.hidden = group.getAttribute('data-persona') !== select.value;
      });
    };
    select.addEventListener('change', sync);
    sync();
  }
  document.querySelectorAll('[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.querySelector(button.getAttribute('data-copy'));
      source.select();
      var done = function () { var note = document.getElementById('copy-done'); if (note) { note.hidden = false; } };
      if (navigator.clipboard) { navigator.clipboard.writeText(source.value).then(done, function () { document.execCommand('copy'); done(); }); }
      else { document.execCommand('copy'); done(); }
    });
  });
})();
