// Course pages: device fields per modality, adjunct rows without a reload, and the signature pad.
// No inline scripts: CSP allows only our own files.
(function () {
  "use strict";

  function syncDeviceFields() {
    const select = document.querySelector("[data-modality-select]");
    if (!select) return;
    document.querySelectorAll(".device-fields[data-modality]").forEach(function (group) {
      const wanted = group.dataset.modality.split(" ");
      group.classList.toggle("d-none", !wanted.includes("all") && !wanted.includes(select.value));
    });
  }

  function addFormsetRow(prefix) {
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const template = document.getElementById(prefix + "-empty-form");
    const rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return;
    const index = parseInt(total.value, 10);
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const first = rows.lastElementChild && rows.lastElementChild.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }

  function signaturePad(canvas) {
    const form = canvas.closest("form");
    const hidden = form && form.querySelector("input[name=signature_drawing]");
    if (!hidden) return;
    const context = canvas.getContext("2d");
    context.lineWidth = 2;
    context.lineCap = "round";
    let drawing = false;
    let drawn = false;
    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      context.beginPath();
      context.moveTo.apply(context, point(event));
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      context.lineTo.apply(context, point(event));
      context.stroke();
      drawn = true;
    });
    ["pointerup", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    form.addEventListener("submit", function () {
      hidden.value = drawn ? canvas.toDataURL("image/png") : "";
    });
    const clear = form.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        hidden.value = "";
      });
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-modality-select]")) syncDeviceFields();
  });
  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-formset-add]");
    if (add) {
      event.preventDefault();
      addFormsetRow(add.dataset.formsetAdd);
    }
  });
  function init() {
    syncDeviceFields();
    document.querySelectorAll("canvas.signature-pad").forEach(signaturePad);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
