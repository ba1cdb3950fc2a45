// Passkeys (WebAuthn): adding one at /account/security, signing in with one (button and the
// browser's autofill, "conditional mediation"), and the second step after the password.
// The server makes the options and checks every answer (py_webauthn); this file only carries
// them between the server and navigator.credentials. Progressive enhancement: without
// WebAuthn the passkey controls stay hidden and the password forms work as before.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.isSecureContext) { return; }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }
  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: toBytes(o.challenge),
      user: Object.assign({}, o.user, { id: toBytes(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials)
    });
  }
  function requestOptions(o) {
    return Object.assign({}, o, { challenge: toBytes(o.challenge),
                                  allowCredentials: descriptors(o.allowCredentials) });
  }
  function credentialJson(cred) {
    var r = cred.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({ id: cred.id, rawId: toText(cred.rawId), type: cred.type,
                            response: response, clientExtensionResults: {},
                            authenticatorAttachment: cred.authenticatorAttachment || null });
  }
  function post(url, csrf, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
                        body: JSON.stringify(body || {}) })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (!res.ok) {
            var error = new Error(data.message || "");
            error.fromServer = Boolean(data.message);
            throw error;
          }
          return data;
        });
      });
  }
  function show(box, text) {
    if (!box) { return; }
    box.hidden = false;
    var p = box.querySelector("p");
    (p || box).textContent = text;
    box.focus && box.focus();
  }

  // A ceremony: ask for options, run the browser's part, send the answer, follow `redirect`.
  function ceremony(el, run, extra, quiet) {
    var csrf = el.getAttribute("data-csrf");
    var box = document.getElementById(el.getAttribute("data-error-box"));
    var failedText = el.getAttribute("data-failed");
    return post(el.getAttribute("data-options-url"), csrf, {}).then(function (started) {
      return run(started.publicKey).then(function (cred) {
        var body = Object.assign({ ceremony: started.ceremony, credential: credentialJson(cred) },
                                 extra ? extra() : {});
        return post(el.getAttribute("data-finish-url"), csrf, body);
      });
    }).then(function (done) {
      window.location.assign(done.redirect);
    }, function (error) {
      if (quiet && error && (error.name === "AbortError" || error.name === "NotAllowedError")) { return; }
      show(box, error && error.fromServer ? error.message : failedText);
    });
  }

  var register = document.querySelector("[data-passkey-register]");
  if (register) {
    register.hidden = false;
    var form = register.closest("form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ceremony(register, function (o) {
        return navigator.credentials.create({ publicKey: creationOptions(o) });
      }, function () {
        return { name: (form.querySelector("[name=name]") || {}).value || "",
                 next: register.getAttribute("data-next") || "" };
      });
    });
    form.hidden = false;
  }

  var pending = null;  // the conditional (autofill) request, aborted by a click on the button
  function getWith(signal, mediation) {
    return function (o) {
      var request = { publicKey: requestOptions(o), signal: signal };
      if (mediation) { request.mediation = mediation; }
      return navigator.credentials.get(request);
    };
  }
  function withNext(el) { return function () { return { next: el.getAttribute("data-next") || "" }; }; }

  var signIn = document.querySelector("[data-passkey-sign-in]");
  if (signIn) {
    signIn.hidden = false;
    signIn.addEventListener("click", function () {
      if (pending) { pending.abort(); }
      pending = null;
      ceremony(signIn, getWith(undefined, null), withNext(signIn));
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (yes) {
        if (!yes) { return; }
        pending = new AbortController();
        ceremony(signIn, getWith(pending.signal, "conditional"), withNext(signIn), true);
      });
    }
  }

  var second = document.querySelector("[data-passkey-second-factor]");
  if (second) {
    second.hidden = false;
    second.addEventListener("click", function () {
      ceremony(second, getWith(undefined, null), withNext(second));
    });
  }
}());
