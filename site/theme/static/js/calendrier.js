// Portail Famille: a child's month page (famille/mois.html), loaded by that page only.
// Its two booking forms (data-booking) post JSON instead of a form post: « jours », the
// ticked controls (item = « AAAA-MM-JJ|SERVICE|action ») as {child_id, items}; « semaine »,
// the week pattern as {child_id, pattern}. The per-day outcomes show in the form's
// alert, then the page (re-rendered by the function before it answered) loads again at
// #resultat. Without this file both forms post and come back by a 303. The page loads
// this module and famille.js only (not portail.js: its logout is a plain post, as the
// dashboard's; docs/family-pages.md « Bytes »).
import { messageOf, show } from "./famille.js";

const STATUS_WORDS = {
  validated: "validée", pending: "en attente", refused: "refusée", cancelled: "annulée", absent: "absence enregistrée",
};
const frenchDay = new Intl.DateTimeFormat("fr-FR", {
  weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});

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
    const words = box.closest("label")?.querySelector(".vc");
    if (words) words.textContent += " (date limite passée)";
  }
}

function bookingBody(form) {
  const data = new FormData(form);
  const body = { child_id: data.get("child_id"), csrf_token: data.get("csrf_token") };
  if (form.dataset.booking === "semaine") {
    body.pattern = {
      weekdays: data.getAll("pattern_weekdays").map(Number),
      services: data.getAll("pattern_services"),
      from: data.get("pattern_from"),
      to: data.get("pattern_to"),
    };
  } else {
    body.items = data.getAll("item").map((value) => {
      const [date, service, action] = String(value).split("|");
      return { date, service, action };
    });
  }
  return body;
}

// Each day's outcome said once (chalicelib.pages.marks.outcome_words): a message names
// the state itself, except a refusal's, which gives the reason only.
function showOutcomes(form, results) {
  const labels = {};
  for (const head of document.querySelectorAll("[data-service]")) {
    labels[head.dataset.service] = head.firstChild.textContent.trim();
  }
  const refused = results.filter((result) => result.status === "refused").length;
  const title = document.createElement("p");
  title.className = "alerte-titre";
  title.textContent = refused
    ? `Demande enregistrée : ${refused} jour${refused > 1 ? "s" : ""} refusé${refused > 1 ? "s" : ""} sur ${results.length}.`
    : "Demande enregistrée.";
  const list = document.createElement("ul");
  for (const result of results) {
    const item = document.createElement("li");
    const status = STATUS_WORDS[result.status] || result.status;
    let outcome = `${status}.`;
    if (result.message) outcome = result.status === "refused" ? `${status}. ${result.message}` : result.message;
    item.textContent = `${frenchDay.format(new Date(`${result.date}T00:00:00Z`))}, `
      + `${labels[result.service] || result.service} : ${outcome}`;
    list.append(item);
  }
  const next = document.createElement("p");
  next.textContent = "Le calendrier se met à jour…";
  const box = messageOf(form);
  box.replaceChildren(title, list, next);
  box.className = `alerte alerte-${refused ? "attention" : "succes"}`;
  box.hidden = false;
  box.focus();
}

async function submitBooking(event) {
  const form = event.currentTarget;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  let reloading = false;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(bookingBody(form)),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : {};
    if (response.ok && Array.isArray(body.results)) {
      showOutcomes(form, body.results);
      reloading = true;
      window.setTimeout(() => {
        window.history.replaceState(null, "", "#resultat");
        window.location.reload();
      }, 1000);
    } else {
      show(form, body.error?.message || "Le service ne répond pas : réessayez dans un instant.", "erreur");
    }
  } catch (error) {
    show(form, "Le service ne répond pas : vérifiez votre connexion et réessayez.", "erreur");
  } finally {
    if (button && !reloading) button.disabled = false;
  }
}

for (const form of document.querySelectorAll("form[data-booking]")) {
  form.addEventListener("submit", submitBooking);
}
closeExpiredDays();
