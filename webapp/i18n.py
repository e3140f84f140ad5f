"""Interface strings in English, French, Spanish and Arabic, and the visitor's choice of language."""

from __future__ import annotations

from flask import Request

LANGUAGES = ("en", "fr", "es", "ar")
RTL = {"ar"}
NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}

STRINGS: dict[str, dict[str, str]] = {
    "site_title": {"en": "Pressroom", "fr": "Pressroom", "es": "Pressroom", "ar": "Pressroom"},
    "tagline": {"en": "Search the archive of news releases", "fr": "Rechercher dans les archives des communiqués",
                "es": "Buscar en el archivo de comunicados", "ar": "ابحث في أرشيف البيانات الصحفية"},
    "search": {"en": "Search", "fr": "Rechercher", "es": "Buscar", "ar": "بحث"},
    "search_label": {"en": "Search releases", "fr": "Rechercher des communiqués",
                     "es": "Buscar comunicados", "ar": "البحث في البيانات"},
    "search_help": {"en": 'Words, "exact phrases", AND / OR / NOT, -word, country:LY, word*',
                    "fr": 'Mots, "phrases exactes", AND / OR / NOT, -mot, country:LY, mot*',
                    "es": 'Palabras, "frases exactas", AND / OR / NOT, -palabra, country:LY, palabra*',
                    "ar": 'كلمات، "عبارات دقيقة"، AND / OR / NOT، ‎-كلمة، country:LY، كلمة*'},
    "results": {"en": "{n} releases", "fr": "{n} communiqués", "es": "{n} comunicados", "ar": "{n} بيان"},
    "result_one": {"en": "1 release", "fr": "1 communiqué", "es": "1 comunicado", "ar": "بيان واحد"},
    "newest": {"en": "Newest releases", "fr": "Communiqués les plus récents",
               "es": "Comunicados más recientes", "ar": "أحدث البيانات"},
    "no_results": {"en": "No release matches.", "fr": "Aucun communiqué ne correspond.",
                   "es": "Ningún comunicado coincide.", "ar": "لا توجد بيانات مطابقة."},
    "did_you_mean": {"en": "Did you mean", "fr": "Vouliez-vous dire", "es": "Quiso decir",
                     "ar": "هل تقصد"},
    "relaxed": {"en": "No release has all the words: showing releases with some of them.",
                "fr": "Aucun communiqué ne contient tous les mots : voici ceux qui en contiennent certains.",
                "es": "Ningún comunicado tiene todas las palabras: se muestran los que tienen algunas.",
                "ar": "لا يوجد بيان يحتوي على كل الكلمات: هذه بيانات تحتوي على بعضها."},
    "sort": {"en": "Sort", "fr": "Trier", "es": "Ordenar", "ar": "الترتيب"},
    "relevance": {"en": "Relevance", "fr": "Pertinence", "es": "Relevancia", "ar": "الصلة"},
    "date": {"en": "Date", "fr": "Date", "es": "Fecha", "ar": "التاريخ"},
    "from": {"en": "From", "fr": "Du", "es": "Desde", "ar": "من"},
    "to": {"en": "To", "fr": "Au", "es": "Hasta", "ar": "إلى"},
    "apply": {"en": "Apply", "fr": "Appliquer", "es": "Aplicar", "ar": "تطبيق"},
    "clear": {"en": "Clear all filters", "fr": "Effacer les filtres", "es": "Quitar los filtros",
              "ar": "إزالة عوامل التصفية"},
    "filters": {"en": "Filters", "fr": "Filtres", "es": "Filtros", "ar": "عوامل التصفية"},
    "facet_country": {"en": "Country", "fr": "Pays", "es": "País", "ar": "البلد"},
    "facet_project": {"en": "Project", "fr": "Projet", "es": "Proyecto", "ar": "المشروع"},
    "facet_theme": {"en": "Theme", "fr": "Thème", "es": "Tema", "ar": "الموضوع"},
    "facet_language": {"en": "Language", "fr": "Langue", "es": "Idioma", "ar": "اللغة"},
    "facet_year": {"en": "Year", "fr": "Année", "es": "Año", "ar": "السنة"},
    "facet_site": {"en": "Site", "fr": "Site", "es": "Sitio", "ar": "الموقع"},
    "previous": {"en": "Previous", "fr": "Précédent", "es": "Anterior", "ar": "السابق"},
    "next": {"en": "Next", "fr": "Suivant", "es": "Siguiente", "ar": "التالي"},
    "page_of": {"en": "Page {page}", "fr": "Page {page}", "es": "Página {page}", "ar": "الصفحة {page}"},
    "published": {"en": "Published", "fr": "Publié", "es": "Publicado", "ar": "تاريخ النشر"},
    "updated": {"en": "Updated", "fr": "Mis à jour", "es": "Actualizado", "ar": "تاريخ التحديث"},
    "captured": {"en": "Captured", "fr": "Archivé", "es": "Archivado", "ar": "تاريخ الأرشفة"},
    "dateline": {"en": "Dateline", "fr": "Lieu", "es": "Lugar", "ar": "المكان"},
    "countries": {"en": "Countries", "fr": "Pays", "es": "Países", "ar": "البلدان"},
    "projects": {"en": "Project", "fr": "Projet", "es": "Proyecto", "ar": "المشروع"},
    "themes": {"en": "Themes", "fr": "Thèmes", "es": "Temas", "ar": "المواضيع"},
    "donors": {"en": "Donors", "fr": "Donateurs", "es": "Donantes", "ar": "الجهات المانحة"},
    "contacts": {"en": "Press contacts", "fr": "Contacts presse", "es": "Contactos de prensa",
                 "ar": "جهات الاتصال الصحفية"},
    "translations": {"en": "Translations", "fr": "Traductions", "es": "Traducciones", "ar": "الترجمات"},
    "versions": {"en": "Versions", "fr": "Versions", "es": "Versiones", "ar": "النسخ"},
    "version_n": {"en": "Version {n}", "fr": "Version {n}", "es": "Versión {n}", "ar": "النسخة {n}"},
    "compare": {"en": "What changed", "fr": "Ce qui a changé", "es": "Qué cambió", "ar": "ما الذي تغير"},
    "original": {"en": "Archived original", "fr": "Original archivé", "es": "Original archivado",
                 "ar": "النسخة الأصلية المؤرشفة"},
    "live_page": {"en": "Page as published", "fr": "Page publiée", "es": "Página publicada",
                  "ar": "الصفحة المنشورة"},
    "cite": {"en": "Cite this release", "fr": "Citer ce communiqué", "es": "Citar este comunicado",
             "ar": "الاستشهاد بهذا البيان"},
    "permalink": {"en": "Permanent link to this capture", "fr": "Lien permanent vers cette capture",
                  "es": "Enlace permanente a esta captura", "ar": "رابط دائم لهذه النسخة"},
    "copy": {"en": "Copy", "fr": "Copier", "es": "Copiar", "ar": "نسخ"},
    "more_like_this": {"en": "Related releases", "fr": "Communiqués liés", "es": "Comunicados relacionados",
                       "ar": "بيانات ذات صلة"},
    "banner": {"en": "Archived capture of {url}, made on {date}. The page may have changed or gone since.",
               "fr": "Capture archivée de {url}, faite le {date}. La page a pu changer ou disparaître depuis.",
               "es": "Captura archivada de {url}, hecha el {date}. La página puede haber cambiado o desaparecido.",
               "ar": "نسخة مؤرشفة من {url} أُخذت في {date}. قد تكون الصفحة تغيرت أو حُذفت منذ ذلك الحين."},
    "back_to_release": {"en": "Back to the release", "fr": "Retour au communiqué",
                        "es": "Volver al comunicado", "ar": "العودة إلى البيان"},
    "feed": {"en": "Atom feed of this search", "fr": "Flux Atom de cette recherche",
             "es": "Canal Atom de esta búsqueda", "ar": "موجز Atom لهذا البحث"},
    "export": {"en": "Export", "fr": "Exporter", "es": "Exportar", "ar": "تصدير"},
    "coverage": {"en": "What the archive holds", "fr": "Contenu de l'archive", "es": "Qué contiene el archivo",
                 "ar": "محتوى الأرشيف"},
    "skip": {"en": "Skip to results", "fr": "Aller aux résultats", "es": "Ir a los resultados",
             "ar": "انتقل إلى النتائج"},
    "language_choice": {"en": "Interface language", "fr": "Langue de l'interface",
                        "es": "Idioma de la interfaz", "ar": "لغة الواجهة"},
    "error_404": {"en": "This page does not exist.", "fr": "Cette page n'existe pas.",
                  "es": "Esta página no existe.", "ar": "هذه الصفحة غير موجودة."},
    "error_400": {"en": "The request could not be understood.", "fr": "La demande n'a pas pu être comprise.",
                  "es": "No se pudo entender la solicitud.", "ar": "تعذر فهم الطلب."},
    "error_429": {"en": "Too many requests: please wait a moment.",
                  "fr": "Trop de demandes : veuillez patienter un instant.",
                  "es": "Demasiadas solicitudes: espere un momento.", "ar": "طلبات كثيرة جدًا: يرجى الانتظار قليلًا."},
    "error_500": {"en": "Something went wrong on our side.", "fr": "Un problème est survenu de notre côté.",
                  "es": "Algo salió mal de nuestro lado.", "ar": "حدث خطأ من جانبنا."},
    "error_503": {"en": "Search is not available yet: the index has not been built.",
                  "fr": "La recherche n'est pas encore disponible : l'index n'a pas été construit.",
                  "es": "La búsqueda aún no está disponible: el índice no se ha construido.",
                  "ar": "البحث غير متاح بعد: لم يتم إنشاء الفهرس."},
    "home": {"en": "Back to search", "fr": "Retour à la recherche", "es": "Volver a la búsqueda",
             "ar": "العودة إلى البحث"},
}


def choose_language(request: Request) -> str:
    """Pick the interface language: ?lang=, then the cookie, then Accept-Language, then English."""
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "en"


def translate(key: str, language: str, **values: object) -> str:
    """Return an interface string in a language (English when missing), formatted."""
    table = STRINGS.get(key)
    if table is None:
        return key
    text = table.get(language) or table["en"]
    return text.format(**values) if values else text
