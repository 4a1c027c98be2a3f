// Scheduling: on the "book whole course" table, a row left out greys out its slot fields (they are ignored).
document.addEventListener("change", function (event) {
  const box = event.target.closest("[data-slot-include]");
  if (!box) return;
  box.closest("tr").querySelectorAll("input[type=date], input[type=time], select").forEach(function (field) {
    field.disabled = !box.checked;
  });
});
