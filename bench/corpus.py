"""A generated corpus of news releases in Pressroom's release JSON shape, for index benchmarks.

    .venv/bin/python bench/corpus.py --n 100000 [--seed 0] [--out corpus.jsonl]

Each language (en, fr, es, ar) has a vocabulary of 20,000 word forms drawn with a Zipf law
(exponent 1.1, Mandelbrot shift 2.7): real function words at the top, then a few hundred real
words of migration news, then forms derived from them with the language's suffixes (or Arabic
clitics), then made-up words of the language's syllables (Arabic: random roots in real
patterns). Bodies mix these with the release's own country, city and project names and with
fixed collocations (by theme and general), so that facet-related queries and phrase queries
hit. The vocabularies do not depend on the seed, so `queries()` matches any corpus. Output is
deterministic for a seed, and the first N releases of a larger corpus are the corpus of N.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

LANGUAGES = ("en", "fr", "es", "ar")
LANGUAGE_WEIGHTS = (50, 25, 15, 10)
VOCABULARY_SIZE = 20_000
ZIPF_EXPONENT = 1.1
# Mandelbrot's shift flattens the head as in real text: the top word ("the", "de") takes ~5% of
# the tokens instead of ~15%, and function words about 45%; the tail keeps the exponent.
ZIPF_SHIFT = 2.7
FIRST_DAY, LAST_DAY = date(2005, 1, 1), date(2026, 10, 15)

# ISO code, name (en fr es ar), main city (en fr es ar); most frequent in the news first.
COUNTRIES = """
LY|Libya|Libye|Libia|ليبيا|Tripoli|Tripoli|Trípoli|طرابلس
TN|Tunisia|Tunisie|Túnez|تونس|Sfax|Sfax|Sfax|صفاقس
NE|Niger|Niger|Níger|النيجر|Niamey|Niamey|Niamey|نيامي
SD|Sudan|Soudan|Sudán|السودان|Khartoum|Khartoum|Jartum|الخرطوم
SY|Syria|Syrie|Siria|سوريا|Damascus|Damas|Damasco|دمشق
YE|Yemen|Yémen|Yemen|اليمن|Aden|Aden|Adén|عدن
ET|Ethiopia|Éthiopie|Etiopía|إثيوبيا|Addis Ababa|Addis-Abeba|Adís Abeba|أديس أبابا
MA|Morocco|Maroc|Marruecos|المغرب|Rabat|Rabat|Rabat|الرباط
IT|Italy|Italie|Italia|إيطاليا|Rome|Rome|Roma|روما
ML|Mali|Mali|Malí|مالي|Bamako|Bamako|Bamako|باماكو
NG|Nigeria|Nigeria|Nigeria|نيجيريا|Lagos|Lagos|Lagos|لاغوس
AF|Afghanistan|Afghanistan|Afganistán|أفغانستان|Kabul|Kaboul|Kabul|كابول
SO|Somalia|Somalie|Somalia|الصومال|Mogadishu|Mogadiscio|Mogadiscio|مقديشو
IQ|Iraq|Irak|Irak|العراق|Erbil|Erbil|Erbil|أربيل
EG|Egypt|Égypte|Egipto|مصر|Cairo|Le Caire|El Cairo|القاهرة
SN|Senegal|Sénégal|Senegal|السنغال|Dakar|Dakar|Dakar|داكار
UA|Ukraine|Ukraine|Ucrania|أوكرانيا|Kyiv|Kyiv|Kiev|كييف
VE|Venezuela|Venezuela|Venezuela|فنزويلا|Caracas|Caracas|Caracas|كاراكاس
GN|Guinea|Guinée|Guinea|غينيا|Conakry|Conakry|Conakri|كوناكري
DZ|Algeria|Algérie|Argelia|الجزائر|Oran|Oran|Orán|وهران
SS|South Sudan|Soudan du Sud|Sudán del Sur|جنوب السودان|Juba|Djouba|Yuba|جوبا
TD|Chad|Tchad|Chad|تشاد|Abeche|Abéché|Abéché|أبشي
LB|Lebanon|Liban|Líbano|لبنان|Beirut|Beyrouth|Beirut|بيروت
JO|Jordan|Jordanie|Jordania|الأردن|Amman|Amman|Amán|عمان
TR|Türkiye|Turquie|Turquía|تركيا|Gaziantep|Gaziantep|Gaziantep|غازي عنتاب
BD|Bangladesh|Bangladesh|Bangladés|بنغلاديش|Dhaka|Dacca|Daca|دكا
DJ|Djibouti|Djibouti|Yibuti|جيبوتي|Obock|Obock|Obock|أوبوك
GR|Greece|Grèce|Grecia|اليونان|Athens|Athènes|Atenas|أثينا
CO|Colombia|Colombie|Colombia|كولومبيا|Bogotá|Bogota|Bogotá|بوغوتا
MX|Mexico|Mexique|México|المكسيك|Tapachula|Tapachula|Tapachula|تاباتشولا
CI|Côte d'Ivoire|Côte d'Ivoire|Côte d'Ivoire|كوت ديفوار|Abidjan|Abidjan|Abiyán|أبيدجان
BF|Burkina Faso|Burkina Faso|Burkina Faso|بوركينا فاسو|Ouagadougou|Ouagadougou|Uagadugú|واغادوغو
KE|Kenya|Kenya|Kenia|كينيا|Nairobi|Nairobi|Nairobi|نيروبي
ER|Eritrea|Érythrée|Eritrea|إريتريا|Asmara|Asmara|Asmara|أسمرة
GM|Gambia|Gambie|Gambia|غامبيا|Banjul|Banjul|Banjul|بانجول
HT|Haiti|Haïti|Haití|هايتي|Port-au-Prince|Port-au-Prince|Puerto Príncipe|بورت أو برانس
PK|Pakistan|Pakistan|Pakistán|باكستان|Islamabad|Islamabad|Islamabad|إسلام آباد
ES|Spain|Espagne|España|إسبانيا|Madrid|Madrid|Madrid|مدريد
MT|Malta|Malte|Malta|مالطا|Valletta|La Valette|La Valeta|فاليتا
DE|Germany|Allemagne|Alemania|ألمانيا|Berlin|Berlin|Berlín|برلين
UG|Uganda|Ouganda|Uganda|أوغندا|Kampala|Kampala|Kampala|كمبالا
CD|Democratic Republic of the Congo|République démocratique du Congo|República Democrática del \
Congo|جمهورية الكونغو الديمقراطية|Goma|Goma|Goma|غوما
GT|Guatemala|Guatemala|Guatemala|غواتيمالا|Quetzaltenango|Quetzaltenango|Quetzaltenango|كيتزالتينانغو
HN|Honduras|Honduras|Honduras|هندوراس|Tegucigalpa|Tegucigalpa|Tegucigalpa|تيغوسيغالبا
SV|El Salvador|El Salvador|El Salvador|السلفادور|San Salvador|San Salvador|San Salvador|سان سلفادور
EC|Ecuador|Équateur|Ecuador|الإكوادور|Quito|Quito|Quito|كيتو
PE|Peru|Pérou|Perú|بيرو|Lima|Lima|Lima|ليما
IR|Iran|Iran|Irán|إيران|Tehran|Téhéran|Teherán|طهران
MD|Moldova|Moldavie|Moldavia|مولدوفا|Chisinau|Chisinau|Chisinau|كيشيناو
FR|France|France|Francia|فرنسا|Calais|Calais|Calais|كاليه
BE|Belgium|Belgique|Bélgica|بلجيكا|Brussels|Bruxelles|Bruselas|بروكسل
GB|United Kingdom|Royaume-Uni|Reino Unido|المملكة المتحدة|London|Londres|Londres|لندن
US|United States|États-Unis|Estados Unidos|الولايات المتحدة|Washington|Washington|Washington|واشنطن
DO|Dominican Republic|République dominicaine|República Dominicana|جمهورية الدومينيكان|Santo \
Domingo|Saint-Domingue|Santo Domingo|سانتو دومينغو
BR|Brazil|Brésil|Brasil|البرازيل|Boa Vista|Boa Vista|Boa Vista|بوا فيستا
CL|Chile|Chili|Chile|تشيلي|Santiago|Santiago|Santiago|سانتياغو
AR|Argentina|Argentine|Argentina|الأرجنتين|Buenos Aires|Buenos Aires|Buenos Aires|بوينس آيرس
PH|Philippines|Philippines|Filipinas|الفلبين|Manila|Manille|Manila|مانيلا
ID|Indonesia|Indonésie|Indonesia|إندونيسيا|Jakarta|Jakarta|Yakarta|جاكرتا
MM|Myanmar|Myanmar|Myanmar|ميانمار|Yangon|Yangon|Rangún|يانغون
LK|Sri Lanka|Sri Lanka|Sri Lanka|سريلانكا|Colombo|Colombo|Colombo|كولومبو
NP|Nepal|Népal|Nepal|نيبال|Kathmandu|Katmandou|Katmandú|كاتماندو
CM|Cameroon|Cameroun|Camerún|الكاميرون|Yaoundé|Yaoundé|Yaundé|ياوندي
ZA|South Africa|Afrique du Sud|Sudáfrica|جنوب أفريقيا|Johannesburg|Johannesburg|Johannesburgo|جوهانسبرغ
"""

PROJECTS = """
SRI|Safe Routes Initiative
EU-IOM JI|EU-IOM Joint Initiative for Migrant Protection and Reintegration
MIDA|Migration for Development in Africa
COMPASS|Cooperation on Migration and Partnerships to Achieve Sustainable Solutions
PROTECT|Regional Programme for the Protection of Vulnerable and Stranded Migrants
START|Stabilizing At-Risk Communities and Enhancing Migration Management to Enable Smooth Transitions
CRP|Community Reintegration Partnership
MaM|Migrants as Messengers
FMM West Africa|Support to Free Movement of Persons and Migration in West Africa
PROMISE|Poverty Reduction through Safe Migration, Skills Development and Enhanced Job Placement
CREST|Corporate Responsibility in Eliminating Slavery and Trafficking
DSX|Diaspora Skills Exchange
SHORE|Sustainable Host Communities and Orderly Return Enhancement
TRACE|Tracking Routes and Capacities for Emergencies
HAVEN|Health Access for Vulnerable and Excluded Newcomers
"""

# Two collocations per theme and language (en | fr | es | ar, two each, ";"-separated).
THEMES = """
migration-governance|migration governance;migration policy|gouvernance des migrations;politique \
migratoire|gobernanza migratoria;política migratoria|حوكمة الهجرة;سياسة الهجرة
counter-trafficking|human trafficking;victims of trafficking|traite des personnes;victimes de la \
traite|trata de personas;víctimas de trata|الاتجار بالبشر;ضحايا الاتجار
smuggling|migrant smuggling;smuggling networks|trafic de migrants;réseaux de passeurs|tráfico de \
migrantes;redes de tráfico|تهريب المهاجرين;شبكات التهريب
labour-migration|labour migration;migrant workers|migration de travail;travailleurs migrants|migración \
laboral;trabajadores migrantes|هجرة اليد العاملة;العمال المهاجرين
border-management|border management;border crossing points|gestion des frontières;postes \
frontaliers|gestión de fronteras;puestos fronterizos|إدارة الحدود;المنافذ الحدودية
migration-health|migration health;health assessments|santé des migrants;évaluations sanitaires|salud \
migratoria;evaluaciones de salud|صحة المهاجرين;الرعاية الصحية
displacement-tracking|displacement tracking matrix;internally displaced persons|suivi des \
déplacements;personnes déplacées internes|seguimiento del desplazamiento;personas desplazadas \
internas|تتبع النزوح;النازحين داخليا
emergency-response|emergency response;humanitarian assistance|réponse humanitaire;aide \
humanitaire|respuesta de emergencia;asistencia humanitaria|الاستجابة الطارئة;المساعدات الإنسانية
return-reintegration|voluntary return;reintegration assistance|retour volontaire;réintégration \
durable|retorno voluntario;reintegración sostenible|العودة الطوعية;إعادة الإدماج
migrant-protection|migrant protection;vulnerable migrants|protection des migrants;migrants \
vulnérables|protección de migrantes;migrantes vulnerables|حماية المهاجرين;المهاجرين المستضعفين
missing-migrants|missing migrants;migrant deaths|migrants disparus;décès de migrants|migrantes \
desaparecidos;muertes de migrantes|المهاجرين المفقودين;وفيات المهاجرين
climate-environment|climate change;natural disasters|changement climatique;catastrophes \
naturelles|cambio climático;desastres naturales|تغير المناخ;الكوارث الطبيعية
resettlement|refugee resettlement;resettlement programme|réinstallation des réfugiés;programme de \
réinstallation|reasentamiento de refugiados;programa de reasentamiento|إعادة توطين اللاجئين;برنامج \
إعادة التوطين
diaspora-development|diaspora engagement;diaspora and development|transferts de fonds;diaspora et \
développement|remesas familiares;diáspora y desarrollo|تحويلات المغتربين;الجاليات في الخارج
transition-recovery|community stabilization;early recovery|stabilisation communautaire;relèvement \
précoce|estabilización comunitaria;recuperación temprana|الاستقرار المجتمعي;التعافي المبكر
"""

COLLOCATIONS = {
    "en": "United Nations;Director General;local authorities;host communities;Chief of Mission;national "
          "authorities;civil society;social cohesion;capacity building;mental health;psychosocial support;"
          "public health;data collection;technical support;regional cooperation;durable solutions;regular "
          "pathways;basic services;clean water;cash assistance;international cooperation;young people",
    "fr": "Nations Unies;Directeur général;autorités locales;communautés hôtes;chef de mission;autorités "
          "nationales;société civile;cohésion sociale;renforcement des capacités;santé mentale;soutien "
          "psychosocial;santé publique;collecte de données;appui technique;coopération régionale;solutions "
          "durables;voies régulières;services de base;eau potable;transferts monétaires;coopération "
          "internationale;jeunes migrants",
    "es": "Naciones Unidas;Director General;autoridades locales;comunidades de acogida;jefe de misión;"
          "autoridades nacionales;sociedad civil;cohesión social;fortalecimiento de capacidades;salud mental;"
          "apoyo psicosocial;salud pública;recopilación de datos;apoyo técnico;cooperación regional;"
          "soluciones duraderas;vías regulares;servicios básicos;agua potable;transferencias monetarias;"
          "cooperación internacional;jóvenes migrantes",
    "ar": "الأمم المتحدة;المدير العام;السلطات المحلية;المجتمعات المضيفة;رئيس البعثة;السلطات الوطنية;"
          "المجتمع المدني;التماسك الاجتماعي;بناء القدرات;الصحة النفسية;الدعم النفسي;الصحة العامة;"
          "جمع البيانات;الدعم الفني;التعاون الإقليمي;الحلول المستدامة;المسارات النظامية;الخدمات الأساسية;"
          "المياه النظيفة;المساعدات النقدية;التعاون الدولي;الشباب المهاجرين",
}

FUNCTION_WORDS = {
    "en": """the of and to in a for on with by that is was as from at are has have be this were their its
        which will an it been who also more than or not said over into they he she we our these other all
        about after including through between while such during those under since most up can across had
        only them would many some both out per there what when where how each any against before""",
    "fr": """de la le les des et à en du un une pour dans sur par au aux avec qui que est sont a ont été
        plus ce cette ces son sa ses leur leurs il elle ils nous ne pas se ou comme mais aussi entre
        depuis lors selon après avant sans sous vers tout tous très dont où été était sera notamment""",
    "es": """de la el los las y en a que del se por con para un una al es su sus como más o lo ha han fue
        ser este esta estos estas entre sobre también desde hasta durante sin pero muy todo todos según
        tras ante cada donde cuando ya le les otros otras así""",
    "ar": """في من إلى على عن مع أن إن التي الذي الذين هذا هذه ذلك تلك كما وقد قد لا ما كان كانت بين
        خلال حيث بعد قبل عند كل أو ثم لم لن هو هي هم نحو حول منذ حتى إلا أيضا ضمن وفي ومن وعلى ولا""",
}

SEED_WORDS = {
    "en": """migrants migration migrant organization support government return reintegration assistance
        humanitarian people communities community border management protection trafficking victims
        smuggling labour workers health emergency response displaced displacement persons families
        children women youth programme project partners partnership national regional local authorities
        country countries region data tracking matrix report survey camps camp shelter host vulnerable
        refugees asylum seekers resettlement mobility diaspora development climate environment disaster
        floods drought conflict crisis recovery transition stabilization livelihoods training capacity
        officials ministry minister director chief mission office staff teams services access water
        sanitation hygiene food cash distribution kits items relief aid funding donors appeal million
        thousands hundreds voluntary returnees arrivals departures routes sea land desert journey
        dangerous deaths missing bodies search rescue coast guard boats vessel crossing policy framework
        agreement cooperation dialogue governance rights law legal identity documents registration
        screening referral counselling psychosocial mental medical clinics vaccination pandemic outbreak
        cholera tuberculosis awareness campaign information risks irregular regular safe orderly
        dignified pathways employment jobs skills business enterprises income remittances economic
        social integration inclusion cohesion violence exploitation abuse forced recruitment ethical
        employers private sector workshop conference meeting launched announced today week year month
        recent latest together efforts work provide provided ensure continue increase needs urgent
        critical basic essential safety security stability peace stranded detention centres reception
        transit origin destination settlement informal urban rural farmers schools education students
        teachers volunteers leaders religious media journalists stories voices testimonies families
        households survivors assessment monitoring evaluation mapping figures estimates population
        flows trends analysis research study findings launched signed handed equipment vehicles
        solar generators wells latrines tents blankets mattresses hygiene dignity nutrition
        malnutrition hospital ambulance doctors nurses psychologists interpreters lawyers judges
        prosecutors police investigators networks criminal networks routes smugglers traffickers""",
    "fr": """migrants migration migrante organisation internationale soutien gouvernement retour
        réintégration assistance humanitaire personnes communautés frontières gestion protection traite
        victimes trafic travail travailleurs santé urgence réponse déplacés déplacement familles enfants
        femmes jeunes programme projet partenaires partenariat nationale régional locale autorités pays
        région données suivi rapport enquête camps abri hébergement vulnérables réfugiés asile
        réinstallation mobilité diaspora développement climat environnement catastrophe inondations
        sécheresse conflit crise relèvement transition stabilisation moyens subsistance formation
        capacités responsables ministère ministre directeur chef mission bureau personnel équipes
        services accès eau assainissement hygiène nourriture espèces distribution kits articles secours
        aide financement donateurs appel millions milliers centaines volontaire rapatriés arrivées
        départs routes mer terre désert voyage dangereux décès disparus corps recherche sauvetage
        bateaux embarcation traversée politique cadre accord coopération dialogue gouvernance droits loi
        juridique identité documents enregistrement dépistage orientation conseil psychosocial mentale
        médical cliniques vaccination pandémie épidémie choléra tuberculose sensibilisation campagne
        information risques irrégulière régulière sûre ordonnée digne voies emploi compétences
        entreprises revenus économique sociale intégration inclusion cohésion violence exploitation abus
        forcé recrutement éthique employeurs privé atelier conférence réunion lancé annoncé semaine
        année mois récents nouveau premier ensemble efforts fournir assurer poursuivre augmentation
        besoins urgents essentiels sécurité stabilité paix bloqués détention centres accueil origine
        destination installation urbaine rurale agriculteurs écoles éducation élèves enseignants
        bénévoles dirigeants médias journalistes histoires témoignages ménages survivants évaluation
        surveillance cartographie chiffres estimations population flux tendances analyse étude
        résultats signé remis équipements véhicules puits latrines tentes couvertures matelas
        nutrition malnutrition hôpital médecins infirmiers psychologues interprètes avocats juges police
        réseaux criminels passeurs trafiquants déclaré souligné ajouté""",
    "es": """migrantes migración migrante organización internacional apoyo gobierno retorno reintegración
        asistencia humanitaria personas comunidades fronteras gestión protección trata víctimas tráfico
        trabajo trabajadores salud emergencia respuesta desplazados desplazamiento familias niños
        mujeres jóvenes programa proyecto socios alianza nacional regional local autoridades país
        países región datos seguimiento informe encuesta campamentos albergue refugio vulnerables
        refugiados asilo reasentamiento movilidad diáspora desarrollo clima ambiente desastre
        inundaciones sequía conflicto crisis recuperación transición estabilización medios vida
        capacitación capacidades funcionarios ministerio ministro director jefe misión oficina personal
        equipos servicios acceso agua saneamiento higiene alimentos efectivo distribución kits artículos
        socorro ayuda financiación donantes llamamiento millones miles cientos voluntario retornados
        llegadas salidas rutas mar tierra desierto viaje peligroso muertes desaparecidos cuerpos
        búsqueda rescate embarcaciones barco cruce política marco acuerdo cooperación diálogo gobernanza
        derechos ley jurídica identidad documentos registro detección derivación orientación
        psicosocial mental médica clínicas vacunación pandemia brote cólera tuberculosis sensibilización
        campaña información riesgos irregular regular segura ordenada digna vías empleo habilidades
        empresas ingresos económica social integración inclusión cohesión violencia explotación abuso
        forzoso reclutamiento ético empleadores privado taller conferencia reunión lanzó anunció semana
        año mes recientes nuevo primer juntos esfuerzos proporcionar garantizar continuar aumento
        necesidades urgentes esenciales seguridad estabilidad paz varados detención centros acogida
        origen destino asentamiento urbana rural agricultores escuelas educación estudiantes maestros
        voluntarios líderes medios periodistas historias testimonios hogares sobrevivientes evaluación
        monitoreo mapeo cifras estimaciones población flujos tendencias análisis estudio resultados
        firmó entregó equipos vehículos pozos letrinas carpas mantas colchones nutrición desnutrición
        hospital médicos enfermeras psicólogos intérpretes abogados jueces policía redes criminales
        traficantes coyotes afirmó señaló añadió""",
    "ar": """المنظمة الدولية للهجرة الهجرة المهاجرين المهاجرون مهاجر اللاجئين لاجئ النازحين النزوح العودة
        الطوعية إعادة الإدماج الحماية الاتجار التهريب الحدود إدارة الحكومة الوزارة وزير الدعم المساعدة
        المساعدات الإنسانية الصحة الصحية الطبية المجتمعات المحلية المجتمع الأسر الأطفال النساء الشباب
        البرنامج المشروع الشركاء الشراكة الوطنية الإقليمية السلطات البلدان البلد المنطقة البيانات التتبع
        التقرير المسح المخيمات المخيم المأوى الضعفاء طالبي اللجوء التوطين التنقل الجاليات التنمية المناخ
        البيئة الكوارث الفيضانات الجفاف النزاع الأزمة التعافي الاستقرار سبل العيش التدريب القدرات
        المسؤولين المكتب الموظفين الفرق الخدمات الوصول المياه الصرف النظافة الغذاء النقدية التوزيع المواد
        الإغاثة التمويل المانحين النداء مليون آلاف مئات العائدين الوافدين الطرق البحر البر الصحراء الرحلة
        الخطرة الوفيات المفقودين البحث الإنقاذ خفر السواحل القوارب عبور السياسات الإطار الاتفاق التعاون
        الحوار الحوكمة الحقوق القانون القانونية الهوية الوثائق التسجيل الفحص الإحالة الإرشاد النفسي
        الاجتماعي اللقاحات التطعيم الجائحة تفشي الكوليرا التوعية الحملة المعلومات المخاطر النظامية
        الآمنة الكرامة العمل العمال التوظيف المهارات الأعمال الدخل التحويلات الاقتصادية الاندماج العنف
        الاستغلال الانتهاكات القسري أصحاب القطاع الخاص ورشة مؤتمر اجتماع أطلقت أعلنت اليوم الأسبوع العام
        الشهر الأشهر الجديد الأول الثاني الجهود تقديم قدمت ضمان مواصلة زيادة الاحتياجات العاجلة الأساسية
        السلامة الأمن السلام العالقين الاحتجاز مراكز الاستقبال المنشأ الوجهة الحضرية الريفية المزارعين
        المدارس التعليم الطلاب المعلمين المتطوعين القادة الإعلام الصحفيين القصص الشهادات الناجين التقييم
        الرصد الأرقام التقديرات السكان التدفقات الاتجاهات التحليل الدراسة النتائج وقعت سلمت المعدات
        المركبات الآبار الخيام البطانيات التغذية سوء المستشفى الأطباء الممرضين المحامين الشرطة الشبكات
        الإجرامية المهربين المتاجرين قال قالت أكد أضاف أوضح""",
}

SUFFIXES = {
    "en": "s ed ing er ers ly al ion ions ity ment ments ness ive ism ist",
    "fr": "s e es ment tion tions eur eurs ique iques ité age ée ées ant ants aient",
    "es": "s es a as o os ción ciones mente dad ero era ando ado ada ados adas",
    "ar": "ة ات ين ون ي ها هم نا",
}
ARABIC_PREFIXES = ("و", "ب", "ل", "ف", "ال", "وال", "بال", "لل")
ARABIC_ROOT_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
ARABIC_PATTERNS = ("فعل", "فاعل", "مفعول", "تفعيل", "فعال", "فعيل", "مفاعلة", "استفعال", "انفعال", "افتعال",
                   "تفاعل", "مفعل", "فعالة", "فعول", "مفعلة")
SYLLABLES = {  # onsets | nuclei | codas | endings
    "en": ("b c d f g h j k l m n p r s t v w br cr dr fr gr pr tr st sp ch sh th pl cl bl sc",
           "a e i o u a e i o ea ou ai ie oo", "n r s t l m nd nt st ck rt ng",
           "tion ment ness ing ed er al ity y"),
    "fr": ("b c d f g j l m n p r s t v qu ch gn br cr dr fr gr pr tr pl cl bl",
           "a e i o u é è ou ai eu au oi an en on in", "n r s l t",
           "tion ment age eur ique ité elle ette oir"),
    "es": ("b c d f g j l ll m n ñ p r s t v z br cr dr fr gr pr tr ch pl cl bl",
           "a e i o u ue ie ia io á é í ó", "n s r",
           "ción dad mente ero ista o a os as"),
}
FIRST_NAMES = ("Amina Omar Sarah Jean Marie Carlos Lucía Fatima Ahmed Ibrahim Aisha Paul Anna David Elena "
               "Mohamed Nadia Pedro Sofia Yusuf Grace Joseph Leila Hassan Claire Diego Ana Samuel Mariam "
               "Tariq")
LAST_NAMES = ("Mensah Haddad Diallo Martin García Okafor Rossi Nguyen Kamara Hussein Dubois López Traoré "
              "Schmidt Abdi Mendoza Karimi Sow Petrov Santos Keita Osman Fernández Johnson Ndiaye Moreau "
              "Rahman Costa Benali Amrani")
SAID = {"en": '"{s}," said {name}, IOM Chief of Mission in {country}',
        "fr": "« {s} », a déclaré {name}, chef de mission de l'OIM en {country}",
        "es": '"{s}", afirmó {name}, jefe de misión de la OIM en {country}',
        "ar": "«{s}»، قال {name}، رئيس بعثة المنظمة الدولية للهجرة في {country}"}
SITES = (("iom", 0.70, None), ("iom-libya", 0.85, "LY"), ("iom-tunisia", 1.0, "TN"))

T = TypeVar("T")


@dataclass(frozen=True)
class Country:
    """A country: ISO code, and its name and main city in each language."""

    code: str
    names: dict[str, str]
    cities: dict[str, str]


@dataclass(frozen=True)
class Vocabulary:
    """One language's words by rank, their cumulative Zipf weights, and its collocations."""

    language: str
    words: list[str]
    cum_weights: list[float]
    first_content: int
    collocations: list[str]
    theme_phrases: dict[str, list[str]]


