// The Jalali date picker on every date box (inputs with data-jdp, see ramis/common/forms.py), as the
// WAI-ARIA APG "date picker dialog" pattern: typing stays the first way in; a button beside the box
// opens a dialog whose days are a grid with one tabbable day (roving tabindex). In the grid the
// arrows move by day and week as the page's direction shows them (in RTL, ArrowLeft is the next
// day), Home/End go to the week's Saturday/Friday, PageUp/PageDown change month (with Shift, year),
// Enter or Space writes the day into the box as 1365/04/12 and Escape closes without a change;
// both give the focus back to the button. No library, no inline script or style (the CSP).
(() => {
  "use strict";
  const MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];
  const WEEKDAYS = ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"];
  const fa = (n) => String(n).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]);
  const pad = (n) => String(n).padStart(2, "0");

  // Days are numbered from 1/01/01 on the 33-year arithmetic calendar, the one jdatetime (and so
  // the server's parse_jalali_date) uses: the same leap years, checked for 1300-1500.
  const yearStart = (y) => 365 * (y - 1) + Math.floor((8 * y + 21) / 33);
  const monthStart = (m) => (m <= 7 ? (m - 1) * 31 : 186 + (m - 7) * 30);
  const dayNumber = (y, m, d) => yearStart(y) + monthStart(m) + d - 1;
  const jalali = (n) => {
    const y = 1 + Math.floor((33 * n + 3) / 12053), day = n - yearStart(y);
    const m = day < 216 ? Math.floor(day / 31) + 1 : Math.floor((day - 6) / 30) + 1;
    return { y, m, d: day - monthStart(m) + 1 };
  };
  const monthLength = (y, m) => (m === 12 ? dayNumber(y + 1, 1, 1) : dayNumber(y, m + 1, 1)) - dayNumber(y, m, 1);
  const NOWRUZ_1403 = dayNumber(1403, 1, 1); // Wednesday 20 March 2024
  const weekday = (n) => (((n - NOWRUZ_1403 + 4) % 7) + 7) % 7; // 0 Saturday ... 6 Friday
  const today = () => {
    const now = new Date();
    return NOWRUZ_1403 + Math.round((Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) - Date.UTC(2024, 2, 20)) / 864e5);
  };
  const fullDate = (n) => { const j = jalali(n); return `${WEEKDAYS[weekday(n)]} ${fa(j.d)} ${MONTHS[j.m - 1]} ${fa(j.y)}`; };
  const parse = (text) => {
    const found = /^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$/.exec(text.replace(/[۰-۹]/g, (d) => "۰۱۲۳۴۵۶۷۸۹".indexOf(d)));
    if (!found) return null;
    const [y, m, d] = found.slice(1).map(Number);
    return m >= 1 && m <= 12 && d >= 1 && d <= monthLength(y, m) ? dayNumber(y, m, d) : null;
  };

  const make = (tag, props = {}, ...children) => {
    const element = Object.assign(document.createElement(tag), props);
    element.append(...children);
    return element;
  };
  const boxes = new Map(); // each button's date box
  let box = null, opener = null, active = 0, chosen = null;
  const prev = make("button", { type: "button", className: "jdp-step", textContent: "›" });
  const next = make("button", { type: "button", className: "jdp-step", textContent: "‹" });
  prev.setAttribute("aria-label", "ماه قبل");
  next.setAttribute("aria-label", "ماه بعد");
  const month = make("select", {}, ...MONTHS.map((name, i) => make("option", { value: i + 1, textContent: name })));
  const year = make("select");
  month.setAttribute("aria-label", "ماه");
  year.setAttribute("aria-label", "سال");
  const days = make("tbody");
  const grid = make("table", { className: "jdp-grid" },
    make("thead", {}, make("tr", {}, ...WEEKDAYS.map((name) => make("th", { scope: "col", abbr: name, textContent: name[0] })))),
    days);
  grid.setAttribute("role", "grid");
  const hint = make("p", { className: "jdp-hint", id: "jdp-hint",
    textContent: "روز را با کلیدهای جهت، ماه را با PageUp و PageDown عوض کنید؛ Enter انتخاب، Esc بستن." });
  grid.setAttribute("aria-describedby", hint.id);
  const todayButton = make("button", { type: "button", className: "btn btn-small btn-secondary", textContent: "امروز" });
  const closeButton = make("button", { type: "button", className: "btn btn-small btn-secondary", textContent: "بستن" });
  const dialog = make("div", { className: "jdp-dialog", hidden: true },
    make("div", { className: "jdp-head" }, prev, month, year, next), grid, hint,
    make("div", { className: "jdp-foot" }, todayButton, closeButton));
  dialog.id = "jdp-dialog";
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-label", "انتخاب تاریخ");

  // The shown month's days, one row a week; the neighbouring months' cells stay empty.
  const render = (n) => {
    const { y, m } = jalali(n), first = dayNumber(y, m, 1), length = monthLength(y, m), now = today();
    const low = Math.min(1300, y, jalali(now).y), high = Math.max(jalali(now).y + 10, y);
    if (year.options.length !== high - low + 1 || Number(year.options[0].value) !== low) {
      year.replaceChildren(...Array.from({ length: high - low + 1 }, (_, i) => make("option", { value: low + i, textContent: fa(low + i) })));
    }
    month.value = m;
    year.value = y;
    grid.setAttribute("aria-label", `${MONTHS[m - 1]} ${fa(y)}`);
    const rows = [];
    for (let cell = -weekday(first); cell < length; cell += 7) {
      rows.push(make("tr", {}, ...Array.from({ length: 7 }, (_, i) => {
        const day = first + cell + i, td = make("td");
        if (cell + i < 0 || cell + i >= length) return td;
        td.textContent = fa(cell + i + 1);
        td.dataset.day = day;
        td.tabIndex = day === n ? 0 : -1;
        td.setAttribute("aria-label", fullDate(day));
        if (day === chosen) td.setAttribute("aria-selected", "true");
        if (day === now) td.setAttribute("aria-current", "date");
        return td;
      })));
    }
    days.replaceChildren(...rows);
    active = n;
  };
  const focusDay = (n) => {
    if (jalali(n).m !== jalali(active).m || jalali(n).y !== jalali(active).y) render(n);
    for (const td of days.querySelectorAll("td[data-day]")) td.tabIndex = Number(td.dataset.day) === n ? 0 : -1;
    active = n;
    days.querySelector(`td[data-day="${n}"]`).focus();
  };
  // The same day in another month, or that month's last day when it is shorter.
  const shiftMonths = (n, count) => {
    const { y, m, d } = jalali(n), index = y * 12 + (m - 1) + count, ny = Math.floor(index / 12), nm = (index % 12) + 1;
    return dayNumber(ny, nm, Math.min(d, monthLength(ny, nm)));
  };

  // Below the box, its end under the button; moved sideways when the row is narrower than the
  // calendar and it would leave the window (a box in a fieldset on a phone), then scrolled into
  // view whole, "today" and "close" included. CSSOM, not a style attribute: the CSP allows it.
  // Fitted again when the window changes size while it is open (a phone turned, a desktop window
  // narrowed), without scrolling the page under the person's hand.
  const fit = () => {
    dialog.style.translate = "";
    const { left, right } = dialog.getBoundingClientRect(), edge = 8, width = document.documentElement.clientWidth;
    const shift = left < edge ? edge - left : right > width - edge ? width - edge - right : 0;
    if (shift) dialog.style.translate = `${shift}px 0`;
  };
  const place = () => {
    fit();
    dialog.scrollIntoView({ block: "nearest", inline: "nearest" });
  };
  window.addEventListener("resize", () => {
    if (!dialog.hidden) fit();
  });
  const open = (button) => {
    opener = button;
    box = boxes.get(button);
    chosen = parse(box.value);
    button.after(dialog);
    dialog.hidden = false;
    button.setAttribute("aria-expanded", "true");
    render(chosen ?? today());
    place();
    focusDay(active);
  };
  const close = (giveBackFocus) => {
    if (dialog.hidden) return;
    dialog.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    if (giveBackFocus) opener.focus();
  };
  const pick = (n) => {
    const { y, m, d } = jalali(n);
    box.value = `${y}/${pad(m)}/${pad(d)}`;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.dispatchEvent(new Event("change", { bubbles: true }));
    close(true);
  };

  const KEYS = { ArrowUp: (n) => n - 7, ArrowDown: (n) => n + 7, Home: (n) => n - weekday(n), End: (n) => n + 6 - weekday(n),
    PageUp: (n, shift) => shiftMonths(n, shift ? -12 : -1), PageDown: (n, shift) => shiftMonths(n, shift ? 12 : 1) };
  days.addEventListener("keydown", (event) => {
    const rtl = getComputedStyle(grid).direction === "rtl";
    const sideways = { ArrowLeft: rtl ? 1 : -1, ArrowRight: rtl ? -1 : 1 }[event.key];
    if (event.key === "Enter" || event.key === " ") {
      pick(active);
    } else if (sideways) {
      focusDay(active + sideways);
    } else if (KEYS[event.key]) {
      focusDay(KEYS[event.key](active, event.shiftKey));
    } else {
      return;
    }
    event.preventDefault();
  });
  days.addEventListener("click", (event) => {
    const td = event.target.closest("td[data-day]");
    if (td) pick(Number(td.dataset.day));
  });
  prev.addEventListener("click", () => render(shiftMonths(active, -1)));
  next.addEventListener("click", () => render(shiftMonths(active, 1)));
  const choose = () => render(dayNumber(Number(year.value), Number(month.value), Math.min(jalali(active).d, monthLength(Number(year.value), Number(month.value)))));
  month.addEventListener("change", choose);
  year.addEventListener("change", choose);
  todayButton.addEventListener("click", () => focusDay(today()));
  closeButton.addEventListener("click", () => close(true));
  // A modal dialog: Escape closes it, Tab goes round inside it, a click or the focus elsewhere closes it.
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close(true);
    } else if (event.key === "Tab") {
      const stops = [prev, month, year, next, days.querySelector("td[tabindex='0']"), todayButton, closeButton];
      const edge = event.shiftKey ? stops[0] : stops[stops.length - 1];
      if (document.activeElement === edge) {
        event.preventDefault();
        stops[event.shiftKey ? stops.length - 1 : 0].focus();
      }
    }
  });
  document.addEventListener("pointerdown", (event) => {
    if (!dialog.hidden && !dialog.contains(event.target) && event.target !== opener) close(false);
  });
  document.addEventListener("focusin", (event) => {
    if (!dialog.hidden && !dialog.contains(event.target) && event.target !== opener) close(false);
  });

  // Each date box gets its button, the box and the button in one row (the dialog opens below them);
  // a box that cannot change (disabled or read-only: a locked profile) gets none.
  for (const input of document.querySelectorAll("input[data-jdp]:not(:disabled):not([readonly])")) {
    const button = make("button", { type: "button", className: "btn btn-secondary jdp-open", textContent: "تقویم" });
    button.setAttribute("aria-haspopup", "dialog");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", dialog.id);
    const label = input.labels && input.labels[0];
    if (label && (label.id || input.id)) { // the button's name stays "تقویم"; its box's label describes it
      label.id = label.id || `${input.id}-label`;
      button.setAttribute("aria-describedby", label.id);
    }
    boxes.set(button, input);
    const row = make("div", { className: "jdp-box" });
    input.replaceWith(row);
    row.append(input, button);
    button.addEventListener("click", () => (dialog.hidden || opener !== button ? open(button) : close(true)));
  }
})();
