// Document previews on the review page load one after another (not all at once): a busy office
// network, and a single-writer database in the embedded setup, both prefer it.
document.addEventListener("DOMContentLoaded", () => {
  const queue = Array.from(document.querySelectorAll("img.preview[data-src]"));
  const next = () => {
    const img = queue.shift();
    if (!img) return;
    img.addEventListener("load", () => { img.dataset.loaded = "1"; next(); }, { once: true });
    img.addEventListener("error", () => {
      const note = document.createElement("p");
      note.className = "muted preview-missing";
      note.textContent = img.dataset.fallback;
      img.replaceWith(note);
      next();
    }, { once: true });
    img.src = img.dataset.src;
  };
  next();
});

// The identity check: the attorney's fields only when an attorney is present.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("attorney");
  if (!box) return;
  const radios = document.querySelectorAll("input[name=presenter]");
  const sync = () => {
    const checked = document.querySelector("input[name=presenter]:checked");
    box.hidden = !(checked && checked.value === "attorney");
  };
  radios.forEach((r) => r.addEventListener("change", sync));
  sync();
});
