// Portail Famille: progressive enhancement of the forms (no framework, no build step).
// Every form works without this file: it posts and the function answers 303 to a page.
// With it, a form marked data-json posts JSON with fetch and shows the answer in place.

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

for (const form of document.querySelectorAll("form[data-json]")) {
  form.addEventListener("submit", submitJson);
}
fillResetToken();
