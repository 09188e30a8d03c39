/* The category tree (django-mptt's drag and drop): dropping a branch that holds products asks
   first. Cancelling aborts the move (the page reloads as it was). */
'use strict';
(function ($) {
  function rowOf(pk) { return $('.tree-node[data-pk="' + pk + '"]').closest('tr'); }
  function nameOf(row) { return $.trim(row.find('td.field-indented_title, th.field-indented_title').text()); }
  var where = { 'last-child': 'into', 'left': 'before', 'right': 'after' };
  $.ajaxPrefilter(function (options, original, xhr) {
    var data = original.data || {};
    if (data.cmd !== 'move_node') return;
    var moved = rowOf(data.cut_item);
    var products = parseInt(moved.find('.branch-products').data('count'), 10) || 0;
    if (!products) return;
    var question = 'Move "' + nameOf(moved) + '" with its ' + products + ' product' + (products === 1 ? '' : 's') +
      ' (sub-categories included) ' + (where[data.position] || 'next to') + ' "' + nameOf(rowOf(data.pasted_on)) + '"?';
    if (!window.confirm(question)) xhr.abort();
  });
})(django.jQuery);
