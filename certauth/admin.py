from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "national_code", "is_staff", "is_active"]
    # the national code a staff member's signature certificate carries (PNOIR-…): certificate login
    fieldsets = (*UserAdmin.fieldsets, ("ورود با گواهی الکترونیکی", {"fields": ("national_code",)}))
