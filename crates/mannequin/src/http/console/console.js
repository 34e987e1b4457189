// The console's one script. Everything works without it; it adds the
// keyboard (a / r to vote, arrows to move), the order form's price, and keeps
// a page's live part (the gallery's first page, a batch being made) current,
// and shows times as a person reads them.
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

// The order form: the price follows the count; a second click sends nothing
// more (the form's idempotency key would make it harmless anyway).
const order = document.getElementById("order");
if (order) {
  const count = order.querySelector("#count");
  const price = order.querySelector("#price");
  const show = () => {
    const n = Math.max(1, Math.min(Number(count.max) || 20, parseInt(count.value, 10) || 0));
    price.textContent = String(n * Number(price.dataset.perModel));
  };
  count.addEventListener("input", show);
  show();
  order.addEventListener("submit", () => {
    const button = order.querySelector("button[type=submit]");
    setTimeout(() => { button.disabled = true; button.textContent = "Ordering…"; }, 0);
  });
}

// The upload's drop zone: a photo dropped on it is the form's file, sent at
// once; the file picker works without this.
const drop = document.getElementById("drop");
if (drop) {
  const input = drop.querySelector("input[type=file]");
  const form = drop.closest("form");
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault(); drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (!e.dataTransfer || e.dataTransfer.files.length === 0) return;
    const files = new DataTransfer();
    files.items.add(e.dataTransfer.files[0]);
    input.files = files.files;
    form.requestSubmit();
  });
  input.addEventListener("change", () => {
    const label = drop.querySelector("span");
    if (input.files.length > 0) label.textContent = input.files[0].name;
  });
}

// A copy button copies its element's text (a new key's secret).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy)?.textContent ?? "";
    try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
    catch (_) { button.textContent = "Select and copy it"; }
  });
});

// On a phone the gallery's filters start folded, unless one is set.
const fold = document.querySelector("details.fold");
if (fold && window.matchMedia("(max-width: 720px)").matches) {
  const set = [...fold.querySelectorAll("select, input")].some((f) => f.value !== "");
  if (!set) fold.open = false;
}

// Times: "5 minutes ago" (or the date, for older ones), the exact local time
// on hover; the page's UTC text stays for a browser without this script.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const readable = (root) => {
  root.querySelectorAll("time[datetime]").forEach((el) => {
    const at = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) return;
    const seconds = (at.getTime() - Date.now()) / 1000;
    const ago = Math.abs(seconds);
    const [n, unit] = ago < 45 ? [0, "second"] : ago < 3600 ? [seconds / 60, "minute"]
      : ago < 86400 ? [seconds / 3600, "hour"] : [seconds / 86400, "day"];
    el.textContent = ago >= 7 * 86400
      ? at.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })
      : unit === "second" ? relative.format(0, "second") : relative.format(Math.round(n), unit);
    el.title = at.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
  });
};
readable(document);
setInterval(() => readable(document), 30000);

// A live part of the page: fetch the page again every few seconds while
// something in it is still being made, and swap in the new part and balances.
const live = document.querySelector('[data-live="true"][id]');
if (live) {
  let part = live;
  const busy = () => part.querySelector('[data-status="PENDING"], [data-status="PROCESSING"]') !== null
    || part.dataset.batchId !== undefined;
  const refresh = async () => {
    try {
      const res = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
      if (res.ok && !res.redirected) {
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        const fresh = doc.getElementById(part.id);
        if (fresh) { part.replaceWith(fresh); part = fresh; readable(fresh); }
        const credits = doc.querySelector(".credits");
        const here = document.querySelector(".credits");
        if (credits && here) here.replaceWith(credits);
        if (part.dataset.live !== "true") return;  // finished: nothing more will change
      }
    } catch (_) { /* offline for a moment: try again next time */ }
    setTimeout(refresh, busy() ? 1500 : 10000);
  };
  setTimeout(refresh, busy() ? 1500 : 10000);
}
