"""Understanding customer messages: language detection, sentence embedders, the intent catalogue, and the
classifier with out-of-scope rejection. Imports nothing else of kefu and no platform SDK.

Public interface (what the rest of kefu may use):

    detect_language(text) -> LanguageGuess                 # intents.language
    load_embedder(spec, threads=None, cache_dir=None)      # intents.embedders -> Embedder
    load_catalogue(path) / IntentCatalogue.from_yaml(text) # intents.catalogue
    IntentClassifier.fit(catalogue, embedder)              # intents.classifier
        .predict(text) -> Prediction, .predict_batch(texts) -> list[Prediction]
        .add_examples(intent, texts)                        # live learning, no restart
"""
