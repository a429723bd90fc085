"""The Django admin (OTP-protected) of the businesses room: catalogue data (checklist, service
categories), the expert's reviews and the postal letters. The business file itself, whose
actions reach the seal's services, is the seals room's admin."""

from django.contrib import admin

from .models import ChecklistItem, PostalLetter, Review, ReviewItem, ServiceCategory


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "authority", "requires_licence", "active", "order"]
    list_editable = ["requires_licence", "active", "order"]
    search_fields = ["name", "authority"]


class ReviewItemInline(admin.TabularInline):
    model = ReviewItem
    extra = 0
    readonly_fields = ["item", "approved", "explanation", "reply", "replied_at"]
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["business", "round", "expert", "outcome", "created_at"]
    list_filter = ["outcome"]
    readonly_fields = ["business", "round", "expert", "outcome", "note"]
    inlines = [ReviewItemInline]


@admin.register(PostalLetter)
class PostalLetterAdmin(admin.ModelAdmin):
    list_display = ["business", "recipient", "postal_code", "created_at", "posted_at"]
    readonly_fields = ["business", "recipient", "address", "postal_code", "body", "created_at"]
