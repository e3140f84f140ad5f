// Copy buttons: copy the text of the element named by data-target (an input's value, or the
// text of a citation). The buttons are hidden in the markup and shown here: without scripts
// the citations stay plain selectable text and no button promises what it cannot do.
(function () {
  var status = document.querySelector(".copy-status");
  function selectText(element) {
    if (element.select) { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function done() {
    if (status) { status.textContent = status.dataset.copied; }
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.target);
      var text = target.value !== undefined ? target.value : target.textContent;
      selectText(target);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
