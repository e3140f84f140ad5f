// Facet checkboxes apply at once; without this script, the "Apply filters" button does it.
document.documentElement.classList.add("js");
document.querySelectorAll(".facet input[type=checkbox]").forEach(function (box) {
  box.addEventListener("change", function () {
    var form = document.getElementById("search-form");
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });
});
