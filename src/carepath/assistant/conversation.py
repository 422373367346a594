"""What a customer's words say beyond their intent: asking for a person, frustration, "that did
not help", "thanks, solved". Small lexicons on purpose: each one decides a hand-off, so a miss
costs one more bot turn and a false hit costs an agent's time, never a lost customer."""

from __future__ import annotations

import re

# "agent", "a human", "real person", "representative", "someone", "operator", "call me"…
_PERSON = re.compile(
    r"\b(agent|human|person|people|representative|rep|operator|advisor|adviser|staff|"
    r"someone real|somebody real|real someone|colleague|call me|phone me|ring me|speak to (?:a |"
    r"an |some)?one|talk to (?:a |an |some)?one|customer service|live chat|manager)\b"
)
_FRUSTRATION = re.compile(
    r"\b(useless|ridiculous|terrible|awful|worst|stupid|pathetic|unacceptable|disgrace(?:ful)?|"
    r"furious|angry|fed up|sick of|(?:is|what) a joke|scam|wtf|ffs|rubbish|garbage|"
    r"waste of (?:my )?time|"
    r"not happy|complain|complaint)\b"
)
_NOT_HELPFUL = re.compile(
    r"\b(did ?n[o']?t help|does ?n[o']?t help|not help(?:ful|ing)?|no help|did ?n[o']?t work|"
    r"does ?n[o']?t work|not what i|"
    r"that'?s not it|wrong answer|not (?:really )?answer)"
)
_HELPFUL = re.compile(
    r"^(?:yes|yep|yeah|great|perfect|thanks?|thank you|cheers|ok thanks?|that helped|"
    r"that helps|solved|all good|sorted)\b.*$"
)
_LETTERS = re.compile(r"[A-Za-z]")
# Shouting: at least this many letters, nearly all capitals.
SHOUT_MIN_LETTERS = 8
SHOUT_SHARE = 0.8


def _words(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def wants_person(text: str) -> bool:
    """ "Talk to a person" in any of its usual phrasings (or the widget's quick reply)."""
    return bool(_PERSON.search(_words(text)))


def is_frustrated(text: str) -> bool:
    """A frustration word, SHOUTING (mostly capitals), or "!!!" / "?!?!"."""
    if _FRUSTRATION.search(_words(text)):
        return True
    if "!!!" in text or "?!?" in text or "!?!" in text:
        return True
    letters = _LETTERS.findall(text)
    upper = sum(1 for c in letters if c.isupper())
    return len(letters) >= SHOUT_MIN_LETTERS and upper / len(letters) >= SHOUT_SHARE


def said_not_helpful(text: str) -> bool:
    return bool(_NOT_HELPFUL.search(_words(text)))


def said_helpful(text: str) -> bool:
    """A short confirmation after an answer ("yes, thanks", "that helped")."""
    words = _words(text).strip(" .!")
    return len(words) <= 40 and bool(_HELPFUL.match(words)) and not said_not_helpful(words)
