// zoom-sam views: the one behaviour the server cannot give. A select marked data-autosubmit
// (the usage page's as-of) submits its form on change; without JavaScript a button does.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
