"""Public pages (R1): home, FAQ, the user guide as a PDF; liveness and readiness."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_page

from ramis.common import health
from ramis.common.pdf import render_pdf
from ramis.offices.models import RegistrationOffice

FAQ = [
    ("چه کسانی می‌توانند وارد رمیس شوند؟",
     "فقط اشخاصی که شرکتشان آن‌ها را از طریق مدیریت نظارتی سازمان بورس معرفی کرده و معرفی‌شان تأیید شده است."),
    ("برای ورود چه اطلاعاتی لازم است؟",
     "کد ملی، تاریخ تولد، شماره شناسنامه، شماره تلفن همراه ثبت‌شده و کد امنیتی؛ سپس کد یک‌بارمصرفی که پیامک می‌شود."),
    ("تفاوت گواهی امضا و مهر سازمانی چیست؟",
     "گواهی امضا برای شخص در سمتش در شرکت صادر می‌شود و گواهی مهر سازمانی برای خود شرکت."),
    ("اگر توکن دارم باید توکن جدید بخرم؟",
     "خیر؛ اگر پیش‌تر توکن یا گواهی داشته‌اید، همان توکن را به دفتر ثبت‌نام ببرید و سخت‌افزار انتخاب نکنید."),
    ("خدمت در محل چیست؟",
     "کارشناس دفتر ثبت‌نام با دریافت هزینه خدمت در محل، برای احراز هویت و صدور گواهی به محل شرکت می‌آید."),
    ("آیا دیگری می‌تواند گواهی مرا تحویل بگیرد؟",
     "فقط خود دارنده گواهی یا وکیل قانونی او با وکالت‌نامه محضری (غیر از وکالت ثبتی یا مالیاتی)."),
    ("تمدید گواهی کجا انجام می‌شود؟",
     "تمدید باید در همان دفتر ثبت‌نامی انجام شود که گواهی را صادر کرده است."),
]

GUIDE_STEPS = [
    "شرکت، شما را از طریق مدیریت نظارتی مربوط در سازمان بورس معرفی می‌کند و کارشناس سازمان معرفی را تأیید می‌کند.",
    "با کد ملی، تاریخ تولد، شماره شناسنامه، تلفن همراه و کد امنیتی وارد شوید و کد پیامک‌شده را وارد کنید.",
    "در پنل، کنار سمت خود «درخواست جدید» را بزنید و فرم گواهی امضا یا مهر سازمانی را کامل کنید و مدارک را بارگذاری کنید.",
    "دفتر ثبت‌نام و نوع خدمت (حضوری یا در محل) و در صورت نیاز توکن را انتخاب کنید و «ثبت نهایی» را بزنید.",
    "پس از تأیید دفتر، هزینه را از پنل بپردازید.",
    "برای خدمت حضوری، در فرم «قرار ملاقات» روز و ساعت مراجعه را انتخاب کنید؛ برای خدمت در محل، دفتر با شما تماس می‌گیرد.",
    "در زمان مقرر با اصل مدارک برای احراز هویت حضوری مراجعه کنید تا گواهی روی توکن شما صادر شود.",
]


def home(request):
    return render(request, "public/home.html")


def faq(request):
    return render(request, "public/faq.html", {"faq": FAQ})


@cache_page(60 * 60)
def guide_pdf(request):
    pdf = render_pdf("pdf/user_guide.html", {"steps": GUIDE_STEPS, "faq": FAQ,
                                              "offices": RegistrationOffice.objects.active()})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="ramis-guide.pdf"'
    return response


def healthz(request):
    """Liveness: the process answers (docs/operator/health.md)."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness: the database, cache, broker and signing worker the portal needs (503 when not)."""
    ready, body = health.readiness()
    response = JsonResponse(body, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
