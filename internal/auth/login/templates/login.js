// eHealth+ sign-in: passkeys (WebAuthn). Served from /login/static/login.js;
// no third-party code. Buffers travel as base64url, as go-webauthn expects.
"use strict";
(function () {
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body ? JSON.stringify(body) : "{}"
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error || "Error") + " " + (j.error_zh || ""));
        return j;
      });
    });
  }
  function showError(msg) {
    var e = document.getElementById("passkey-error");
    if (e) { e.textContent = msg; e.hidden = false; }
  }
  function fixIds(list) {
    (list || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
  }
  function register(box) {
    var csrf = box.dataset.csrf, next = box.dataset.next;
    post("/login/passkey/register/begin?next=" + encodeURIComponent(next), csrf).then(function (begin) {
      var pk = begin.options.publicKey;
      pk.challenge = b64uToBuf(pk.challenge);
      pk.user.id = b64uToBuf(pk.user.id);
      fixIds(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
        return post("/login/passkey/register/finish?ceremony=" + encodeURIComponent(begin.ceremony), csrf, {
          id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
          response: {
            clientDataJSON: bufToB64u(cred.response.clientDataJSON),
            attestationObject: bufToB64u(cred.response.attestationObject),
            transports: cred.response.getTransports ? cred.response.getTransports() : []
          }
        });
      });
    }).then(function (done) { location.assign(done.redirect); }, function (err) { showError(err.message); });
  }
  function signIn(box) {
    var csrf = box.dataset.csrf, next = box.dataset.next;
    post("/login/passkey/begin?next=" + encodeURIComponent(next), csrf).then(function (begin) {
      var pk = begin.options.publicKey;
      pk.challenge = b64uToBuf(pk.challenge);
      fixIds(pk.allowCredentials);
      return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
        return post("/login/passkey/finish?ceremony=" + encodeURIComponent(begin.ceremony), csrf, {
          id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
          response: {
            clientDataJSON: bufToB64u(cred.response.clientDataJSON),
            authenticatorData: bufToB64u(cred.response.authenticatorData),
            signature: bufToB64u(cred.response.signature),
            userHandle: cred.response.userHandle ? bufToB64u(cred.response.userHandle) : ""
          }
        });
      });
    }).then(function (done) { location.assign(done.redirect); }, function (err) { showError(err.message); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential) return;
    var login = document.getElementById("passkey-login");
    if (login) {
      login.hidden = false;
      document.getElementById("passkey-login-button").addEventListener("click", function () { signIn(login); });
    }
    var reg = document.getElementById("passkey-register");
    if (reg) {
      document.getElementById("passkey-register-button").addEventListener("click", function () { register(reg); });
    }
  });
})();
