# Production image: the same code as `make run`, served by gunicorn; Celery workers and beat
# run from the same image with another command (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RAMIS_ENV=production RAMIS_VAR_DIR=/var/lib/ramis
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 opensc openssl libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz0b fonts-noto-core poppler-utils ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --uid 1000 ramis

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
 && mkdir -p static/fonts /var/lib/ramis \
 && for f in NotoSansArabic-Regular NotoSansArabic-Bold NotoSans-Regular NotoSans-Bold; do \
      cp /usr/share/fonts/truetype/noto/$f.ttf static/fonts/; done \
 && SECRET_KEY=build-only ALLOWED_HOSTS=build python manage.py collectstatic --noinput -v 0 \
 && chown -R ramis /var/lib/ramis

USER ramis
EXPOSE 8000
CMD ["gunicorn", "ramis.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
