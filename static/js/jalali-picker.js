// The Jalali date picker on every date box (inputs with data-jdp, see ramis/common/forms.py):
// @majidh1/jalalidatepicker, served from django-jalali-date's static files (loaded before this
// file). That bundle starts watching on window load with "-" between the parts and a time
// picker; the portal's boxes take dates as ۱۳۶۵/۰۴/۱۲, so the options are set here after it.
window.addEventListener("load", () => {
  if (!window.jalaliDatepicker) return;
  window.jalaliDatepicker.updateOptions({
    separatorChars: { date: "/" },
    time: false,
    hideAfterChange: true,
    autoShow: true,
    persianDigits: false,
    zIndex: 1000,
  });
});

// Keyboard and screen readers (issue 13, axe-core): the calendar's year and month lists get
// names, Escape closes it, and so does the focus leaving for anything outside the date box and
// the calendar (Tab to the next field), as a click outside it already does.
(() => {
  const picker = () => document.querySelector("jdp-container");
  const shown = () => { const p = picker(); return p && p.style.visibility !== "hidden" && p.style.display !== "none"; };
  const hide = () => { if (window.jalaliDatepicker && shown()) window.jalaliDatepicker.hide(); };
  const name = () => {
    const p = picker();
    if (!p) return;
    for (const [selector, label] of [[".jdp-year select", "سال"], [".jdp-month select", "ماه"]]) {
      const list = p.querySelector(selector);
      if (list && !list.hasAttribute("aria-label")) list.setAttribute("aria-label", label);
    }
  };
  new MutationObserver(name).observe(document.documentElement, { childList: true, subtree: true });
  // The calendar shows itself again 300 ms after opening: a close that quick is repeated after it.
  const hideNowAndAfterReshow = (stillWanted) => {
    hide();
    setTimeout(() => { if (stillWanted()) hide(); }, 350);
  };
  const outside = (element) => !element || (!element.matches("input[data-jdp]") && !element.closest("jdp-container"));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !shown()) return;
    const box = document.activeElement;
    hideNowAndAfterReshow(() => document.activeElement === box);
  });
  document.addEventListener("focusin", (event) => {
    if (outside(event.target)) hideNowAndAfterReshow(() => outside(document.activeElement));
  });
})();
