/* Checks the JSON in attribute editors as the user types and tidies it on blur.
   The server validates again with the API's rules; this only catches typos early. */
'use strict';
(function () {
  function check(area) {
    var box = area.nextElementSibling;
    if (!box || !box.classList.contains('json-error')) {
      box = document.createElement('div');
      box.className = 'json-error';
      area.parentNode.insertBefore(box, area.nextSibling);
    }
    var text = area.value.trim();
    if (!text) { area.classList.remove('json-invalid'); box.textContent = ''; return null; }
    try {
      var value = JSON.parse(text);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new Error('Attributes must be a JSON object, like {"color": "red"}.');
      }
      area.classList.remove('json-invalid'); box.textContent = '';
      return value;
    } catch (e) {
      area.classList.add('json-invalid'); box.textContent = e.message;
      return null;
    }
  }
  document.addEventListener('input', function (e) {
    if (e.target.classList && e.target.classList.contains('json-editor')) check(e.target);
  });
  document.addEventListener('focusout', function (e) {
    if (e.target.classList && e.target.classList.contains('json-editor')) {
      var value = check(e.target);
      if (value) e.target.value = JSON.stringify(value, null, 2);
    }
  });
})();
