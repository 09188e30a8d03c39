"""Bases for the mixins of admins and forms, for the type checker only.

A mixin is only ever mixed into a ModelAdmin (or a Form, or django-import-export's admin), so
the type checker is shown that class as its base; at run time the base is `object`, and the
method resolution order of the classes that use the mixins is unchanged.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django import forms
    from django.contrib import admin
    from django.utils.deprecation import MiddlewareMixin
    from import_export.admin import ImportExportMixin
    from simple_history.admin import SimpleHistoryAdmin

    ModelAdminMixinBase = admin.ModelAdmin[Any]
    FormMixinBase = forms.BaseForm
    MiddlewareMixinBase = MiddlewareMixin
    # django-import-export and django-simple-history ship no types: their admins are `Any`.
    ImportExportAdminMixinBase = ImportExportMixin
    HistoryAdminMixinBase = SimpleHistoryAdmin
else:
    ModelAdminMixinBase = object
    FormMixinBase = object
    MiddlewareMixinBase = object
    ImportExportAdminMixinBase = object
    HistoryAdminMixinBase = object
