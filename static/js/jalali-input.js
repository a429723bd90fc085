// Accept Persian digits in numeric inputs by turning them into Latin digits as the user types;
// the server accepts both, this only keeps the field readable for left-to-right values.
document.addEventListener("input", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLInputElement) || el.getAttribute("dir") !== "ltr") return;
  const fa = "۰۱۲۳۴۵۶۷۸۹", ar = "٠١٢٣٤٥٦٧٨٩";
  const fixed = el.value.replace(/[۰-۹٠-٩]/g, (d) => String(Math.max(fa.indexOf(d), ar.indexOf(d))));
  if (fixed !== el.value) el.value = fixed;
});
