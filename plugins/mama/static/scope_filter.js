// 物件参照権限 on the user form: narrow the association list to the options matching the typed words.
(function () {
  "use strict";
  var input = document.getElementById("scope-filter");
  var select = document.getElementById("scope_associations");
  if (!input || !select) { return; }
  function normalise(text) {
    // hiragana → katakana and NFKC, like the server's search (app.kana)
    return text.normalize("NFKC").replace(/[\u3041-\u3096]/g, function (ch) {
      return String.fromCharCode(ch.charCodeAt(0) + 0x60);
    }).toLowerCase();
  }
  input.addEventListener("input", function () {
    var words = normalise(input.value).split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(select.options, function (option) {
      var text = normalise(option.text);
      option.hidden = !option.selected && !words.every(function (word) { return text.indexOf(word) >= 0; });
    });
  });
}());
