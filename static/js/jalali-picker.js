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
