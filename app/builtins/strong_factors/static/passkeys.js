/* Passkeys: asks the browser (navigator.credentials) for a new passkey or a login assertion, puts the answer into
   the form's hidden "response" field and sends the form. CSP: script-src 'self'; no inline script. */
(function () {
  "use strict";

  function showError(form, text) {
    var box = form.querySelector("[data-passkey-error]");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function start(form, event) {
    var answer = form.querySelector("input[name=response]");
    if (!answer || answer.value) { return; }
    event.preventDefault();
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
      showError(form, "このブラウザはパスキーに対応していません。");
      return;
    }
    var kind = form.getAttribute("data-passkey");
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    fetch(form.getAttribute("data-options-url"), {method: "POST", body: body, credentials: "same-origin"})
      .then(function (reply) {
        if (!reply.ok) { throw new Error("options"); }
        return reply.json();
      })
      .then(function (options) {
        if (kind === "register") {
          return navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
        }
        return navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
      })
      .then(function (credential) {
        answer.value = JSON.stringify(credential.toJSON());
        form.submit();
      })
      .catch(function () {
        showError(form, "パスキーの操作が完了しませんでした。もう一度お試しください。");
      });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.addEventListener("submit", function (event) { start(form, event); });
  });
}());
