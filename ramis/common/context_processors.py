from django.conf import settings


def portal(request):
    return {"DEV_OUTBOX": settings.DEV_OUTBOX, "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL}
