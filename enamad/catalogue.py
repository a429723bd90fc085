"""Default catalogue data, editable in the admin afterwards: the expert's checklist (N11) and the
services with the authorities that license them (N8). Loaded by migration 0002 and, idempotently,
by ``seed_enamad_demo``."""

CHECKLIST = [
    ("دامنه و محتوای سایت با کسب‌وکار ثبت‌شده یکسان است", "نام و موضوع فعالیت در سایت با اطلاعات پرونده یکی باشد."),
    ("اطلاعات تماس در سایت درج شده است", "نشانی، تلفن ثابت با پیش‌شماره و رایانامه در صفحه «تماس با ما»."),
    ("قیمت کالاها و خدمات به ریال یا تومان و روشن درج شده است", ""),
    ("روش‌های ارسال، هزینه و زمان تحویل اعلام شده است", ""),
    ("شرایط بازگرداندن کالا و بازپرداخت وجه اعلام شده است", "مطابق قانون تجارت الکترونیکی (حق انصراف ۷ روزه)."),
    ("درگاه پرداخت به نام صاحب نماد است", "درگاه پرداخت اینترنتی متعلق به همان شخص یا شرکت باشد."),
    ("حریم خصوصی و قوانین استفاده از سایت منتشر شده است", ""),
    ("سایت محتوای مغایر با قوانین ندارد", ""),
]

SERVICES = [
    ("فروش کالاهای عمومی (پوشاک، لوازم خانگی، ...)", "", False),
    ("فروش کتاب و لوازم‌التحریر", "", False),
    ("فروش بلیت هواپیما", "سازمان هواپیمایی کشوری", True),
    ("خدمات گردشگری و رزرو هتل", "وزارت میراث فرهنگی، گردشگری و صنایع‌دستی", True),
    ("فروش دارو و مکمل", "سازمان غذا و دارو", True),
    ("فروش مواد غذایی و خوراکی", "سازمان غذا و دارو", True),
    ("آموزش آنلاین", "وزارت آموزش و پرورش / وزارت علوم", True),
    ("خدمات مالی و پرداخت", "بانک مرکزی جمهوری اسلامی ایران", True),
    ("فروش نرم‌افزار و خدمات دیجیتال", "", False),
]



def ensure_defaults(checklist_model, service_model) -> None:
    """Create what is missing; never touches rows an admin has edited."""
    if not checklist_model.objects.exists():
        for order, (title, description) in enumerate(CHECKLIST, start=1):
            checklist_model.objects.get_or_create(title=title, defaults={"description": description, "order": order})
    if not service_model.objects.exists():
        for order, (name, authority, requires) in enumerate(SERVICES, start=1):
            service_model.objects.get_or_create(name=name, defaults={"authority": authority,
                                                                    "requires_licence": requires, "order": order})
