"""The words of the domain and the rule that derives an agreement's status.

Plain Python, no Django: the models build their choices from these lists, and
`derive_status` is a pure function of an agreement's events, testable on its own.
"""

from typing import NamedTuple

# Event kinds by phase, in the order of PRODUCT.md section 2. The order matters:
# events on the same day are applied in this order when deriving the status.
KIND_GROUPS = (
    (
        "negotiation",
        "Negotiation",
        (
            ("negotiation-opened", "Negotiation opened", "Formal talks on the agreement begin."),
            ("negotiation-resumed", "Negotiation resumed", "Talks start again after a pause or suspension."),
            ("negotiation-round", "Negotiation round", "One round or session of talks."),
            ("negotiation-suspended", "Negotiation suspended", "Talks are put on hold by one or both sides."),
            (
                "agreement-in-principle",
                "Agreement in principle",
                "Negotiators announce they agree on the substance; the text may still change.",
            ),
            ("text-initialled", "Text initialled", "Negotiators initial the final text; it is not yet signed."),
        ),
    ),
    (
        "domestic",
        "Domestic executive",
        (
            ("legal-review", "Legal review", "A ministry or legislation bureau reviews the text before approval."),
            ("cabinet-approval", "Cabinet approval", "The government (cabinet, council of ministers) approves."),
            (
                "head-of-state-approval",
                "Head-of-state approval",
                "The president or monarch approves or sanctions the agreement domestically.",
            ),
        ),
    ),
    (
        "signature",
        "Signature",
        (("signature", "Signature", "Both parties sign the agreement."),),
    ),
    (
        "legislative",
        "Legislative and judicial",
        (
            ("legislative-submission", "Submitted to legislature", "The government submits the agreement for consent."),
            ("legislative-hearing", "Legislative hearing", "A committee or chamber holds a hearing."),
            ("legislative-committee-report", "Committee report", "A legislative committee reports on the agreement."),
            ("legislative-vote", "Legislative vote", "One chamber votes; the final act of consent is separate."),
            ("legislative-consent", "Legislative consent", "The legislature's final act of consent."),
            (
                "legislative-consent-refused",
                "Legislative consent refused",
                "The legislature refuses its consent.",
            ),
            (
                "legislative-consent-not-required",
                "Legislative consent not required",
                "The agreement does not need the legislature's consent in this country.",
            ),
            ("court-challenge", "Court challenge", "The agreement is challenged before a court."),
            ("court-ruling", "Court ruling", "A court rules on the agreement."),
        ),
    ),
    (
        "consent",
        "Consent to be bound",
        (
            (
                "ratification",
                "Ratification",
                "The international act by which a state consents to be bound (not the domestic approval).",
            ),
            (
                "notification-of-completion",
                "Notification of completion",
                "A party notifies the other that its domestic procedures are complete.",
            ),
            ("exchange-of-notes", "Exchange of notes", "The parties exchange diplomatic notes."),
            (
                "provisional-application",
                "Provisional application",
                "The parties apply the agreement before it enters into force.",
            ),
            ("entry-into-force", "Entry into force", "The agreement becomes binding."),
            ("implementing-legislation", "Implementing legislation", "A law that gives the agreement domestic effect."),
            (
                "official-publication",
                "Official publication",
                "The text is published in an official gazette or treaty series.",
            ),
        ),
    ),
    (
        "life",
        "Life",
        (
            ("renewal", "Renewal", "The agreement is extended for a further term."),
            ("amendment", "Amendment", "The parties change the agreement's text."),
            (
                "suspension-of-operation",
                "Suspension of operation",
                "The agreement's operation is suspended (not the suspension of a termination notice).",
            ),
            ("suspension-lifted", "Suspension lifted", "The agreement operates again after a suspension."),
        ),
    ),
    (
        "exit",
        "Exit",
        (
            ("termination-decision", "Termination decision", "A government decides to end the agreement."),
            ("termination-notice", "Termination notice", "A party gives formal notice that it will end the agreement."),
            (
                "termination-notice-suspended",
                "Termination notice suspended",
                "The effect of a termination notice is put on hold; the agreement stays in force.",
            ),
            (
                "termination-notice-withdrawn",
                "Termination notice withdrawn",
                "A party withdraws its termination notice.",
            ),
            ("expiry", "Expiry", "The agreement lapses at the end of its term."),
            ("termination", "Termination", "The agreement ends."),
            ("superseded", "Superseded", "A newer agreement replaces this one."),
        ),
    ),
    (
        "context",
        "Context",
        (
            ("statement", "Statement", "Officials, critics or legislators speak about the agreement."),
            ("public-reaction", "Public reaction", "Protests, petitions or polls."),
        ),
    ),
)

