// The console's one script. Everything works without it; it adds the
// keyboard (a / r to vote, arrows to move) and keeps the gallery's first page
// current while models are being made.
"use strict";

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
  const press = (selector) => {
    const el = document.querySelector(selector);
    if (el) { e.preventDefault(); el.click(); }
  };
  if (e.key === "a") press('button[data-action="approve"]');
  else if (e.key === "r") press('button[data-action="reject"]');
  else if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === "j") press('a[data-key="ArrowRight"]');
  else if (e.key === "ArrowLeft" || e.key === "ArrowUp" || e.key === "k") press('a[data-key="ArrowLeft"]');
});

// The gallery's first page: while any model on it is still being made, fetch
// the page again every few seconds and swap in its grid.
const grid = document.getElementById("grid");
if (grid && grid.dataset.live === "true") {
  const busy = () => grid.querySelector('[data-status="PENDING"], [data-status="PROCESSING"]') !== null;
  const refresh = async () => {
    try {
      const res = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
      if (res.ok && res.redirected === false) {
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        const fresh = doc.getElementById("grid");
        const credits = doc.querySelector(".credits");
        if (fresh) grid.replaceChildren(...fresh.childNodes);
        const here = document.querySelector(".credits");
        if (credits && here) here.replaceWith(credits);
      }
    } catch (_) { /* offline for a moment: try again next time */ }
    setTimeout(refresh, busy() ? 2000 : 10000);
  };
  setTimeout(refresh, busy() ? 2000 : 10000);
}
