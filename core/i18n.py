"""Fixed phrases of the offline facilitator and the chat page, per session language."""

from __future__ import annotations

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Welcome, and thank you for taking part in \"{name}\". I will ask you {questions}, one at a "
        "time. Answer in your own words; you can skip any question or finish whenever you like.",
        "questions_one": "1 question", "questions_many": "{n} questions",
        # a question per critical item that is not already a question; {item} is the brief's words, case kept
        "item_question": ["To start, what has your experience been with {item}?", "How do you see {item}?",
                          "What has worked, and what has not, when it comes to {item}?",
                          "What difference does {item} make for you in practice?",
                          "If you could change one thing about {item}, what would it be, and why?"],
        "question_words": "what|how|why|when|where|who|which|whose|is|are|do|does|did|can|could|should|would|will|"
        "have|has",
        "probe": [
            "Could you say a bit more, perhaps with a concrete example?",
            "What makes you see it that way?",
            "How does that affect you in practice?",
        ],
        "closing_step": "Is there anything else you would like to add that we have not covered?",
        "closing_probe": "Anything at all, even small, is useful.",
        "skip_ack": "No problem, let's move on.",
        "thanks_next": ["Thank you.", "Thanks, that's helpful.", "I appreciate you sharing that.",
                        "That's useful to hear, thank you.", "Thanks for explaining."],
        "probe_pickup": ["You mentioned “{words}”.", "“{words}”: I'd like to hear more.", "You said “{words}”.",
                         "About “{words}”:"],
        "recap_intro": "Thank you, that was the last question. Here is a recap of what you shared:",
        "recap_intro_early": "Thank you, we will stop here; your answers so far are saved. Here is a recap of what "
        "you shared:",
        "recap_skipped": "(skipped)",
        "goodbye": "Thank you for your time. Your answers have been saved; the organisers will see them "
        "together with everyone else's.",
        "turn_limit": "We have reached the limit of this conversation.",
        "offline_note": "Offline facilitator: questions follow the session's guide; no AI model is used.",
        # model mode (issue 3)
        "model_note": "AI facilitator: an AI language model words the questions of the session's guide. It sees "
        "only this conversation.",
        "redaction_note": "Before anything you write is sent to the AI model, email addresses, phone numbers, links, "
        "street addresses, ID numbers and names are replaced with placeholders such as [email] or [name]. Your "
        "words are stored here as you wrote them.",
        "thinking": "Thinking…",
        "retry_apology": "Sorry, I had trouble writing my reply. Trying again…",
        "offline_fallback": "Written by the offline facilitator: the AI model did not answer.",
        "step_of": "Step {i} of {n}",
        "skip": "Skip",
        "finish": "Finish",
        "placeholder": "Type your answer…",
        "skip_words": "skip|pass|i don't know|i dont know|don't know|dont know|no idea|not sure|n/a|idk|no comment",
    },
    "fr": {
        "welcome": "Bienvenue, et merci de participer à « {name} ». Je vais vous poser {questions}, une à la "
        "fois. Répondez avec vos propres mots ; vous pouvez passer une question ou terminer quand vous voulez.",
        "questions_one": "1 question", "questions_many": "{n} questions",
        "item_question": ["Pour commencer : {item}. Quelle est votre expérience ?",
                          "Ensuite : {item}. Comment voyez-vous les choses ?",
                          "{item} : qu'est-ce qui a bien marché, et qu'est-ce qui a moins bien marché ?",
                          "{item} : qu'est-ce que cela change pour vous en pratique ?",
                          "{item} : si vous pouviez changer une chose, laquelle, et pourquoi ?"],
        "question_words": "que|qu'|quel|quelle|quels|quelles|comment|pourquoi|quand|où|qui|est-ce",
        "probe": [
            "Pourriez-vous en dire un peu plus, avec un exemple concret ?",
            "Qu'est-ce qui vous fait voir les choses ainsi ?",
            "Qu'est-ce que cela change pour vous en pratique ?",
        ],
        "closing_step": "Y a-t-il autre chose que vous aimeriez ajouter ?",
        "closing_probe": "Même un petit détail est utile.",
        "skip_ack": "Pas de problème, passons à la suite.",
        "thanks_next": ["Merci.", "Merci, c'est utile.", "Merci de l'avoir partagé.", "C'est précieux, merci.",
                        "Merci pour ces précisions."],
        "probe_pickup": ["Vous avez mentionné « {words} ».", "« {words} » : j'aimerais en savoir plus.",
                         "Vous avez dit « {words} ».", "À propos de « {words} » :"],
        "recap_intro": "Merci, c'était la dernière question. Voici un résumé de vos réponses :",
        "recap_intro_early": "Merci, nous nous arrêtons ici ; vos réponses sont enregistrées. Voici un résumé de vos "
        "réponses :",
        "recap_skipped": "(passée)",
        "goodbye": "Merci pour votre temps. Vos réponses sont enregistrées ; les organisateurs les verront "
        "avec celles des autres participants.",
        "turn_limit": "Nous avons atteint la limite de cette conversation.",
        "offline_note": "Animateur hors ligne : les questions suivent le guide de la session ; aucun modèle d'IA.",
        # model mode (issue 3)
        "model_note": "Animateur IA : un modèle de langage formule les questions du guide de la session. Il ne "
        "voit que cette conversation.",
        "redaction_note": "Avant tout envoi au modèle d'IA, les adresses e-mail, numéros de téléphone, liens, "
        "adresses postales, numéros d'identification et noms sont remplacés par des marques comme [email] ou "
        "[name]. Vos mots sont enregistrés ici tels que vous les avez écrits.",
        "thinking": "Je réfléchis…",
        "retry_apology": "Désolé, je n'ai pas réussi à écrire ma réponse. Nouvel essai…",
        "offline_fallback": "Écrit par l'animateur hors ligne : le modèle d'IA n'a pas répondu.",
        "step_of": "Étape {i} sur {n}",
        "skip": "Passer",
        "finish": "Terminer",
        "placeholder": "Votre réponse…",
        "skip_words": "passer|passe|je ne sais pas|sais pas|aucune idée|pas sûr|pas sure|skip|n/a",
    },
    "es": {
        "welcome": "Bienvenido/a, y gracias por participar en «{name}». Le haré {questions}, una a la vez. "
        "Responda con sus propias palabras; puede saltar cualquier pregunta o terminar cuando quiera.",
        "questions_one": "1 pregunta", "questions_many": "{n} preguntas",
        "item_question": ["Para empezar: {item}. ¿Cuál ha sido su experiencia?",
                          "Ahora: {item}. ¿Cómo lo ve usted?",
                          "{item}: ¿qué ha funcionado y qué no?",
                          "{item}: ¿cómo le afecta en la práctica?",
                          "{item}: si pudiera cambiar una cosa, ¿cuál sería y por qué?"],
        "question_words": "qué|que|cómo|como|por qué|cuándo|dónde|quién|cuál|cuáles",
        "probe": [
            "¿Podría contar un poco más, quizá con un ejemplo concreto?",
            "¿Qué le lleva a verlo así?",
            "¿Cómo le afecta eso en la práctica?",
        ],
        "closing_step": "¿Hay algo más que quiera añadir?",
        "closing_probe": "Cualquier detalle es útil.",
        "skip_ack": "No pasa nada, sigamos.",
        "thanks_next": ["Gracias.", "Gracias, es muy útil.", "Gracias por compartirlo.",
                        "Es valioso, gracias.", "Gracias por explicarlo."],
        "probe_pickup": ["Mencionó «{words}».", "«{words}»: me gustaría saber más.", "Dijo «{words}».",
                         "Sobre «{words}»:"],
        "recap_intro": "Gracias, era la última pregunta. Este es un resumen de lo que compartió:",
        "recap_intro_early": "Gracias, terminamos aquí; sus respuestas están guardadas. Este es un resumen de lo que "
        "compartió:",
        "recap_skipped": "(saltada)",
        "goodbye": "Gracias por su tiempo. Sus respuestas se han guardado; los organizadores las verán junto "
        "con las de los demás.",
        "turn_limit": "Hemos llegado al límite de esta conversación.",
        "offline_note": "Facilitador sin conexión: las preguntas siguen la guía de la sesión; no se usa IA.",
        # model mode (issue 3)
        "model_note": "Facilitador con IA: un modelo de lenguaje formula las preguntas de la guía de la sesión. "
        "Solo ve esta conversación.",
        "redaction_note": "Antes de enviar nada al modelo de IA, los correos, teléfonos, enlaces, direcciones, "
        "números de identificación y nombres se sustituyen por marcas como [email] o [name]. Sus palabras se "
        "guardan aquí tal como las escribió.",
        "thinking": "Pensando…",
        "retry_apology": "Lo siento, no pude escribir mi respuesta. Lo intento de nuevo…",
        "offline_fallback": "Escrito por el facilitador sin conexión: el modelo de IA no respondió.",
        "step_of": "Paso {i} de {n}",
        "skip": "Saltar",
        "finish": "Terminar",
        "placeholder": "Escriba su respuesta…",
        "skip_words": "saltar|paso|no sé|no se|ni idea|no estoy seguro|no estoy segura|skip|n/a",
    },
}


def phrase(language: str, key: str, **values) -> str:
    table = PHRASES.get(language, PHRASES["en"])
    text = table.get(key, PHRASES["en"][key])
    return text.format(**values) if values else text


def phrase_list(language: str, key: str) -> list[str]:
    return list(PHRASES.get(language, PHRASES["en"]).get(key, PHRASES["en"][key]))
