from django.contrib import admin

from ramis.common.admin_tools import AuditedAdminMixin, AuditTrailMixin

from .models import Clerk, Holiday, RegistrationOffice, Tariff, TokenModel, WorkingPeriod


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


@admin.register(RegistrationOffice)
class RegistrationOfficeAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ["code", "name", "city", "phone", "offers_in_person", "offers_on_site", "slot_capacity", "is_active"]
    list_filter = ["city", "is_active"]
    search_fields = ["code", "name", "city"]
    inlines = [WorkingPeriodInline]


@admin.register(Clerk)
class ClerkAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ["user", "office"]
    list_select_related = ["user", "office"]
    autocomplete_fields = ["office"]


@admin.register(Holiday)
class HolidayAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ["date", "title", "office"]
    list_filter = ["office"]
    date_hierarchy = "date"


@admin.register(TokenModel)
class TokenModelAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ["name", "manufacturer", "price_rials", "is_active"]
    list_filter = ["is_active"]


@admin.register(Tariff)
class TariffAdmin(AuditedAdminMixin, AuditTrailMixin, admin.ModelAdmin):
    list_display = ["item", "validity_years", "treasury_rials", "office_rials", "valid_from"]
    list_filter = ["item"]
