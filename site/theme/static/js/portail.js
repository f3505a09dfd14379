// Portail Famille: progressive enhancement of the forms (no framework, no build step).
// Every form works without this file: it posts and the function answers 303 to a page.
// With it, a form marked data-json posts JSON with fetch and shows the answer in place.
// What every family page needs besides its forms (the page cookies' renewal) is
// famille.js, which the dashboard loads alone.
import "./famille.js";

const messageOf = (form) => form.querySelector("[data-message]");

function show(form, text, kind) {
  const box = messageOf(form);
  if (!box) return;
  box.textContent = text;
  box.className = `alerte alerte-${kind}`;
  box.hidden = false;
  box.focus();
}

async function submitJson(event) {
  const form = event.currentTarget;
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form).entries());
  const button = form.querySelector("button[type=submit], button:not([type])");
  if (button) button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : {};
    if (response.ok) {
      if (body.home) {
        window.location.assign(body.home);
      } else if (form.dataset.next) {
        window.location.assign(form.dataset.next);
      } else {
        show(form, body.message || form.dataset.success || "C'est enregistré.", "succes");
      }
    } else {
      show(form, (body.error && body.error.message) || "Le service ne répond pas : réessayez dans un instant.", "erreur");
    }
  } catch (error) {
    show(form, "Le service ne répond pas : vérifiez votre connexion et réessayez.", "erreur");
  } finally {
    if (button) button.disabled = false;
  }
}

// The reset link carries its token in the fragment (never sent to a server, never logged).
function fillResetToken() {
  const field = document.querySelector("input[name=token][data-from-fragment]");
  if (field && window.location.hash.length > 20 && !window.location.hash.startsWith("#erreur")) {
    field.value = decodeURIComponent(window.location.hash.slice(1));
    const row = field.closest("[data-token-row]");
    if (row) row.hidden = true;
  }
}

// --- A child's month page: the booking forms (data-booking) ----------------------------
// « jours »: the grid's checked boxes (item = « AAAA-MM-JJ|SERVICE|action ») become
// {child_id, items: [{date, service, action}]}; « semaine »: the week pattern becomes
// {child_id, pattern: {weekdays, services, from, to}}. The answer's per-day outcomes are
// shown in the form's alert, then the page (re-rendered by the function before it
// answered) is loaded again at #resultat, so the grid shows the new marks.

const RELOAD_DELAY_MS = 1000;
const STATUS_WORDS = {
  validated: "validée",
  pending: "en attente",
  refused: "refusée",
  cancelled: "annulée",
  absent: "absence enregistrée",
};
const frenchDay = new Intl.DateTimeFormat("fr-FR", {
  weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});

// The portal's clock. Demos and training freeze it (`portail serve --now`); the page
// then carries that instant, since the browser's own clock is the real one.
function portalNow() {
  const frozen = document.querySelector("[data-horloge]");
  const instant = frozen ? Date.parse(frozen.dataset.horloge) : NaN;
  return Number.isNaN(instant) ? Date.now() : instant;
}

function labelOf(input) {
  return input.id ? document.querySelector(`label[for="${CSS.escape(input.id)}"]`) : null;
}

// A day whose deadline passed since the page was exported can no longer be reserved or
// cancelled: its box is disabled, and its label says why. The deadline's whole minute
// counts, as on the server (23:59 means until 23:59:59).
function closeExpiredDays() {
  const now = portalNow();
  for (const box of document.querySelectorAll("input[data-deadline]")) {
    const deadline = Date.parse(box.dataset.deadline);
    if (Number.isNaN(deadline) || now < deadline + 60_000) continue;
    box.checked = false;
    box.disabled = true;
    const label = labelOf(box);
    if (label) {
      label.textContent += " (date limite passée)";
      box.title = label.textContent;
    }
  }
}

function serviceLabels() {
  const labels = {};
  for (const header of document.querySelectorAll("[data-service]")) {
    labels[header.dataset.service] = header.textContent.trim();
  }
  return labels;
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

function showOutcomes(form, results) {
  const box = messageOf(form);
  if (!box) return;
  const labels = serviceLabels();
  const refused = results.filter((result) => result.status === "refused").length;
  const title = document.createElement("p");
  title.className = "alerte-titre";
  title.textContent = refused
    ? `Demande enregistrée : ${refused} jour${refused > 1 ? "s" : ""} refusé${refused > 1 ? "s" : ""} sur ${results.length}.`
    : "Demande enregistrée.";
  const list = document.createElement("ul");
  for (const result of results) {
    const item = document.createElement("li");
    const day = frenchDay.format(new Date(`${result.date}T00:00:00Z`));
    const status = STATUS_WORDS[result.status] || result.status;
    item.textContent = `${day}, ${labels[result.service] || result.service} : ${status}`
      + (result.message ? `. ${result.message}` : "");
    list.append(item);
  }
  const next = document.createElement("p");
  next.textContent = "Le calendrier se met à jour…";
  box.replaceChildren(title, list, next);
  box.className = `alerte alerte-${refused ? "attention" : "succes"}`;
  box.hidden = false;
  box.focus();
}

async function submitBooking(event) {
  const form = event.currentTarget;
  event.preventDefault();
  const button = form.querySelector("button[type=submit], button:not([type])");
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
      }, RELOAD_DELAY_MS);
    } else {
      show(form, (body.error && body.error.message) || "Le service ne répond pas : réessayez dans un instant.", "erreur");
    }
  } catch (error) {
    show(form, "Le service ne répond pas : vérifiez votre connexion et réessayez.", "erreur");
  } finally {
    if (button && !reloading) button.disabled = false;
  }
}

// --- A message's page: opening it marks it read (the form data-lire) -----------------
// The function answers 204 after re-rendering the inbox and the dashboard; the form
// gives way to a sentence. Without script (or when this fails), the form's button does
// the same: a form post, 303 back to the page re-rendered as read.
async function markRead(form) {
  try {
    const response = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ csrf_token: new FormData(form).get("csrf_token") }),
    });
    if (!response.ok) return;
    const done = document.createElement("p");
    done.setAttribute("role", "status");
    done.textContent = "Ce message est marqué comme lu.";
    form.replaceWith(done);
  } catch (error) {
    // The button stays: the parent marks it read by hand.
  }
}

for (const form of document.querySelectorAll("form[data-lire]")) {
  markRead(form);
}
for (const form of document.querySelectorAll("form[data-json]")) {
  form.addEventListener("submit", submitJson);
}
for (const form of document.querySelectorAll("form[data-booking]")) {
  form.addEventListener("submit", submitBooking);
}
closeExpiredDays();
fillResetToken();
