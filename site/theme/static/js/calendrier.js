// Portail Famille: a child's month page (famille/mois.html), loaded by that page only.
// Both booking forms post as they do without script (303 back to the page, re-rendered
// by the function before it answered, at #resultat, where « Votre dernière demande »
// says each day's outcome; an error at #erreur-<code>): one way to book, the same with
// and without script, and no second copy of the outcomes' words in the browser. This
// module only adds what a form post cannot: a day whose deadline passed since the page
// was exported is disabled, a form is sent once (its button disabled as it leaves),
// and the outcomes get the focus when the page comes back. It imports famille.js (the
// page cookies' renewal, the folded menu), not portail.js (docs/family-pages.md « Bytes »).
import "./famille.js";

// The portal's clock: a demo freezes it (`portail serve --now`) and the page says when.
function portalNow() {
  const frozen = document.querySelector("[data-horloge]");
  const instant = frozen ? Date.parse(frozen.dataset.horloge) : NaN;
  return Number.isNaN(instant) ? Date.now() : instant;
}

// A day whose deadline passed since the page was exported: its control is disabled and
// says why. The deadline's whole minute counts, as on the server (23:59 until 23:59:59).
function closeExpiredDays() {
  const now = portalNow();
  for (const box of document.querySelectorAll("input[name=item]")) {
    // The deadline is the control's own, else its day's (data-deadline once on the day);
    // an absence has none.
    const dated = box.dataset.deadline ? box : !box.value.endsWith("|absence") && box.closest("[data-deadline]");
    const deadline = dated ? Date.parse(dated.dataset.deadline) : NaN;
    if (Number.isNaN(deadline) || now < deadline + 60_000) continue;
    box.checked = false;
    box.disabled = true;
    // The words after the verb (« GARDERIE MIDI le … », visually hidden) name the day.
    const words = box.closest("label")?.querySelector("span span");
    if (words) words.textContent += " (date limite passée)";
  }
}

// Sent once: its button is disabled as the form leaves, so a second tap while the first
// request is on its way does nothing; a page shown again from the browser's cache (the
// back button) gets its buttons back.
for (const form of document.querySelectorAll("form[data-booking]")) {
  form.addEventListener("submit", () => {
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
  });
}
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("form[data-booking] button[type=submit]")) button.disabled = false;
});

closeExpiredDays();
if (window.location.hash === "#resultat") document.getElementById("resultat")?.focus();
