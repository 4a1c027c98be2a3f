"""Text a patient reads carries no internal references: source keys (S12, S24–S26), section signs (§3) and
mentions of the domain reference live in code comments and, at most, a staff-only tooltip."""

import re

# "(S54, S55)", "(§5: S51, S52, S54)", "S24–S26", "§3", "domain reference §8", "[U]".
_KEY = r"(?:S\d{1,2}(?:\s*[–-]\s*S?\d{1,2})?|§\s?\d+(?:\.\d+)*|\[[ECU](?:/[ECU])?\])"
_PARENTHESISED = re.compile(
    r"\s*\((?:[^()]*?(?:see\s+)?(?:the\s+)?domain reference[^()]*|(?:[^()]*?:\s*)?" + _KEY + r"(?:[\s,;:]+" + _KEY + r")*)\)"
)
_BARE = re.compile(r"(?:\s*[,;]\s*|\s+)?\b(?:the\s+)?domain reference(?:\s+" + _KEY + r")?|(?<![\w(])" + _KEY + r"(?![\w])")
SOURCE_KEY_PATTERN = re.compile(r"(?<![\w])(?:S\d{1,2}(?!\d)|§\s?\d)|domain reference")


def contains_source_key(text: str) -> bool:
    return bool(SOURCE_KEY_PATTERN.search(text or ""))


def without_source_keys(text: str) -> str:
    """The text with internal references removed, and the spaces and punctuation they leave tidied."""
    if not text:
        return text
    cleaned = _PARENTHESISED.sub("", text)
    cleaned = _BARE.sub("", cleaned)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    cleaned = re.sub(r"([;,])(?:\s*[;,])+", r"\1", cleaned)
    cleaned = re.sub(r"[;,]\s*\)", ")", cleaned)
    cleaned = re.sub(r"\(\s*\)", "", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned.strip() if text == text.strip() else cleaned
