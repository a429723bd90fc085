from django.contrib import admin

from .models import Clerk, RegistrationOffice


@admin.register(RegistrationOffice)
class RegistrationOfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "phone", "offers_in_person", "offers_on_site", "is_active"]
    list_filter = ["city", "is_active"]
    search_fields = ["code", "name", "city"]


@admin.register(Clerk)
class ClerkAdmin(admin.ModelAdmin):
    list_display = ["user", "office"]
    list_select_related = ["user", "office"]
    autocomplete_fields = ["office"]
