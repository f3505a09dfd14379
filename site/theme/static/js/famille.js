// Portail Famille: what every family page needs besides its forms, small enough for the
// dashboard to load alone (docs/family-pages.md, « Bytes »); portail.js imports it on
// the other pages. Page cookies last 5 minutes (docs/accounts.md): while the parent is
// there (page visible, a key, click, touch or scroll), POST /api/session/renew renews
// them every 2 minutes, so a tab left alone lets the session reach its idle end. The
// « Accès réservé » page ([data-acces-reserve]) renews them once and reloads the page.

// A form's alert box ([data-message]): portail.js, calendrier.js and certificat.js say the
// answer there.
export const messageOf = (form) => form.querySelector("[data-message]");

export function show(form, text, kind) {
  const box = messageOf(form);
  if (!box) return;
  box.textContent = text;
  box.className = `alerte alerte-${kind}`;
  box.hidden = false;
  box.focus();
}

const RENEWAL_URL = "/api/session/renew";
const RENEWED_AT = "portail-acces-renouvele"; // sessionStorage: Date.now() of the last renewal
const RECOVERY = "portail-acces-retabli"; // sessionStorage: {path, at} of the last recovery
const RENEWAL_EVERY_MS = 2 * 60_000;
const PRESENCE_CHECK_MS = 20_000;
const RECOVERY_GUARD_MS = 30_000;
const FAMILY_PATH = /^\/famille\/[0-9a-f]{32}\//;

function stored(key) {
  try {
    return window.sessionStorage.getItem(key);
  } catch (error) {
    return null; // storage refused (private browsing settings): as if never renewed
  }
}

function store(key, value) {
  try {
    window.sessionStorage.setItem(key, value);
    return true;
  } catch (error) {
    return false;
  }
}

function renewalIsDue() {
  const age = Date.now() - Number(stored(RENEWED_AT));
  return !(age >= 0 && age < RENEWAL_EVERY_MS); // a clock set back counts as due
}

// The renewal's answer: {status, home} (status 0 when the network failed; home: the
// session's family pages, `/famille/<key>/`, on success).
async function renewAccess() {
  store(RENEWED_AT, String(Date.now()));
  try {
    const response = await fetch(RENEWAL_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: "{}",
    });
    const body = response.ok ? await response.json() : {};
    return { status: response.status, home: typeof body.home === "string" ? body.home : "" };
  } catch (error) {
    return { status: 0, home: "" };
  }
}

function keepAccess() {
  let present = false;
  let ended = false; // 401: the session is over, nothing will renew
  const renewIfDue = async () => {
    if (ended || !renewalIsDue()) return;
    present = false;
    ended = (await renewAccess()).status === 401;
  };
  for (const type of ["keydown", "pointerdown", "touchstart", "wheel", "scroll"]) {
    document.addEventListener(type, () => { present = true; }, { capture: true, passive: true });
  }
  window.setInterval(() => {
    if (present && document.visibilityState === "visible") renewIfDue();
  }, PRESENCE_CHECK_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") renewIfDue();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) renewIfDue(); // back from the browser's page cache
  });
  renewIfDue();
}

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
if (accessRefused) {
  recoverAccess(accessRefused);
} else if (FAMILY_PATH.test(window.location.pathname)) {
  keepAccess();
}

// --- The family menu: a <details> folded on a phone; on a wide screen its content shows by
// CSS (::details-content), else it is opened here.
const familyMenu = document.querySelector("details.menu-pli");
if (familyMenu && !CSS.supports("selector(::details-content)") && window.matchMedia("(min-width: 48em)").matches) {
  familyMenu.open = true;
}