def zipf_cum_weights(n: int, exponent: float, shift: float = 0.0) -> list[float]:
    """Return cumulative weights 1/(rank + shift)**exponent for ranks 1..n (Zipf-Mandelbrot).

    >>> [round(w, 3) for w in zipf_cum_weights(3, 1.0)]
    [1.0, 1.5, 1.833]
    """
    return list(itertools.accumulate(1.0 / (rank + shift) ** exponent for rank in range(1, n + 1)))


def load_countries() -> list[Country]:
    """Parse the country table, most frequent first."""
    countries = []
    for line in COUNTRIES.strip().splitlines():
        code, *cells = line.split("|")
        countries.append(Country(code, dict(zip(LANGUAGES, cells[:4], strict=True)),
                                 dict(zip(LANGUAGES, cells[4:], strict=True))))
    return countries


def load_projects() -> list[dict[str, str]]:
    """Parse the project table, most frequent first."""
    return [dict(zip(("acronym", "name"), line.split("|"), strict=True))
            for line in PROJECTS.strip().splitlines()]


def load_theme_phrases() -> dict[str, dict[str, list[str]]]:
    """Return theme id -> language -> collocations."""
    themes = {}
    for line in THEMES.strip().splitlines():
        theme, *cells = line.split("|")
        themes[theme] = {lang: cell.split(";") for lang, cell in zip(LANGUAGES, cells, strict=True)}
    return themes


