// Portail Famille: « Envoyer le certificat médical » (famille/certificat.html), loaded by the
// pages that show that form only (« Liste des demandes »; the month page links there), and
// the same upload for « Mes documents » (famille/documents.html): a form's
// `data-certificat` names the function's address when it is not the certificate's
// (docs/family-documents.md).
import { show } from "./portail.js";

// Without script the form posts the chosen file type to the function, which answers a
// page holding a fresh presigned form. With script the file is chosen here: its type and
// size ask the function for a presigned POST (JSON), the file goes to the bucket with
// fetch (S3 answers 204; its CORS rule lets this page read it), then the function is told
// (…/recu): it looks in the bucket, and the certificate is « à examiner ». docs/billing.md.
const CERTIFICATE_URL = "/api/absences/certificate";

function enhanceCertificateForm(form) {
  const types = form.querySelector("[data-certificat-type]");
  const field = form.querySelector("[data-certificat-fichier]");
  const input = field && field.querySelector("input[type=file]");
  if (!types || !input) return;
  types.hidden = true;
  types.disabled = true;
  field.hidden = false;
  input.disabled = false;
  input.required = true;
  form.addEventListener("submit", sendCertificate);
}

async function jsonOf(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch (error) {
    return {};
  }
}

async function sendCertificate(event) {
  const form = event.currentTarget;
  event.preventDefault();
  const data = new FormData(form);
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) {
    show(form, form.dataset.manque || "Choisissez le fichier du certificat médical.", "erreur");
    return;
  }
  const url = form.dataset.certificat || CERTIFICATE_URL;
  // What the function needs besides the file: a child and days (a certificate) or a kind (a document).
  const body = { content_type: file.type, size: file.size };
  for (const name of ["child_id", "code"]) if (data.has(name)) body[name] = data.get(name);
  if (data.has("date")) body.dates = data.getAll("date");
  const button = form.querySelector("button[type=submit], button:not([type])");
  if (button) button.disabled = true;
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  try {
    const asked = await fetch(url, {
      method: "POST", credentials: "same-origin", headers, body: JSON.stringify(body),
    });
    const answer = await jsonOf(asked);
    if (!asked.ok) {
      show(form, (answer.error && answer.error.message) || "Le service ne répond pas : réessayez dans un instant.", "erreur");
      return;
    }
    const upload = new FormData();
    for (const [name, value] of Object.entries(answer.upload.fields)) upload.append(name, value);
    upload.append("file", file); // last: S3 ignores the fields after the file
    const stored = await fetch(answer.upload.url, { method: "POST", body: upload, credentials: "omit" });
    if (!stored.ok) {
      show(form, "Le fichier n'a pas été accepté : un fichier PDF, JPEG ou PNG de 5 Mo au plus.", "erreur");
      return;
    }
    const told = await fetch(answer.received || `${CERTIFICATE_URL}/${answer.certificate_id}/recu`, {
      method: "POST", credentials: "same-origin", headers, body: "{}",
    });
    const state = await jsonOf(told);
    if (!told.ok) {
      show(form, (state.error && state.error.message) || "Le service ne répond pas : réessayez dans un instant.", "erreur");
      return;
    }
    const shown = form.closest(".certificat").querySelector("[data-certificat-etat]");
    if (shown) shown.textContent = state.state_label;
    const done = document.createElement("p");
    done.className = "alerte alerte-succes";
    done.setAttribute("role", "status");
    done.textContent = state.message;
    form.replaceWith(done);
  } catch (error) {
    show(form, "Le service ne répond pas : vérifiez votre connexion et réessayez.", "erreur");
  } finally {
    if (button) button.disabled = false;
  }
}

for (const form of document.querySelectorAll("form[data-certificat]")) {
  enhanceCertificateForm(form);
}
