// Mesh payment page: the PIN is encrypted here, in the browser, to the Hsm's PIN-transport key.
// The PIN field has no name, so its digits are never part of the form that is posted.
// A credit card (its BIN in the form's data-credit-bins, from the switch) pays with its CVV2 instead:
// the CVV2 field is shown and the PIN field hidden as the card number is typed.
// What it says to the consumer comes from the page (data-say-*), in the page's language.
"use strict";
(function () {
  const form = document.getElementById("pay");
  if (!form) { return; }
  const enc = new TextEncoder();
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const toBase64 = (bytes) => btoa(String.fromCharCode.apply(null, new Uint8Array(bytes)));
  const error = document.getElementById("pin-error");

  function luhnValid(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }

  async function sealEcdh(plaintext, nonce) {
    const hsmKey = await crypto.subtle.importKey("spki", fromBase64(form.dataset.transportKey), { name: "ECDH", namedCurve: "P-256" }, false, []);
    const ephemeral = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: hsmKey }, ephemeral.privateKey, 256);
    const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    const aes = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode("mesh pin transport v1") },
      hkdf, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: enc.encode(nonce), tagLength: 128 }, aes, enc.encode(plaintext));
    form.elements.pinEphemeralKey.value = toBase64(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
    form.elements.pinIv.value = toBase64(iv);
    return sealed;
  }

  async function sealRsa(plaintext) {
    const hsmKey = await crypto.subtle.importKey("spki", fromBase64(form.dataset.transportKey), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    return crypto.subtle.encrypt({ name: "RSA-OAEP" }, hsmKey, enc.encode(plaintext));
  }

  const creditBins = (form.dataset.creditBins || "").split(",").filter((bin) => bin.length > 0);
  const isCredit = (pan) => creditBins.some((bin) => pan.startsWith(bin));
  const pinFields = document.getElementById("pin-fields");
  const creditFields = document.getElementById("credit-fields");
  function showFieldsFor(pan) {
    const credit = isCredit(pan);
    creditFields.hidden = !credit;
    pinFields.hidden = credit;
    document.getElementById("pin").required = !credit;
    document.getElementById("cvv2").required = credit;
  }
  form.elements.pan.addEventListener("input", () => showFieldsFor(form.elements.pan.value.replace(/\s+/g, "")));
  showFieldsFor(form.elements.pan.value.replace(/\s+/g, ""));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const pinInput = document.getElementById("pin");
    const pan = form.elements.pan.value.replace(/\s+/g, "");
    const pin = pinInput.value;
    if (!/^[0-9]{13,19}$/.test(pan) || !luhnValid(pan)) { error.textContent = form.dataset.sayPan; return; }
    if (isCredit(pan)) {
      if (!/^[0-9]{3}$/.test(form.elements.cvv2.value)) { error.textContent = form.dataset.sayCvv2; return; }
      error.textContent = "";
      form.elements.pan.value = pan;
      pinInput.value = "";
      form.querySelector("button[type=submit]").disabled = true;
      HTMLFormElement.prototype.submit.call(form);
      return;
    }
    if (!/^[0-9]{4,12}$/.test(pin)) { error.textContent = form.dataset.sayPin; return; }
    error.textContent = "";
    form.elements.pan.value = pan;
    const nonce = form.dataset.pinNonce;
    const plaintext = nonce + "|" + pin;
    const sealed = form.dataset.pinScheme === "rsa-oaep" ? await sealRsa(plaintext) : await sealEcdh(plaintext, nonce);
    form.elements.pinCiphertext.value = toBase64(sealed);
    pinInput.value = "";
    form.querySelector("button[type=submit]").disabled = true;
    HTMLFormElement.prototype.submit.call(form);
  });
})();