def _derived_forms(stem: str, language: str) -> list[str]:
    if language == "ar":
        bare = stem[2:] if stem.startswith("ال") and len(stem) > 4 else stem
        return [p + bare for p in ARABIC_PREFIXES] + [bare + s for s in SUFFIXES["ar"].split()]
    forms = []
    for suffix in SUFFIXES[language].split():
        base = stem[:-1] if stem[-1] in "aeiouys" and suffix[0] in "aeiouéy" else stem
        forms.append(base + suffix)
    return forms


def _made_up_word(rng: random.Random, language: str) -> str:
    if language == "ar":
        root = rng.sample(ARABIC_ROOT_LETTERS, 3)
        word = rng.choice(ARABIC_PATTERNS).replace("ف", root[0]).replace("ع", root[1]).replace("ل", root[2])
        if rng.random() < 0.3:
            word += rng.choice(("ة", "ات", "ين", "ي"))
        return ("ال" + word) if rng.random() < 0.4 else word
    onsets, nuclei, codas, endings = (part.split() for part in SYLLABLES[language])
    syllables = [rng.choice(onsets) + rng.choice(nuclei) + (rng.choice(codas) if rng.random() < 0.3 else "")
                 for _ in range(rng.choice((1, 2, 2, 3)))]
    if rng.random() < 0.35:
        syllables.append(rng.choice(endings))
    return "".join(syllables)


