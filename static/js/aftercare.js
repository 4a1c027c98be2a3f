// Aftercare print view: "Print aftercare sheet" links add ?print=1 so the print dialog opens in one click.
document.addEventListener("DOMContentLoaded", function () {
  if (document.body.hasAttribute("data-autoprint")) {
    window.print();
  }
});
