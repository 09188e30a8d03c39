"""The stock clerk's screens on the stock levels admin: a transfer between warehouses, and a
count sheet or bulk adjustment uploaded as CSV or XLSX, previewed, then applied all or nothing.

The forms only read the shape; the transfer calls `stock_transfer`, a count sheet
`stock_count_apply` (as `manage.py import_stock_count` does), a bulk adjustment
`stock_adjust_bulk` (as the API's bulk endpoint does).
"""

import csv
import io
import secrets

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Lower
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from catalog.models import SKU
from catalog.rules import sku_code_key
from inventory_site.exceptions import DomainError
from inventory_site.mixin_bases import FormMixinBase, ModelAdminMixinBase
from inventory_site.refusals import detail_text, refusal_text
from inventory_site.spreadsheets import MB, SheetLimits, SheetRefused, csv_rows, xlsx_rows
from stock import services
from stock.admin.level_settings import SETTINGS, SETTINGS_COLUMNS, settings_from_sheet
from stock.models import MovementReason, StockLevel, Warehouse
from stock.services.counts import CountLine, stock_count_apply

MAX_UPLOAD_BYTES = 5 * MB
# A sheet is read whole before anything is checked: bounded once uncompressed, not only as sent.
SHEET_LIMITS = SheetLimits(rows=20_000, cells_per_row=16, cell_bytes=10_000, total_bytes=16 * MB)
PREVIEW_ROWS = 100  # the preview lists this many changes; the summary counts them all
# The previewed sheet waits server-side for "Confirm" (the page carries a key, not the sheet).
PREVIEW_SECONDS = 3600
COUNT_COLUMNS = ("sku_code", "counted")
ADJUST_COLUMNS = ("sku_code", "change")


def sku_code_field() -> forms.CharField:
    """The SKU code box of the clerk's forms: free text with the codes suggested (sku-autocomplete.js)."""
    return forms.CharField(
        label="SKU code",
        max_length=50,
        widget=forms.TextInput(attrs={"list": "sku-codes", "autocomplete": "off", "class": "sku-autocomplete"}),
    )


class SKUCodeFormMixin(FormMixinBase):
    """A form whose `sku_code` (any case) names an active SKU; `cleaned_data["sku"]` is that SKU."""

    def clean_sku_code(self):
        code = self.cleaned_data["sku_code"].strip()
        sku = SKU.objects.with_code(code).first()
        if sku is None:
            raise forms.ValidationError(f"No active SKU with code {code}.")
        self.cleaned_data["sku"] = sku
        return sku.sku_code


class TransferForm(SKUCodeFormMixin, forms.Form):
    """Move available units of one SKU from one warehouse to another."""

    sku_code = sku_code_field()
    from_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), empty_label=None)
    to_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), empty_label=None)
    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    reference = forms.CharField(max_length=100, required=False, help_text="Transfer note or picking list number.")
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("from_warehouse") and cleaned.get("from_warehouse") == cleaned.get("to_warehouse"):
            self.add_error("to_warehouse", "Choose a different warehouse than the one the units leave.")
        return cleaned