def build_vocabulary(language: str, size: int = VOCABULARY_SIZE) -> Vocabulary:
    """Build a language's ranked vocabulary; the same for every corpus seed."""
    rng = random.Random(f"pressroom-bench-vocabulary-{language}")
    function_words = list(dict.fromkeys(FUNCTION_WORDS[language].split()))
    listed = [w for w in dict.fromkeys(SEED_WORDS[language].split()) if w not in function_words]
    # Keep the seed order roughly (most typical first) but not exactly.
    jitter = {w: i + rng.random() * 60 for i, w in enumerate(listed)}
    seeds = sorted(listed, key=jitter.__getitem__)
    known = set(function_words) | set(seeds)
    # Derived forms lean to the upper ranks, made-up words to the tail.
    rest: dict[str, float] = {}
    for stem in seeds:
        for form in _derived_forms(stem, language):
            if form not in known:
                rest.setdefault(form, rng.random() * 0.7)
    while len(rest) + len(known) < size:
        word = _made_up_word(rng, language)
        if word not in known:
            rest.setdefault(word, 0.15 + rng.random() * 0.85)
    words = (function_words + seeds + sorted(rest, key=rest.__getitem__))[:size]
    themes = load_theme_phrases()
    return Vocabulary(language, words, zipf_cum_weights(len(words), ZIPF_EXPONENT, ZIPF_SHIFT),
                      len(function_words),
                      COLLOCATIONS[language].split(";"),
                      {theme: phrases[language] for theme, phrases in themes.items()})


