"""A reservation taken by phone: a form of lines (SKU code, quantity, warehouse or "any"), through
`reservation_create` as the API does; and the reservation's page commits or releases it
(`reservation_commit`, `reservation_release`)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from catalog.models import SKU
from inventory_site.exceptions import DomainError
from inventory_site.mixin_bases import ModelAdminMixinBase
from inventory_site.refusals import detail_text, refusal_text
from stock import services
from stock.models import Reservation, Warehouse

PHONE_ORDER_LINES = 6


class PhoneOrderForm(forms.Form):
    """The order's reference, how long to hold it, and up to six lines (empty ones are skipped)."""

    reference = forms.CharField(max_length=100, help_text="The order number the customer will quote.")
    hold_minutes = forms.IntegerField(
        label="Hold for (minutes)",
        min_value=1,
        max_value=7 * 24 * 60,
        initial=settings.RESERVATION_TTL_SECONDS // 60,
        help_text="Released by itself after this unless committed.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warehouses = [("", "any (the service picks)")] + [
            (str(w.pk), f"{w.name} ({w.code})") for w in Warehouse.objects.filter(is_active=True).order_by("code")
        ]
        for n in range(PHONE_ORDER_LINES):
            self.fields[f"sku_{n}"] = forms.CharField(
                label=f"Line {n + 1}: SKU code",
                required=False,
                max_length=50,
                widget=forms.TextInput(attrs={"list": "sku-codes", "class": "sku-autocomplete"}),
            )
            self.fields[f"quantity_{n}"] = forms.IntegerField(
                label="quantity", required=False, min_value=1, max_value=services.MAX_QUANTITY
            )
            self.fields[f"warehouse_{n}"] = forms.ChoiceField(label="from", required=False, choices=warehouses)

    def line_fields(self):
        return [(self[f"sku_{n}"], self[f"quantity_{n}"], self[f"warehouse_{n}"]) for n in range(PHONE_ORDER_LINES)]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        codes = [cleaned.get(f"sku_{n}", "").strip() for n in range(PHONE_ORDER_LINES)]
        found = {sku.sku_code.lower(): sku for sku in SKU.objects.filter(sku_code__in=[c.upper() for c in codes if c])}
        lines = []
        for n, code in enumerate(codes):
            quantity = cleaned.get(f"quantity_{n}")
            if not code and not quantity:
                continue
            sku = found.get(code.lower()) or (SKU.objects.filter(sku_code__iexact=code).first() if code else None)
            if sku is None:
                self.add_error(f"sku_{n}", f"No active SKU with code {code}." if code else "Give the SKU code.")
                continue
            if not quantity:
                self.add_error(f"quantity_{n}", "Give the quantity.")
                continue
            warehouse = cleaned.get(f"warehouse_{n}")
            lines.append(
                services.ReservationRequestLine(
                    sku=sku, quantity=quantity, warehouse=Warehouse.objects.get(pk=warehouse) if warehouse else None
                )
            )
        if not lines and not self.errors:
            raise forms.ValidationError("Give at least one line.")
        cleaned["lines"] = lines
        return cleaned


def _short_lines(exc: DomainError, lines) -> str:
    """A refusal naming each short line by its SKU code."""
    per_line = (exc.errors or {}).get("lines") if isinstance(exc.errors, dict) else None
    if not isinstance(per_line, dict):
        return refusal_text(exc)
    named = [
        f"{lines[int(i)].sku.sku_code}: {detail_text(_without_code(detail))}"
        for i, detail in sorted(per_line.items(), key=lambda item: int(item[0]))
        if str(i).isdigit() and int(i) < len(lines)
    ]
    return f"{exc.message.rstrip('.')} ({'; '.join(named)})."


def _without_code(detail):
    return {k: v for k, v in detail.items() if k != "sku_code"} if isinstance(detail, dict) else detail


class PhoneOrderViewsMixin(ModelAdminMixinBase):
    """Adds "New reservation (phone order)" and the commit/release buttons to `ReservationAdmin`."""

    def get_urls(self):
        return [
            path(
                "phone-order/", self.admin_site.admin_view(self.phone_order_view), name="stock_reservation_phone_order"
            ),
            path(
                "<int:pk>/commit/",
                self.admin_site.admin_view(require_POST(self.commit_view)),
                name="stock_reservation_commit",
            ),
            path(
                "<int:pk>/release/",
                self.admin_site.admin_view(require_POST(self.release_view)),
                name="stock_reservation_release",
            ),
            *super().get_urls(),
        ]

    def phone_order_view(self, request):
        if not request.user.has_perm("stock.add_reservation"):
            raise PermissionDenied("stock.add_reservation")
        form = PhoneOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                reservation = services.reservation_create(
                    reference=data["reference"],
                    lines=data["lines"],
                    ttl_seconds=data["hold_minutes"] * 60,
                    user=request.user,
                )
            except DomainError as exc:
                form.add_error(None, f"Nothing reserved: {_short_lines(exc, data['lines'])}")
            else:
                self.log_addition(request, reservation, "Reserved for a phone order.")
                units = sum(line.quantity for line in data["lines"])
                self.message_user(
                    request,
                    f"Reserved {units:,} units for {reservation.reference}; commit it when "
                    "the goods leave, or release it.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:stock_reservation_change", args=[reservation.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "New reservation (phone order)",
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/stock/reservation/phone_order.html", context)

    def _finish_view(self, request, pk, *, permission: str, service, done: str):
        if not request.user.has_perm(permission):
            raise PermissionDenied(permission)
        reservation = get_object_or_404(Reservation, pk=pk)
        try:
            reservation = service(reservation=reservation, user=request.user)
        except DomainError as exc:
            self.message_user(request, f"Not {done.lower()}: {refusal_text(exc)}", messages.ERROR)
        else:
            self.log_change(request, reservation, f"{done}.")
            self.message_user(request, f"{done} {reservation.reference}.", messages.SUCCESS)
        return redirect(reverse("admin:stock_reservation_change", args=[pk]))

    def commit_view(self, request, pk):
        return self._finish_view(
            request, pk, permission="stock.commit_reservation", service=services.reservation_commit, done="Committed"
        )

    def release_view(self, request, pk):
        return self._finish_view(
            request, pk, permission="stock.release_reservation", service=services.reservation_release, done="Released"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_commit": request.user.has_perm("stock.commit_reservation"),
            "can_release": request.user.has_perm("stock.release_reservation"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_phone_order": request.user.has_perm("stock.add_reservation")}
        return super().changelist_view(request, extra_context)
