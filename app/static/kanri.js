/* kanri: the phone menu button and 郵便番号 → 住所. Loaded by base.html (CSP: script-src 'self', no inline script).
   Without this script every page still works: the menu stays open and the address fields are typed by hand. */
(function () {
  "use strict";

  /* --- Menu button (phones): shows and hides the account links and the menu. --- */
  function initMenu() {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) { return; }
    var root = document.documentElement;
    root.classList.add("js-menu");
    button.hidden = false;
    function setOpen(open) {
      root.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  /* --- 郵便番号: 7 digits fill 都道府県, 市区町村 and (when unique and still empty) 町域・番地. --- */
  function digitsOf(text) {
    var normal = text.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
    var digits = normal.replace(/[-‐－ー―〒\s]/g, "");
    return /^\d{7}$/.test(digits) ? digits : null;
  }

  function initPostcode(input, urlTemplate) {
    var form = input.form;
    if (!form) { return; }
    var status = document.createElement("p");
    status.className = "hint postcode-status";
    status.setAttribute("aria-live", "polite");
    status.setAttribute("data-testid", "postcode-status");
    input.parentNode.appendChild(status);
    var last = null;

    function part(name) { return form.querySelector("[data-address='" + name + "']"); }

    function fill(data) {
      var prefecture = part("prefecture"), city = part("city"), town = part("town");
      var filled = [];
      if (prefecture && data.prefecture) { prefecture.value = data.prefecture; filled.push(data.prefecture); }
      if (city && data.city) { city.value = data.city; filled.push(data.city); }
      if (town && data.town && (!town.value || town.getAttribute("data-autofilled") === "yes")) {
        town.value = data.town;
        town.setAttribute("data-autofilled", "yes");
        filled.push(data.town);
      }
      status.textContent = filled.length ? filled.join(" ") + " を入力しました。" : "";
    }

    function lookup() {
      var digits = digitsOf(input.value);
      if (!digits || digits === last) { return; }
      last = digits;
      fetch(urlTemplate.replace("0000000", digits), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        })
        .then(function (result) {
          if (result.ok) { fill(result.body); } else { status.textContent = result.body.error || ""; }
        })
        .catch(function () { status.textContent = ""; });
    }

    input.addEventListener("input", lookup);
    input.addEventListener("change", lookup);
  }

  /* --- Tables not yet drawn by the data_table macro: give each cell its column's label for the phone cards. --- */
  function labelTables() {
    var tables = document.querySelectorAll("table.data:not(.matrix):not(.cards)");
    for (var t = 0; t < tables.length; t++) {
      var heads = tables[t].querySelectorAll("thead th");
      var rows = tables[t].querySelectorAll("tbody tr");
      for (var r = 0; r < rows.length; r++) {
        var cells = rows[r].children;
        if (cells.length !== heads.length) { continue; }
        for (var c = 0; c < cells.length; c++) {
          if (!cells[c].hasAttribute("data-label")) { cells[c].setAttribute("data-label", heads[c].textContent.trim()); }
        }
      }
    }
  }

  function init() {
    initMenu();
    labelTables();
    var script = document.querySelector("script[data-postcode-url]");
    if (script) {
      var inputs = document.querySelectorAll("input[data-postcode]");
      for (var i = 0; i < inputs.length; i++) { initPostcode(inputs[i], script.getAttribute("data-postcode-url")); }
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