def _zipf_pick(rng: random.Random, items: list[T], cum: list[float]) -> T:
    return rng.choices(items, cum_weights=cum)[0]


class _Generator:
    """Holds the tables and the one random stream that the releases are drawn from, in order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabularies = {lang: build_vocabulary(lang) for lang in LANGUAGES}
        self.countries = load_countries()
        self.projects = load_projects()
        self.themes = list(load_theme_phrases())
        self.country_cum = zipf_cum_weights(len(self.countries), 1.0)
        self.project_cum = zipf_cum_weights(len(self.projects), 0.8)
        self.theme_cum = zipf_cum_weights(len(self.themes), 0.7)
        self.first_names, self.last_names = FIRST_NAMES.split(), LAST_NAMES.split()
        # titles are light on function words: they draw from the second half of them on
        self.title_words = {lang: _tail(voc, voc.first_content // 2)
                            for lang, voc in self.vocabularies.items()}
        self.general_cum = {lang: zipf_cum_weights(len(voc.collocations), 1.0)
                            for lang, voc in self.vocabularies.items()}

    def release(self, index: int) -> dict[str, object]:
        """Make the next release; `index` only makes its URL unique."""
        rng = self.rng
        language = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
        voc = self.vocabularies[language]
        draw = rng.random()
        site, forced = next((key, code) for key, upper, code in SITES if draw < upper)
        countries = self._countries(forced)
        projects = [_zipf_pick(rng, self.projects, self.project_cum)] if rng.random() < 0.2 else []
        themes = self._themes()
        city = countries[0].cities[language]
        dateline = city if rng.random() < 0.7 else None
        published = FIRST_DAY + timedelta(days=int((LAST_DAY - FIRST_DAY).days * rng.random() ** 0.8))
        captured = datetime(published.year, published.month, published.day) + timedelta(
            days=rng.randrange(30), seconds=rng.randrange(86_400))
        title = self._title(voc, countries[0].names[language], themes)
        mentions = self._mentions(voc, countries, city, projects, themes)
        speaker = f"{rng.choice(self.first_names)} {rng.choice(self.last_names)}"
        body = self._body(voc, mentions, dateline, SAID[language].replace("{name}", speaker)
                          .replace("{country}", countries[0].names[language]))
        url = f"https://news.example.org/{language}/news/{_slug(title, index)}"
        return {"id": "r-" + hashlib.sha256(url.encode()).hexdigest()[:16], "url": url, "site": site,
                "language": language, "title": title, "published": published.isoformat(), "updated": None,
                "captured": f"{captured.isoformat()}+00:00", "dateline": dateline,
                "countries": [c.code for c in countries], "projects": projects, "themes": themes,
                "donors": [], "contacts": self._contacts(countries[0].cities["en"]), "body": body,
                "translations": [],
                # the same hash as archive.release.content_hash
                "content_hash": "sha256:" + hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest(),
                "version": 1}

    def _countries(self, forced: str | None) -> list[Country]:
        rng = self.rng
        picked = [next(c for c in self.countries if c.code == forced)] if forced else []
        wanted = 2 if rng.random() < 0.3 else 1
        while len(picked) < wanted:
            country = _zipf_pick(rng, self.countries, self.country_cum)
            if country not in picked:
                picked.append(country)
        return picked

    def _themes(self) -> list[str]:
        wanted = self.rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        themes: list[str] = []
        while len(themes) < wanted:
            theme = _zipf_pick(self.rng, self.themes, self.theme_cum)
            if theme not in themes:
                themes.append(theme)
        return themes

    def _title(self, voc: Vocabulary, country: str, themes: list[str]) -> str:
        rng = self.rng
        pieces = []
        if rng.random() < 0.7:
            pieces.append(country)
        if rng.random() < 0.5:
            pieces.append(rng.choice(voc.theme_phrases[themes[0]]))
        wanted = rng.randint(6, 14)
        count = sum(p.count(" ") + 1 for p in pieces)
        words, cum = self.title_words[voc.language]
        pool = rng.choices(words, cum_weights=cum, k=max(0, wanted - count))
        for piece in pieces:
            pool.insert(rng.randrange(len(pool) + 1), piece)
        title = " ".join(pool)
        return title[:1].upper() + title[1:]

    def _mentions(self, voc: Vocabulary, countries: list[Country], city: str,
                  projects: list[dict[str, str]], themes: list[str]) -> list[str]:
        rng = self.rng
        lang = voc.language
        mentions = [c.names[lang] for c in countries for _ in range(rng.randint(1, 3))]
        mentions += [city] * rng.randint(1, 2)
        if rng.random() < 0.3:
            mentions.append(_zipf_pick(rng, self.countries, self.country_cum).names[lang])
        for project in projects:
            mentions.append(f"{project['name']} ({project['acronym']})")
            mentions += [project["acronym"]] * rng.randint(0, 2)
        theme_phrases = [p for theme in themes for p in voc.theme_phrases[theme]]
        mentions += [rng.choice(theme_phrases) for _ in range(rng.randint(2, 6))]
        mentions += rng.choices(voc.collocations, cum_weights=self.general_cum[lang], k=rng.randint(1, 5))
        return mentions

    def _body(self, voc: Vocabulary, mentions: list[str], dateline: str | None, said: str) -> str:
        rng = self.rng
        target = rng.randint(335, 385)  # the mentions add some 15-30 words
        paragraphs = rng.randint(4, 7)
        slots: dict[int, list[str]] = {}
        for mention in mentions:
            slots.setdefault(rng.randrange(target // 20), []).append(mention)
        pool = rng.choices(voc.words, cum_weights=voc.cum_weights, k=target + 40)
        comma = "،" if voc.language == "ar" else ","
        sentences: list[str] = []
        used = 0
        while used < target:
            length = max(8, min(8 + int(rng.random() * 23), target - used))
            words = pool[used:used + length]
            used += length
            for mention in slots.get(len(sentences), ()):
                words.insert(rng.randrange(1, len(words)), mention)
            if rng.random() < 0.25:
                words.insert(rng.randrange(1, len(words)), str(rng.choice((rng.randint(2, 300),
                                                                           rng.randint(300, 50_000),
                                                                           rng.randint(2005, 2026)))))
            if rng.random() < 0.45:
                words[rng.randrange(2, len(words) - 2)] += comma
            sentence = " ".join(words)
            sentences.append(sentence[:1].upper() + sentence[1:])
        bounds = [round(i * len(sentences) / paragraphs) for i in range(paragraphs + 1)]
        sentences[bounds[1]] = said.replace("{s}", sentences[bounds[1]])
        if dateline:
            sentences[0] = f"{dateline} – {sentences[0]}"
        return "\n\n".join(". ".join(sentences[a:b]) + "." for a, b in itertools.pairwise(bounds))

    def _contacts(self, city: str) -> list[dict[str, str]]:
        rng = self.rng
        contacts = []
        for _ in range(rng.choice((1, 1, 2))):
            first, last = rng.choice(self.first_names), rng.choice(self.last_names)
            email = _ascii(f"{first[0]}{last}").lower().replace(" ", "") + "@example.org"
            office = rng.choice((f"IOM {city}", "Media and Communications Division", "IOM Regional Office"))
            phone = f"+{rng.randint(20, 299)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            contacts.append({"name": f"{first} {last}", "office": office, "email": email, "phone": phone})
        return contacts


def _tail(voc: Vocabulary, start: int) -> tuple[list[str], list[float]]:
    base = voc.cum_weights[start - 1] if start else 0.0
    return voc.words[start:], [w - base for w in voc.cum_weights[start:]]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(title: str, index: int) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", _ascii(title).lower()).split()[:8]
    return "-".join([*words, str(index)])


def generate(n: int, seed: int = 0) -> Iterator[dict[str, object]]:
    """Yield n releases, the same ones for the same seed."""
    generator = _Generator(seed)
    for index in range(n):
        yield generator.release(index)


def write_jsonl(path: Path, n: int, seed: int = 0) -> int:
    """Write n releases as JSON lines (through a temporary file, so a half-written file never stays)."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8") as out:
        for release in generate(n, seed):
            out.write(json.dumps(release, ensure_ascii=False) + "\n")
    partial.replace(path)
    return n


