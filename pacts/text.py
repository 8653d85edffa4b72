"""What the text people enter may hold: how long it may be, and which characters it may not.

Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what
follows them, so that a title reads differently from what it says ("Trojan Source");
zero-width spaces, word joiners and byte-order marks (U+200B, U+2060, U+FEFF) make two
texts that look the same differ, and so defeat matching and search. None is needed to
write any language: pages show user text with `dir="auto"`, which takes the direction
of Arabic or Hebrew from the text itself. The joiners that scripts and emoji need
(U+200C, U+200D) and the directional marks (U+200E, U+200F) are allowed.

Control characters other than tab and line breaks are not text at all, and XML (the
feeds) cannot carry them. Line breaks belong in paragraphs (summaries, notes, quotes),
not in a name, a title or a one-line summary, where they would forge lines in a
calendar file or a log.

Such characters are refused with a message naming them, by the forms and the importer
alike, rather than silently removed: what is stored is what was typed, and a pacts/1
file imports and exports unchanged. (NUL is refused the same way, by Django's own
form fields and by the importer.)
"""

import re
import unicodedata

from django.db.models import CheckConstraint, Q

# Free text without a length of its own in the database (summaries, notes).
LONG_TEXT_LENGTH = 20_000
# The reason for a change, as django-simple-history's `history_change_reason` column holds it.
REASON_LENGTH = 100

HIDDEN_CHARACTERS = (
    "\u200b\u2060\ufeff"  # zero width space, word joiner, zero width no-break space (byte-order mark)
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
CONTROL_CHARACTERS = "\x01-\x08\x0b\x0c\x0e-\x1f\x7f"  # C0 and DEL, less tab, line feed and carriage return
LINE_BREAKS = "\r\n\x0b\x0c\x85\u2028\u2029"

_HIDDEN = re.compile(f"[{HIDDEN_CHARACTERS}]")
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_LINE_BREAK = re.compile(f"[{LINE_BREAKS}]")


def refused_character(text, one_line=False):
    """What is wrong with the first character `text` may not hold (see above), or None."""
    if found := _HIDDEN.search(text):
        return f"contains the invisible character {described(found)}; remove it: it hides or reorders text"
    if found := _CONTROL.search(text):
        return f"contains the control character {described(found)}; remove it"
    if one_line and (found := _LINE_BREAK.search(text)):
        return f"is one line, but contains a line break ({described(found)}); remove it"
    return None


def described(found):
    character = found.group()
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}{' ' + name if name else ''} (character {found.start() + 1})"


def text_constraint(field, name, one_line=False):
    """The database's side of `refused_character`: a CheckConstraint on `field`."""
    refused = HIDDEN_CHARACTERS + CONTROL_CHARACTERS + (LINE_BREAKS if one_line else "")
    what = "hidden or control characters, or line breaks" if one_line else "hidden or control characters"
    return CheckConstraint(
        condition=~Q(**{f"{field}__regex": f"[{refused}]"}),
        name=name,
        violation_error_message=f"The {field.replace('_', ' ')} cannot hold {what}; remove them.",
    )
