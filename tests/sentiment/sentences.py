"""A small multilingual sentiment test set, written for this test (none of these sentences is a training example
in intents/sentiment.yaml): clear cases of customer-service messages, (language, expected mood, text)."""

from __future__ import annotations

CLEAR_CASES: tuple[tuple[str, str, str], ...] = (
    # English
    ("en", "negative", "This is outrageous, my parcel is lost and your support keeps ignoring me"),
    ("en", "negative", "Awful shop. The shoes fell apart and I want a full refund right now"),
    ("en", "negative", "I'm sick of your excuses, worst purchase of my life"),
    ("en", "negative", "Very bad experience, the charger burned and nobody cares"),
    ("en", "neutral", "Could you tell me the tracking number for order 7781?"),
    ("en", "neutral", "Do you deliver to Norway and how much does it cost?"),
    ("en", "neutral", "I need to update the phone number on my order"),
    ("en", "neutral", "Is the blue backpack back in stock?"),
    ("en", "positive", "Got my headphones today, they sound fantastic. Thank you!"),
    ("en", "positive", "Thanks Mei, you solved it in two minutes, really appreciate it"),
    ("en", "positive", "Lovely quality and fast shipping, very pleased"),
    ("en", "positive", "Perfect, that's exactly what I needed, thanks a lot"),
    # Chinese
    ("zh", "negative", "快递丢了也没人管，太过分了"),
    ("zh", "negative", "买到假货了，非常愤怒，必须退钱"),
    ("zh", "negative", "这是什么垃圾质量，气死了"),
    ("zh", "neutral", "请问可以寄到香港吗"),
    ("zh", "neutral", "我想查一下物流单号"),
    ("zh", "neutral", "这个尺码偏大还是偏小"),
    ("zh", "positive", "宝贝收到了，很漂亮，谢谢卖家"),
    ("zh", "positive", "客服回复很快，非常满意"),
    ("zh", "positive", "质量超好，推荐给朋友了"),
    # Spanish
    ("es", "negative", "Qué desastre, el pedido llegó incompleto y nadie me contesta"),
    ("es", "negative", "Estoy indignado, me cobraron dos veces y no me devuelven nada"),
    ("es", "negative", "Pésima atención, no vuelvo a comprar aquí"),
    ("es", "neutral", "¿Podéis enviarlo a Canarias?"),
    ("es", "neutral", "Quisiera saber el plazo de entrega a Chile"),
    ("es", "neutral", "¿Cuál es el horario de atención al cliente?"),
    ("es", "positive", "¡Muchísimas gracias! Todo llegó en perfecto estado"),
    ("es", "positive", "Encantada con la compra, la calidad es estupenda"),
    ("es", "positive", "Un servicio de diez, gracias por vuestra ayuda"),
    # German
    ("de", "negative", "Unverschämt, seit drei Wochen keine Antwort und kein Paket"),
    ("de", "negative", "Totaler Schrott, das Gerät ist sofort kaputtgegangen"),
    ("de", "negative", "Ich bin stinksauer, Sie haben mir zweimal abgebucht"),
    ("de", "neutral", "Liefern Sie auch in die Schweiz?"),
    ("de", "neutral", "Wie lautet die Sendungsnummer meiner Bestellung?"),
    ("de", "neutral", "Kann ich per Rechnung bezahlen?"),
    ("de", "positive", "Super, alles angekommen, vielen herzlichen Dank!"),
    ("de", "positive", "Sehr netter Kundenservice, ich bin begeistert"),
    ("de", "positive", "Top Qualität, bestelle gerne wieder"),
    # French
    ("fr", "negative", "C'est scandaleux, mon colis a disparu et personne ne m'aide"),
    ("fr", "negative", "Produit de très mauvaise qualité, je suis furieux"),
    ("fr", "negative", "Service catastrophique, plus jamais chez vous"),
    ("fr", "neutral", "Livrez-vous en Suisse ?"),
    ("fr", "neutral", "Quel est le numéro de suivi de ma commande ?"),
    ("fr", "neutral", "Est-ce que ce modèle existe en noir ?"),
    ("fr", "positive", "Merci infiniment, la commande est arrivée en parfait état"),
    ("fr", "positive", "Super boutique, je suis ravie de mon achat"),
    ("fr", "positive", "Excellent service, merci pour votre réactivité"),
    # Japanese
    ("ja", "negative", "対応が遅すぎて本当に不愉快です"),
    ("ja", "negative", "届いた商品が偽物でした。許せません"),
    ("ja", "neutral", "海外への発送は可能ですか"),
    ("ja", "neutral", "支払い方法を変更できますか"),
    ("ja", "positive", "とても丁寧な対応で感動しました。ありがとうございます"),
    ("ja", "positive", "素敵な商品で大満足です"),
    # Portuguese, Italian
    ("pt", "negative", "Que vergonha, paguei e nunca recebi nada"),
    ("pt", "neutral", "Vocês entregam no Brasil?"),
    ("pt", "positive", "Adorei o atendimento, muito obrigada"),
    ("it", "negative", "Che schifo, il prodotto è difettoso e nessuno risponde"),
    ("it", "neutral", "Spedite anche in Svizzera?"),
    ("it", "positive", "Tutto perfetto, grazie di cuore"),
)
