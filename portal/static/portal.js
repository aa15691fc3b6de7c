// Progressive enhancement only: every form works without this file.
// Elements marked data-autosubmit submit their form when changed (the version picker).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.dataset.autosubmit !== undefined && target.form) {
    target.form.requestSubmit();
  }
});
// Copy buttons: data-copy="<element id>" copies that element's text.
document.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof HTMLElement) || !target.dataset.copy) return;
  const source = document.getElementById(target.dataset.copy);
  if (source && navigator.clipboard) {
    await navigator.clipboard.writeText(source.textContent || "");
    target.setAttribute("aria-live", "polite");
    target.textContent = target.dataset.copied || "Copied";
  }
});
// A sign-in link (printed by `creditbank serve --demo`) carries the token in its fragment, which
// the browser never sends: put it into the form, and take it out of the address bar.
if (location.pathname === "/app/login" && location.hash.startsWith("#token=")) {
  const field = document.getElementById("token");
  if (field) field.value = decodeURIComponent(location.hash.slice(7));
  history.replaceState(null, "", location.pathname);
}
