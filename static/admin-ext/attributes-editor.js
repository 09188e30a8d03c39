/* Attribute editors (inventory_site/attributes_widget.py): name/value rows kept in step with the
   raw JSON behind the "Raw JSON" switch. A value reads as JSON when it is JSON, else as text,
   as the server reads it; the services check the result with their rules. */
'use strict';
(function () {
  function cellValue(text) {
    try { return JSON.parse(text); } catch (e) { return text; }
  }
  function cellText(value) {
    if (typeof value === 'string') {
      try { JSON.parse(value); } catch (e) { return value; }
    }
    return JSON.stringify(value);
  }
  function editorOf(el) { return el.closest('.attributes-editor'); }
  function rawOf(editor) { return editor.querySelector('textarea.attribute-raw'); }
  function rowsToRaw(editor) {
    var object = {};
    editor.querySelectorAll('table.attribute-pairs tbody tr').forEach(function (tr) {
      var key = tr.querySelector('.attribute-key').value.trim();
      if (key && !(key in object)) object[key] = cellValue(tr.querySelector('.attribute-value').value);
    });
    rawOf(editor).value = JSON.stringify(object, null, 2);
  }
  function newRow(editor, key, text) {
    var tbody = editor.querySelector('table.attribute-pairs tbody');
    var name = editor.dataset.name;
    var tr = document.createElement('tr');
    [['attribute-key', 'name', '__key', key], ['attribute-value', 'value', '__value', text]].forEach(function (spec) {
      var td = document.createElement('td');
      var input = document.createElement('input');
      input.type = 'text'; input.className = spec[0]; input.setAttribute('aria-label', spec[1]);
      input.name = name + spec[2]; input.value = spec[3];
      td.appendChild(input); tr.appendChild(td);
    });
    var td = document.createElement('td');
    var remove = document.createElement('button');
    remove.type = 'button'; remove.className = 'attribute-remove'; remove.title = 'Remove this attribute';
    remove.textContent = '\u00d7';
    td.appendChild(remove); tr.appendChild(td);
    tbody.appendChild(tr);
    return tr;
  }
  function rawToRows(editor) {
    var value;
    try { value = JSON.parse(rawOf(editor).value.trim() || '{}'); } catch (e) { return false; }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    var tbody = editor.querySelector('table.attribute-pairs tbody');
    tbody.innerHTML = '';
    Object.keys(value).forEach(function (key) { newRow(editor, key, cellText(value[key])); });
    newRow(editor, '', '');
    return true;
  }
  document.addEventListener('click', function (e) {
    var target = e.target;
    if (!target.classList) return;
    if (target.classList.contains('attribute-add')) {
      var editor = editorOf(target);
      var blank = Array.prototype.find.call(editor.querySelectorAll('table.attribute-pairs tbody tr'), function (tr) {
        return !tr.querySelector('.attribute-key').value && !tr.querySelector('.attribute-value').value;
      });
      (blank || newRow(editor, '', '')).querySelector('.attribute-key').focus();
    } else if (target.classList.contains('attribute-remove')) {
      var owner = editorOf(target);
      target.closest('tr').remove();
      rowsToRaw(owner);
    }
  });
  document.addEventListener('input', function (e) {
    var target = e.target;
    if (target.classList && (target.classList.contains('attribute-key') || target.classList.contains('attribute-value'))) {
      rowsToRaw(editorOf(target));
    }
  });
  document.addEventListener('change', function (e) {
    var toggle = e.target;
    if (!toggle.classList || !toggle.classList.contains('attribute-raw-toggle')) return;
    var editor = editorOf(toggle);
    if (toggle.checked) {
      rowsToRaw(editor);
      editor.classList.add('raw');
    } else if (rawToRows(editor)) {
      editor.classList.remove('raw');
    } else {
      toggle.checked = true;  // nothing the rows can show: fix the JSON first
      rawOf(editor).dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
})();
