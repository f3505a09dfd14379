// Portail Famille: progressive enhancement of the forms (no framework, no build step).
// Every form works without this file: it posts and the function answers 303 to a page.
// With it, a form marked data-json posts JSON with fetch and shows the answer in place.
// What every family page needs besides its forms (the page cookies' renewal, the folded
// menu) is famille.js, which the dashboard and the month page load without this file;
// the medical certificate's form is certificat.js's (loaded where the form is shown).
import "./famille.js";

// A form's alert box ([data-message]): this module and certificat.js (which imports it,
// on « Liste des demandes ») say the answer there.
export const messageOf = (form) => form.querySelector("[data-message]");

export function show(form, text, kind) {
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

// --- A child's month page: its booking forms are calendrier.js's (loaded by that page) ---

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

// --- Public pages: « Mon espace » for a logged-in parent (docs/accounts.md) ------------
// The public pages are the same cached files for everyone; login sets a readable hint
// cookie, `__Host-portail-espace=/famille/<key>/`, which ends with the session and is
// cleared at logout. With it, the menu's « Se connecter » becomes « Mon espace » (the
// family's home) and the login page offers the way home; without it (or without
// script) the plain link stays. A value that is not a family's home is ignored.
const ESPACE_HINT = "__Host-portail-espace";
const FAMILY_HOME = /^\/famille\/[0-9a-f]{32}\/$/;

function espaceHome() {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === ESPACE_HINT && FAMILY_HOME.test(value.join("="))) return value.join("=");
  }
  return "";
}

function showEspace() {
  const home = espaceHome();
  const back = document.querySelector("[data-espace-retour]");
  if (!home) {
    if (back) back.hidden = true; // nobody logged in here: the form is the way in
    return;
  }
  for (const link of document.querySelectorAll('.menu a[href="/connexion/"]')) {
    link.href = home;
    link.textContent = "Mon espace";
    link.removeAttribute("aria-current");
  }
  if (back) {
    const link = document.createElement("a");
    link.href = home;
    link.textContent = "Aller à mon espace famille";
    back.replaceChildren("Vous êtes connecté sur cet appareil : ", link, ".");
    back.className = "espace-retour alerte alerte-succes";
  }
}
// --- end of « Mon espace » --------------------------------------------------------------

// famille.js keeps a family page's access; the other pages may say « Mon espace ».
if (!document.querySelector("[data-acces-reserve]") && !/^\/famille\//.test(window.location.pathname)) {
  showEspace();
}
for (const form of document.querySelectorAll("form[data-lire]")) {
  markRead(form);
}
for (const form of document.querySelectorAll("form[data-json]")) {
  form.addEventListener("submit", submitJson);
}
fillResetToken();