EVENT_KINDS = tuple(kind for _, _, kinds in KIND_GROUPS for kind, _, _ in kinds)
KIND_LABELS = {kind: label for _, _, kinds in KIND_GROUPS for kind, label, _ in kinds}
KIND_HELP = {kind: help_text for _, _, kinds in KIND_GROUPS for kind, _, help_text in kinds}
KIND_GROUP = {kind: group for group, _, kinds in KIND_GROUPS for kind, _, _ in kinds}
KIND_POSITION = {kind: position for position, kind in enumerate(EVENT_KINDS)}
# Forty kinds read better under their phase than in one long list.
KIND_CHOICES_BY_GROUP = [(label, [(kind, name) for kind, name, _ in kinds]) for _, label, kinds in KIND_GROUPS]

JOINT = "joint"

EVENT_STATUSES = (
    ("expected", "Expected"),
    ("occurred", "Occurred"),
    ("postponed", "Postponed"),
    ("cancelled", "Did not happen"),
)
OCCURRED = "occurred"
# An event may settle (resolve) only an event that did not happen as announced.
RESOLVABLE_STATUSES = ("expected", "postponed", "cancelled")

CONFIDENCES = (("high", "High"), ("medium", "Medium"), ("low", "Low"))

AGREEMENT_KINDS = (
    ("intelligence-sharing", "Intelligence sharing"),
    ("logistics", "Logistics"),
    ("reciprocal-access", "Reciprocal access"),
    ("defence-cooperation", "Defence cooperation"),
    ("equipment-and-technology", "Equipment and technology"),
    ("other", "Other"),
)

LEGAL_FORMS = (
    ("treaty", "Treaty"),
    ("executive-agreement", "Executive agreement"),
    ("mou", "Memorandum of understanding"),
    ("other", "Other"),
    ("unknown", "Unknown"),
)

ENTRY_INTO_FORCE_RULES = (
    ("on-signature", "On signature"),
    ("on-notification", "On notification (after the parties' notes)"),
    ("on-date", "On a set date"),
    ("unknown", "Unknown"),
)
ON_SIGNATURE = "on-signature"

RELATIONS = (
    ("negotiated-with", "Negotiated with"),
    ("supersedes", "Supersedes"),
    ("amends", "Amends"),
)

# Agreement statuses in lifecycle order (the order a list sorts them in).
AGREEMENT_STATUSES = (
    ("proposed", "Proposed"),
    ("negotiating", "Negotiating"),
    ("stalled", "Stalled"),
    ("initialled", "Initialled"),
    ("signed", "Signed"),
    ("in-force", "In force"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated"),
    ("expired", "Expired"),
    ("superseded", "Superseded"),
)
PROPOSED = "proposed"

NOTICES = (
    ("none", "No notice"),
    ("pending", "Termination notice given"),
    ("suspended", "Termination notice suspended"),
)
NO_NOTICE = "none"

# Which status an occurred event sets; kinds not listed never change it.
STATUS_SET_BY = {
    "negotiation-opened": "negotiating",
    "negotiation-resumed": "negotiating",
    "negotiation-round": "negotiating",
    "agreement-in-principle": "negotiating",
    "negotiation-suspended": "stalled",
    "text-initialled": "initialled",
    "signature": "signed",
    "provisional-application": "in-force",
    "entry-into-force": "in-force",
    "suspension-lifted": "in-force",
    "suspension-of-operation": "suspended",
    "termination": "terminated",
    "expiry": "expired",
    "superseded": "superseded",
}
# Talks after the first signature belong to an amending agreement, not this one.
PRE_SIGNATURE_KINDS = frozenset(
    {
        "negotiation-opened",
        "negotiation-resumed",
        "negotiation-round",
        "agreement-in-principle",
        "negotiation-suspended",
        "text-initialled",
    }
)

NOTICE_SET_BY = {
    "termination-notice": "pending",
    "termination-notice-suspended": "suspended",
    "termination-notice-withdrawn": "none",
    "termination": "none",
    "expiry": "none",
    "superseded": "none",
}


class Step(NamedTuple):
    """What the status rule needs to know of one event."""

    kind: str
    status: str
    start: object  # datetime.date, or None when the date is unknown
    id: int


def derive_status(steps, entry_into_force, as_of=None):
    """Return `(status, notice)` for an agreement with these events.

    Only occurred events with a known date count, those starting on or before
    `as_of` when it is given, ordered by (start, kind's position in the vocabulary,
    id); time and precision never matter.
    """
    counted = sorted(
        (
            step
            for step in steps
            if step.status == OCCURRED and step.start is not None and (as_of is None or step.start <= as_of)
        ),
        key=lambda step: (step.start, KIND_POSITION[step.kind], step.id),
    )
    status, notice, signed = PROPOSED, NO_NOTICE, False
    for step in counted:
        if step.kind in STATUS_SET_BY and not (signed and step.kind in PRE_SIGNATURE_KINDS):
            status = STATUS_SET_BY[step.kind]
            if step.kind == "signature":
                signed = True
                if entry_into_force == ON_SIGNATURE:
                    status = "in-force"
        notice = NOTICE_SET_BY.get(step.kind, notice)
    return status, notice
