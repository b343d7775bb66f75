"""What the demo's customers and agents say, beyond the shipped intent catalogue's examples (bot/demo.py).

The catalogue gives most of the customers' first messages (in English, Chinese and one line each in Spanish,
German, French, Japanese, Portuguese or Italian). Here are the lines it lacks: Arabic customers, the complaints
about the product whose refunds spike, customers writing again, and what agents answer where no reply template
renders. Keys are language codes as kefu detects them.
"""

from __future__ import annotations

# Arabic customers (the catalogue has no Arabic examples), by intent.
ARABIC: dict[str, tuple[str, ...]] = {
    "order_status": ("أين طلبي؟ لم يصلني أي تحديث منذ أيام", "متى سيتم شحن طلبي؟"),
    "shipping_time": ("كم يستغرق الشحن إلى الإمارات؟",),
    "item_not_received": ("لم أستلم طلبي حتى الآن رغم أن التتبع يقول إنه تم التسليم",),
    "refund_status": ("متى سأسترد أموالي؟ أرسلت المنتج قبل أسبوعين",),
    "return_policy": ("كيف يمكنني إرجاع المنتج؟",),
    "damaged_item": ("وصل المنتج مكسورًا، أريد استبداله",),
    "wrong_item": ("استلمت منتجًا خاطئًا، طلبت اللون الأسود",),
    "cancel_order": ("أريد إلغاء طلبي من فضلك",),
    "product_question": ("هل هذا المنتج مقاوم للماء؟",),
}

# Complaints about the spiking product (wireless earbuds), by intent and language.
SPIKE: dict[str, dict[str, tuple[str, ...]]] = {
    "damaged_item": {
        "en": ("The left earbud stopped charging after two days. I want a replacement or my money back.",
               "My earbuds arrived with a cracked charging case, the lid won't close.",
               "One earbud has no sound at all since I unpacked it, the product is defective."),
        "de": ("Der linke Ohrhörer lädt nach zwei Tagen nicht mehr. Das Produkt ist defekt.",
               "Das Ladecase ist gebrochen angekommen, der Deckel schließt nicht."),
        "fr": ("L'écouteur gauche ne charge plus après deux jours, le produit est défectueux.",),
        "it": ("L'auricolare sinistro non si carica più dopo due giorni, il prodotto è difettoso.",),
        "es": ("El auricular izquierdo dejó de cargar a los dos días, el producto está defectuoso.",),
        "ja": ("左のイヤホンが2日で充電できなくなりました。不良品です。",),
    },
    "refund_status": {
        "en": ("I sent the broken earbuds back last week, when do I get my refund?",),
        "de": ("Ich habe die defekten Kopfhörer zurückgeschickt, wann bekomme ich mein Geld?",),
        "fr": ("J'ai renvoyé les écouteurs défectueux, quand serai-je remboursé ?",),
    },
    "return_policy": {
        "en": ("How do I return these earbuds? They keep disconnecting.",),
        "de": ("Wie kann ich die Ohrhörer zurücksenden? Die Verbindung bricht ständig ab.",),
        "it": ("Come posso restituire questi auricolari? Si disconnettono continuamente.",),
    },
}

# A customer writing again while their ticket is open.
FOLLOW_UP: dict[str, str] = {
    "en": "Any update on this? I'm still waiting.",
    "de": "Gibt es schon Neuigkeiten? Ich warte immer noch.",
    "es": "¿Hay alguna novedad? Sigo esperando.",
    "fr": "Avez-vous du nouveau ? J'attends toujours.",
    "it": "Ci sono novità? Sto ancora aspettando.",
    "ja": "その後どうなりましたか？まだ待っています。",
    "zh": "请问有进展了吗？我还在等。",
    "ar": "هل هناك أي تحديث؟ ما زلت أنتظر.",
    "pt": "Alguma novidade? Ainda estou esperando.",
}

# What an agent writes when no reply template renders for the ticket.
AGENT_FALLBACK: dict[str, str] = {
    "en": "Thanks for your patience, I'm looking into this now and will get back to you today.",
    "de": "Danke für Ihre Geduld, ich kümmere mich jetzt darum und melde mich heute noch.",
    "es": "Gracias por su paciencia, lo estoy revisando y le respondo hoy mismo.",
    "fr": "Merci de votre patience, je m'en occupe et je reviens vers vous aujourd'hui.",
    "it": "Grazie per la pazienza, me ne occupo subito e le rispondo oggi stesso.",
    "ja": "お待たせして申し訳ございません。ただいま確認しており、本日中にご連絡いたします。",
    "zh": "感谢您的耐心等待，我正在处理，今天内给您答复。",
    "ar": "شكرًا لصبرك، أنا أتابع طلبك الآن وسأعود إليك اليوم.",
    "pt": "Obrigado pela paciência, estou verificando e retorno hoje mesmo.",
}

# Customers' names by country.
NAMES: dict[str, tuple[str, ...]] = {
    "US": ("Emily Carter", "James Miller", "Olivia Brown", "Michael Davis"),
    "GB": ("Oliver Smith", "Amelia Jones", "Harry Wilson"),
    "CA": ("Chloé Tremblay", "Liam Roy", "Noah Gagnon"),
    "AU": ("Jack Taylor", "Charlotte White", "William Martin"),
    "DE": ("Lena Schmidt", "Jonas Müller", "Mia Wagner", "Felix Becker"),
    "FR": ("Camille Dubois", "Lucas Moreau", "Léa Laurent"),
    "IT": ("Giulia Rossi", "Marco Bianchi", "Sofia Romano"),
    "ES": ("Lucía García", "Hugo Fernández", "Martina López"),
    "MX": ("Valeria Hernández", "Santiago Martínez", "Regina Torres"),
    "BR": ("Ana Souza", "Pedro Oliveira", "Beatriz Lima"),
    "JP": ("Haruto Sato", "Yui Suzuki", "Ren Takahashi"),
    "SG": ("Tan Wei Ling", "Lim Jun Hao", "Chen Mei"),
    "AE": ("Fatima Al Mansoori", "Omar Haddad", "Layla Nasser"),
    "SA": ("Abdullah Al Qahtani", "Noura Al Harbi", "Khalid Al Otaibi"),
}