class SheetUploadForm(forms.Form):
    """A count sheet or a bulk adjustment, as CSV or XLSX."""

    KINDS = [
        ("count", "Stock count: columns sku_code, counted[, warehouse]"),
        ("adjust", "Bulk adjustment: columns sku_code, change[, warehouse] (+ to add, - to remove)"),
        (
            "settings",
            "Level settings: columns sku_code[, warehouse] and any of low_stock_threshold, "
            "safety_stock, reorder_point, reorder_quantity (an empty cell keeps the setting)",
        ),
    ]

    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="count")
    sheet = forms.FileField(help_text="CSV (UTF-8) or XLSX, first row the column names. At most 5 MB.")
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
        empty_label="the default warehouse",
        help_text="For lines without a warehouse column.",
    )
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in services.ADJUSTMENT_REASONS if r != MovementReason.COUNT],
        initial=MovementReason.RECEIPT,
        help_text="Bulk adjustments only (a count is always a count).",
        required=False,
    )
    reference = forms.CharField(max_length=100, required=False, help_text="Stored on every movement.")

    def clean_sheet(self):
        upload = self.cleaned_data["sheet"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".csv", ".txt")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        try:
            if name.endswith(".xlsx"):
                return rows_from_xlsx(upload.read())
            return rows_from_csv(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The CSV file is not UTF-8 text.") from None
        except SheetRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        rows = cleaned.get("sheet")
        if rows is not None and cleaned.get("kind"):
            needed = {"count": COUNT_COLUMNS, "adjust": ADJUST_COLUMNS, "settings": SETTINGS_COLUMNS}[cleaned["kind"]]
            header = rows[0] if rows else []
            missing = [column for column in needed if column not in header]
            if missing:
                self.add_error(
                    "sheet", f"Line 1 must name the columns {', '.join(needed)}; missing: {', '.join(missing)}."
                )
            elif cleaned["kind"] == "adjust" and not cleaned.get("reason"):
                self.add_error("reason", "Choose the reason of the adjustments.")
            elif cleaned["kind"] == "settings" and not set(SETTINGS) & set(header):
                self.add_error("sheet", f"Line 1 must name at least one of {', '.join(SETTINGS)}.")
        return cleaned


def rows_from_csv(text: str) -> list[list[str]]:
    """The rows of a CSV text within `SHEET_LIMITS`, the header lower-cased."""
    rows = [[cell.strip() for cell in row] for row in csv_rows(io.StringIO(text, newline=""), SHEET_LIMITS)]
    if rows:
        rows[0] = [cell.lower() for cell in rows[0]]
    return rows


def rows_from_xlsx(data: bytes) -> list[list[str]]:
    """The rows of the first sheet of a workbook within `SHEET_LIMITS`, as text (whole
    numbers without ".0")."""
    rows = []
    for values in xlsx_rows(io.BytesIO(data), SHEET_LIMITS):
        cells = []
        for value in values:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            cells.append("" if value is None else str(value).strip())
        rows.append(cells)
    if rows:
        rows[0] = [cell.lower() for cell in rows[0]]
    return rows


def rows_to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def records(rows: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    """`(line number, {column: value})` for each non-empty line after the header."""
    header = rows[0]
    found = []
    for number, row in enumerate(rows[1:], start=2):
        if any(row):
            found.append((number, {column: (row[i] if i < len(row) else "") for i, column in enumerate(header)}))
    return found


class ClerkViewsMixin(ModelAdminMixinBase):
    """Adds the transfer and the sheet upload screens to `StockLevelAdmin`."""

    def get_urls(self):
        extra = [
            path("transfer/", self.admin_site.admin_view(self.transfer_view), name="stock_stocklevel_transfer"),
            path("upload/", self.admin_site.admin_view(self.upload_view), name="stock_stocklevel_upload"),
        ]
        return extra + super().get_urls()

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def transfer_view(self, request):
        """Calls `stock_transfer`: `transfer_out` and `transfer_in` in one transaction."""
        if not request.user.has_perm("stock.transfer_stock"):
            raise PermissionDenied("stock.transfer_stock")
        initial = {"sku_code": request.GET.get("sku", "")}
        form = TransferForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                _movements, (source, target) = services.stock_transfer(
                    sku=data["sku"],
                    from_warehouse=data["from_warehouse"],
                    to_warehouse=data["to_warehouse"],
                    quantity=data["quantity"],
                    reference=data["reference"],
                    note=data["note"],
                    user=request.user,
                )
            except DomainError as exc:
                where = f"{data['sku'].sku_code} from {data['from_warehouse'].name}"
                form.add_error(None, f"Not transferred ({where}): {refusal_text(exc)}")
            else:
                text = (
                    f"Transferred {data['quantity']} × {data['sku'].sku_code} from {data['from_warehouse'].name} "
                    f"to {data['to_warehouse'].name}{' (' + data['reference'] + ')' if data['reference'] else ''}"
                )
                self.log_change(request, source, f"{text}; now {source.on_hand} on hand here.")
                self.log_change(request, target, f"{text}; now {target.on_hand} on hand here.")
                self.message_user(
                    request,
                    f"{text}. Now {source.on_hand} on hand at {data['from_warehouse'].name}, "
                    f"{target.on_hand} at {data['to_warehouse'].name}.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:stock_stockmovement_changelist") + f"?sku__id__exact={data['sku'].pk}")
        return TemplateResponse(
            request,
            "admin/stock/stocklevel/transfer.html",
            self._context(request, "Transfer stock", form=form, media=self.media + form.media),
        )

    def upload_view(self, request):
        """Preview a sheet (a dry run through the service), then apply it on "Confirm"."""
        if not request.user.has_perm("stock.adjust_stock"):
            raise PermissionDenied("stock.adjust_stock")
        confirm = request.method == "POST" and "_confirm" in request.POST
        preview = refusal = None
        if confirm:
            # The confirm step names the sheet it previewed, kept server-side since the preview.
            key = _preview_key(request, request.POST.get("sheet_token", ""))
            text = cache.get(key) if key else None
            form = SheetUploadForm(request.POST, {"sheet": _UploadedText(text or "")})  # type: ignore[arg-type]  # a dict of one file
            if text is None:
                form.add_error(None, "This preview has expired or was applied already: upload the sheet again.")
        else:
            form = SheetUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            apply = {"count": self._apply_count, "adjust": self._apply_adjustments, "settings": self._apply_settings}[
                data["kind"]
            ]
            try:
                preview = apply(request, data, dry_run=not confirm)
            except DomainError as exc:
                refusal = exc
            else:
                if confirm:
                    cache.delete(key)
                    self.message_user(request, preview["summary"], messages.SUCCESS)
                    return redirect(reverse("admin:stock_stockmovement_changelist"))
                preview["sheet_token"] = secrets.token_urlsafe(16)
                cache.set(_preview_key(request, preview["sheet_token"]), rows_to_csv(data["sheet"]), PREVIEW_SECONDS)
                if len(preview["rows"]) > PREVIEW_ROWS:
                    preview["summary"] += f" The first {PREVIEW_ROWS} of {len(preview['rows'])} changes are listed."
                    preview["rows"] = preview["rows"][:PREVIEW_ROWS]
        context = self._context(
            request,
            "Upload a stock count, bulk adjustment or level settings",
            form=form,
            preview=preview,
            refusal_message=refusal and refusal.message,
            media=self.media + form.media,
            refusal_lines=_refused_lines(refusal),
        )
        return TemplateResponse(request, "admin/stock/stocklevel/upload.html", context)

    def _apply_settings(self, request, data, *, dry_run):
        default = data["warehouse"] or Warehouse.objects.filter(is_default=True).first()
        return settings_from_sheet(
            records(data["sheet"]), default_warehouse=default, user=request.user, dry_run=dry_run
        )

    def _apply_count(self, request, data, *, dry_run):
        lines = [
            CountLine(
                line=number,
                sku_code=row.get("sku_code", ""),
                counted=row.get("counted", ""),
                warehouse_code=row.get("warehouse", "").upper(),
            )
            for number, row in records(data["sheet"])
        ]
        result = stock_count_apply(
            lines=lines,
            warehouse_code=data["warehouse"].code if data["warehouse"] else None,
            reference=data["reference"],
            dry_run=dry_run,
            user=request.user,
        )
        rows = [
            (f"line {line}", sku, warehouse, old, new, new - old)
            for line, sku, warehouse, old, new in result.differences
        ]
        summary = (
            f"Counted {result.lines} lines: {result.changed} changed (+{result.units_added} / "
            f"-{result.units_removed} units), {result.unchanged} unchanged."
        )
        if not dry_run:
            self._log_levels(request, result.differences, data["reference"], "Counted")
        return {"kind": "count", "rows": rows, "summary": summary, "lines": result.lines}

    def _apply_adjustments(self, request, data, *, dry_run):
        sheet = records(data["sheet"])
        keys = {key for _number, row in sheet if (key := sku_code_key(row.get("sku_code", "")))}
        skus = {
            sku.sku_code.lower(): sku
            for sku in SKU.all_objects.alias(sku_code_lower=Lower("sku_code")).filter(sku_code_lower__in=keys)
        }
        warehouses = {w.code: w for w in Warehouse.all_objects.all()}
        default = data["warehouse"] or Warehouse.objects.filter(is_default=True).first()
        lines, faults, numbers = [], {}, []
        for number, row in sheet:
            code = row.get("sku_code", "")
            sku = skus.get(sku_code_key(code) or "")
            warehouse = warehouses.get(row.get("warehouse", "").upper()) if row.get("warehouse") else default
            try:
                change = int(row.get("change", ""))
            except ValueError:
                change = None
            problems = [
                text
                for ok, text in (
                    (sku is not None, f"unknown SKU code {code or '(empty)'}"),
                    (warehouse is not None, f"unknown warehouse {row.get('warehouse', '')}"),
                    (change is not None, f"change {row.get('change', '')!r} is not a whole number"),
                )
                if not ok
            ]
            if problems:
                faults[f"line {number}"] = "; ".join(problems)
                continue
            lines.append(
                {
                    "sku": sku,
                    "warehouse": warehouse,
                    "delta": change,
                    "reason": data["reason"],
                    "reference": data["reference"],
                    "note": f"Bulk adjustment, line {number}",
                }
            )
            numbers.append(number)
        if faults:
            raise DomainError(f"{len(faults)} invalid line(s); nothing was changed.", errors=faults)
        levels = {
            (lvl.sku_id, lvl.warehouse_id): lvl.on_hand
            for lvl in StockLevel.objects.filter(sku__in=[line["sku"] for line in lines])
        }
        rows = []
        for number, line in zip(numbers, lines, strict=True):
            old = levels.get((line["sku"].pk, line["warehouse"].pk), 0)
            rows.append(
                (
                    f"line {number}",
                    line["sku"].sku_code,
                    line["warehouse"].code,
                    old,
                    old + line["delta"],
                    line["delta"],
                )
            )
            levels[(line["sku"].pk, line["warehouse"].pk)] = old + line["delta"]
        added = sum(line["delta"] for line in lines if line["delta"] > 0)
        removed = -sum(line["delta"] for line in lines if line["delta"] < 0)
        summary = f"Adjusted {len(lines)} lines (+{added} / -{removed} units)."
        if not dry_run:
            try:
                services.stock_adjust_bulk(lines=lines, user=request.user)
            except DomainError as exc:
                refused = (exc.errors or {}).get("lines", {})
                raise DomainError(
                    f"{exc.message.rstrip('.')}; nothing was changed.",
                    errors={f"line {numbers[int(i)]}": detail for i, detail in refused.items()} or exc.errors,
                ) from exc
            self._log_levels(
                request,
                [(n, r[1], r[2], r[3], r[4]) for n, r in zip(numbers, rows, strict=True)],
                data["reference"],
                "Adjusted",
            )
        return {"kind": "adjust", "rows": rows, "summary": summary, "lines": len(lines)}

    def _log_levels(self, request, differences, reference, verb):
        """One "Recent actions" entry per level the sheet changed."""
        codes = {(sku, warehouse) for _line, sku, warehouse, _old, _new in differences}
        levels = {
            (lvl.sku.sku_code, lvl.warehouse.code): lvl
            for lvl in StockLevel.objects.select_related("sku", "warehouse").filter(
                sku__sku_code__in=[c for c, _w in codes]
            )
        }
        for _line, sku, warehouse, old, new in differences:
            level = levels.get((sku, warehouse))
            if level is not None:
                note = f" ({reference})" if reference else ""
                self.log_change(request, level, f"{verb} from a sheet{note}: {old} → {new} on hand.")


def _preview_key(request, token: str) -> str | None:
    """The cache key of a previewed sheet: the user's own, and only a token this view made."""
    if not token or len(token) > 64 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    return f"stock-sheet-preview:{request.user.pk}:{token}"


class _UploadedText:
    """The previewed sheet posted back as CSV text, read like an upload."""

    def __init__(self, text: str):
        self._data = text.encode("utf-8")
        self.name = "sheet.csv"
        self.size = len(self._data)

    def read(self):
        return self._data


def _refused_lines(exc: DomainError | None) -> list[tuple[str, str]]:
    """`[("line 3", "unknown SKU code X"), ...]` from a refusal, each in words."""
    if exc is None or not isinstance(exc.errors, dict):
        return []
    return [
        (str(where), reason if isinstance(reason, str) else detail_text(reason)) for where, reason in exc.errors.items()
    ]
