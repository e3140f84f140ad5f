// Copy buttons: copy the text of the input named by data-target.
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.dataset.target);
    input.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(input.value); }
  });
});