def queries(n_each: int = 200, seed: int = 1) -> dict[str, list[dict[str, str]]]:
    """Return term, two-word AND and phrase queries drawn from the corpus vocabularies.

    Words are content words of mid frequency: ranks drawn log-uniformly between the end of the
    function words and rank 5,000 (about 30% to 0.5% of a language's releases). Phrases are the
    collocations that the generator inserts into bodies.
    """
    rng = random.Random(seed)
    vocabularies = {lang: build_vocabulary(lang) for lang in LANGUAGES}

    def word(voc: Vocabulary, top: int) -> str:
        low, high = math.log(voc.first_content + 1), math.log(top)
        return voc.words[int(math.exp(rng.uniform(low, high))) - 1]

    sets: dict[str, list[dict[str, str]]] = {"term": [], "and": [], "phrase": []}
    for kind, items in sets.items():
        for _ in range(n_each):
            voc = vocabularies[rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]]
            if kind == "term":
                q = word(voc, 5000)
            elif kind == "and":
                first = second = word(voc, 2000)
                while second == first:
                    second = word(voc, 2000)
                q = f"{first} {second}"
            else:
                phrases = voc.collocations + [p for ps in voc.theme_phrases.values() for p in ps]
                q = rng.choice(phrases)
            items.append({"q": q, "language": voc.language})
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of releases")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--out", type=Path, default=Path("corpus.jsonl"), help="JSON lines file to write")
    args = parser.parse_args()
    started = time.perf_counter()
    write_jsonl(args.out, args.n, args.seed)
    seconds = time.perf_counter() - started
    print(f"{args.n} releases written to {args.out} in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
