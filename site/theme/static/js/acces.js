// Portail Famille: the « Accès réservé » page (acces_reserve.html: what a family page
// answers without valid page cookies, at the address asked for), loaded by that page
// only. While the session lives, POST /api/session/renew once gives fresh page cookies
// and the page loads again; otherwise the page says why (docs/accounts.md).
import { FAMILY_PATH, renewAccess, store, stored } from "./famille.js";

const RECOVERY = "portail-acces-retabli"; // sessionStorage: {path, at} of the last recovery
const RECOVERY_GUARD_MS = 30_000;

async function recoverAccess(status) {
  const path = window.location.pathname;
  if (!FAMILY_PATH.test(path)) return;
  let last = null;
  try {
    last = JSON.parse(stored(RECOVERY) || "null");
  } catch (error) {
    last = null;
  }
  const age = last ? Date.now() - Number(last.at) : NaN;
  // Renewed a moment ago and refused again: this page does not open (another family's,
  // or missing). Without storage there is no such memory: no attempt, no endless round.
  if (last && last.path === path && age >= 0 && age < RECOVERY_GUARD_MS) return;
  if (!store(RECOVERY, JSON.stringify({ path, at: Date.now() }))) return;
  status.textContent = "Rétablissement de votre accès…";
  status.hidden = false;
  const answer = await renewAccess();
  if (answer.status === 200 && FAMILY_PATH.test(answer.home) && path.startsWith(answer.home)) {
    window.location.reload(); // fresh cookies: the page opens now
  } else if (answer.status === 200 && FAMILY_PATH.test(answer.home)) {
    // Another family's page: fresh cookies change nothing here; the way back home.
    const link = document.createElement("a");
    link.href = answer.home;
    link.textContent = "retrouver votre page d'accueil";
    status.replaceChildren("Cette page ne fait pas partie de votre espace famille : ", link, ".");
    status.className = "alerte alerte-attention";
  } else if (answer.status === 401) {
    status.textContent = "Votre session a pris fin : connectez-vous pour retrouver votre espace famille.";
    status.className = "alerte alerte-attention";
  } else {
    status.hidden = true;
  }
}

const accessRefused = document.querySelector("[data-acces-reserve]");
if (accessRefused) recoverAccess(accessRefused);
