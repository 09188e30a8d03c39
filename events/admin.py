"""The events admin: the outbox (read-only), subscriptions with ping and rotate-secret, and the
delivery log with a redeliver action. Writes go through `events.services`, as the API's do.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from events import services
from events.catalogue import event_patterns_check
from events.exceptions import UnsafeWebhookURL
from events.models import Event, WebhookDelivery, WebhookSubscription
from events.url_policy import webhook_target
from inventory_site.admin import ReadOnlyAdminMixin
from inventory_site.exceptions import DomainError, InvalidInput


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "type", "aggregate", "sku_code", "reference", "created_at", "position")
    list_filter = ("type",)
    search_fields = ("sku_code", "reference", "aggregate")
    show_full_result_count = False
    fields = ("type", "aggregate", "sku_code", "reference", "created_at", "position", "data")


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    events = forms.CharField(help_text="Event types or prefixes, comma-separated, e.g. stock.*, catalog.sku.*")

    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "description", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["events"] = ", ".join(self.instance.events)

    def clean_events(self):
        values = [v.strip() for v in self.cleaned_data["events"].split(",") if v.strip()]
        if not values:
            raise forms.ValidationError("Name at least one event type or prefix.")
        try:
            event_patterns_check(values)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc
        return values

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook_target(url)
        except UnsafeWebhookURL as exc:
            raise forms.ValidationError(exc.reason) from exc
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url", "events_list", "is_active", "deactivated_reason", "failing_since", "deliveries_link")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    readonly_fields = ("deactivated_reason", "failing_since", "version", "created_at", "updated_at")
    actions = ["ping_selected", "rotate_secret_selected"]

    @admin.display(description="events")
    def events_list(self, subscription):
        return ", ".join(subscription.events)

    @admin.display(description="deliveries")
    def deliveries_link(self, subscription):
        url = reverse("admin:events_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">log &rsaquo;</a>', url)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("url", "events", "description", "is_active")}
        if change:
            saved = services.webhook_update(subscription=obj, user=request.user, **fields)
        else:
            saved = services.webhook_create(user=request.user, **fields)
            messages.warning(request, f"Signing secret (shown once, store it now): {saved.secret}")
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request, obj):
        services.webhook_delete(subscription=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.webhook_delete(subscription=subscription, user=request.user)

    @admin.action(description="Send a webhook.ping", permissions=["change"])
    def ping_selected(self, request, queryset):
        for subscription in queryset:
            try:
                event = services.webhook_ping(subscription=subscription, user=request.user)
            except DomainError as exc:
                messages.error(request, f"{subscription}: {exc.message}")
            else:
                messages.success(request, f"{subscription}: ping {event.public_id} queued.")

    @admin.action(description="Rotate the signing secret (old one signs for 24 h)", permissions=["change"])
    def rotate_secret_selected(self, request, queryset):
        for subscription in queryset:
            rotated = services.webhook_rotate_secret(subscription=subscription, user=request.user)
            messages.warning(request, f"{subscription}: new secret (shown once): {rotated.secret}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "event_public_id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "subscription", "event__type")
    list_select_related = ("event", "subscription")
    search_fields = ("aggregate", "event__sku_code", "event__reference")
    show_full_result_count = False
    actions = ["redeliver_selected"]

    @admin.display(description="event")
    def event_public_id(self, delivery):
        return delivery.event.public_id

    @admin.display(description="type")
    def event_type(self, delivery):
        return delivery.event.type

    def has_redeliver_permission(self, request):
        return request.user.has_perm("events.change_webhooksubscription")

    @admin.action(description="Redeliver selected", permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{delivery}: {exc.message}")
        if done:
            messages.success(request, f"{done} deliveries queued again.")
