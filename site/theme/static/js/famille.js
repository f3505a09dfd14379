// Portail Famille: what every family page needs besides its forms, small enough for the
// dashboard to load alone (docs/family-pages.md, « Bytes »); portail.js imports it on
// the other pages. Page cookies last 5 minutes (docs/accounts.md): while the parent is
// there (page visible, a key, click, touch or scroll), POST /api/session/renew renews
// them every 2 minutes, so a tab left alone lets the session reach its idle end. The
// « Accès réservé » page renews them once and reloads the page (acces.js).

const RENEWAL_URL = "/api/session/renew";
const RENEWED_AT = "portail-acces-renouvele"; // sessionStorage: Date.now() of the last renewal
const RENEWAL_EVERY_MS = 2 * 60_000;
const PRESENCE_CHECK_MS = 20_000;
export const FAMILY_PATH = /^\/famille\/[0-9a-f]{32}\//;

export function stored(key) {
  try {
    return window.sessionStorage.getItem(key);
  } catch (error) {
    return null; // storage refused (private browsing settings): as if never renewed
  }
}

export function store(key, value) {
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
export async function renewAccess() {
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

// The « Accès réservé » page ([data-acces-reserve]) recovers the access instead
// (acces.js, loaded by that page only).
if (FAMILY_PATH.test(window.location.pathname) && !document.querySelector("[data-acces-reserve]")) {
  keepAccess();
}

// --- The family menu: a <details> folded on a phone; on a wide screen its content shows by
// CSS (::details-content), else it is opened here.
const familyMenu = document.querySelector("details.menu-pli");
if (familyMenu && !CSS.supports("selector(::details-content)") && window.matchMedia("(min-width: 48em)").matches) {
  familyMenu.open = true;
}
